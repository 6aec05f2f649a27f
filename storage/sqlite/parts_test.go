package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/incident/storetest"
)

// The schema refuses what the domain never builds: a checklist item of no
// kind fails its CHECK, and the whole Update with it. (Removing or
// reordering parts is refused by every store: incident/storetest.)
func TestUpdateRefusesKindlessItem(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	inc := storetest.WithParts("Checkout failing")
	if err := db.Create(ctx, inc, storetest.Declared(inc)); err != nil {
		t.Fatal(err)
	}
	before, err := db.Get(ctx, inc.Number)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
		i.Checklist = append(i.Checklist, incident.CheckItem{ID: "x", Text: "x"})
		i.Title = "changed"
		return []incident.Event{{At: time.Now(), Kind: incident.KindNote, Text: "x"}}, nil
	})
	if err == nil || !strings.Contains(err.Error(), "CHECK constraint") {
		t.Errorf("Update: %v, want a CHECK constraint failure", err)
	}
	after, err := db.Get(ctx, inc.Number)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("a refused Update changed the incident (-before +after):\n%s", diff)
	}
	if evs, _ := db.Events(ctx, inc.ID, 0); len(evs) != 1 {
		t.Errorf("a refused Update left %d events", len(evs)-1)
	}
}

// totalChanges counts the rows the write connection has inserted, updated
// or deleted since it opened, triggers included. The write pool has one
// connection, which every Update uses.
func totalChanges(t *testing.T, db *DB) int64 {
	t.Helper()
	var n int64
	if err := db.write.QueryRow(`SELECT total_changes()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Update writes only the parts that changed: a note on an incident with a
// full checklist, follow-ups and roles costs what it costs on one with
// none, and answering one item writes one more row.
func TestUpdateWritesOnlyChangedParts(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	full := storetest.WithParts("Full")
	if err := db.Create(ctx, full, storetest.Declared(full)); err != nil {
		t.Fatal(err)
	}
	bare := storetest.NewIncident("Bare")
	bare.Roles = nil
	if err := db.Create(ctx, bare, storetest.Declared(bare)); err != nil {
		t.Fatal(err)
	}
	rows := func(number int64, change func(*incident.Incident)) int64 {
		t.Helper()
		before := totalChanges(t, db)
		if _, err := db.Update(ctx, number, func(i *incident.Incident) ([]incident.Event, error) {
			change(i)
			return []incident.Event{{At: time.Now(), Kind: incident.KindNote, Text: "n"}}, nil
		}); err != nil {
			t.Fatal(err)
		}
		return totalChanges(t, db) - before
	}
	note := rows(bare.Number, func(*incident.Incident) {})
	if note == 0 {
		t.Fatal("total_changes() did not count a note; this test measures nothing")
	}

	tests := []struct {
		name   string
		change func(*incident.Incident)
		extra  int64 // rows written beyond a bare note
	}{
		{"a note", func(*incident.Incident) {}, 0},
		{"a title", func(i *incident.Incident) { i.Title = "Full, renamed" }, 0},
		{"an answer", func(i *incident.Incident) { i.Checklist[3].Answer = "done" }, 1},
		{"two answers", func(i *incident.Incident) { i.Checklist[0].Answer, i.Checklist[1].Answer = "skipped", "no" }, 2},
		{"a new item", func(i *incident.Incident) {
			i.Checklist = append(i.Checklist, incident.CheckItem{ID: "new", Kind: incident.Task, Text: "t"})
		}, 1},
		{"a follow-up done", func(i *incident.Incident) { i.FollowUps[1].DoneBy, i.FollowUps[1].DoneAt = "U1", time.Now() }, 1},
		{"a new follow-up", func(i *incident.Incident) {
			i.FollowUps = append(i.FollowUps, incident.FollowUp{ID: 11, Text: "f", CreatedBy: "U1", CreatedAt: time.Now()})
		}, 1},
		{"a role reassigned", func(i *incident.Incident) { i.Roles["comms"] = "U7" }, 1},
		{"a role removed", func(i *incident.Incident) { delete(i.Roles, "scribe") }, 1},
		{"the prompt state", func(i *incident.Incident) { i.UpdatePrompts, i.NextPromptAt = 2, time.Time{} }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rows(full.Number, tt.change) - note; got != tt.extra {
				t.Errorf("wrote %d rows beyond a note, want %d", got, tt.extra)
			}
		})
	}
}

func queryPlan(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.read.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

// DuePrompts runs on every prompter pass: both its queries must search the
// incidents_prompts index, and the due list must come in the index's order
// rather than be sorted. The queries are copied from DuePrompts; keep them
// in step.
func TestDuePromptsUsesIndex(t *testing.T) {
	db, _ := openTest(t)
	for i := range 50 { // enough rows that a scan is not the cheap plan
		inc := storetest.NewIncident("x")
		if i%5 == 0 {
			inc.NextPromptAt = time.Now().Add(time.Duration(i) * time.Minute)
		}
		if err := db.Create(context.Background(), inc, storetest.Declared(inc)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.write.Exec(`ANALYZE`); err != nil {
		t.Fatal(err)
	}
	now := formatTime(time.Now())
	for _, tc := range []struct {
		name  string
		query string
	}{
		{"due", `SELECT number FROM incidents
		WHERE next_prompt_at IS NOT NULL AND next_prompt_at <= ? ORDER BY next_prompt_at`},
		{"next", `SELECT MIN(next_prompt_at) FROM incidents
		WHERE next_prompt_at IS NOT NULL AND next_prompt_at > ?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := queryPlan(t, db, tc.query, now)
			if !strings.Contains(plan, "SEARCH incidents USING") || !strings.Contains(plan, "INDEX incidents_prompts") {
				t.Errorf("query does not search incidents_prompts:\n%s", plan)
			}
			if strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("query sorts instead of reading the index in order:\n%s", plan)
			}
		})
	}
}

// openAtVersion creates a database at path with the migrations up to and
// including version only, as an older build would have left it. It
// returns the write handle, for the caller to fill and close.
func openAtVersion(t *testing.T, path string, version int64) *sql.DB {
	t.Helper()
	ctx := context.Background()
	w, err := sql.Open("sqlite3", dsn(path, true))
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	t.Cleanup(func() { w.Close() })
	// As migrate creates it.
	if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at TEXT    NOT NULL
	) STRICT`); err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.version > version {
			break
		}
		if err := apply(ctx, w, m); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// Migration 3 derives the new prompt state from the timelines of existing
// incidents: the status-update clock starts at the last update or reopen
// (else the declaration), and a postmortem counts only if it was
// published since the last resolution, as Close used to check.
func TestMigration3Backfills(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sitrep.db")
	w := openAtVersion(t, path, 2)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(m int) string { return formatTime(t0.Add(time.Duration(m) * time.Minute)) }
	type ev struct {
		min  int
		kind string
	}
	olds := []struct {
		status   string
		resolved int // minutes; -1 for NULL
		events   []ev
	}{
		// #1: declared, nothing since.
		{"investigating", -1, nil},
		// #2: updates; later events of other kinds do not count.
		{"identified", -1, []ev{{10, "update"}, {40, "update"}, {50, "message"}, {55, "note"}}},
		// #3: reopened after an update, resolved again; the postmortem
		// came before the last resolution, so it does not count.
		{"resolved", 120, []ev{{30, "update"}, {45, "resolved"}, {50, "postmortem"}, {60, "reopened"}, {120, "resolved"}}},
		// #4: two postmortems after the resolution: the latest counts.
		{"resolved", 60, []ev{{60, "resolved"}, {180, "postmortem"}, {300, "postmortem"}}},
		// #5: closed after its postmortem.
		{"closed", 60, []ev{{60, "resolved"}, {120, "postmortem"}, {130, "closed"}}},
		// #6: reopened after a postmortem and still open.
		{"investigating", -1, []ev{{60, "resolved"}, {70, "postmortem"}, {90, "reopened"}}},
		// #7: resolved without a postmortem.
		{"resolved", 60, []ev{{60, "resolved"}}},
	}
	for i, o := range olds {
		id := string(rune('a' + i))
		var resolved any
		if o.resolved >= 0 {
			resolved = at(o.resolved)
		}
		if _, err := w.Exec(`INSERT INTO incidents (id, number, title, severity, status, declared_by, declared_at, resolved_at, updated_at, version)
			VALUES (?, ?, 'old', 'sev1', ?, 'U1', ?, ?, ?, 1)`, id, i+1, o.status, at(0), resolved, at(0)); err != nil {
			t.Fatal(err)
		}
		for _, e := range append([]ev{{0, "declared"}}, o.events...) {
			if _, err := w.Exec(`INSERT INTO events (incident_id, at, kind, recorded_at) VALUES (?, ?, ?, ?)`, id, at(e.min), e.kind, at(e.min)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Exec(`INSERT INTO incident_roles (incident_id, role, user_id) VALUES (?, 'commander', 'U1')`, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	db := openPath(t, path)
	type state struct {
		LastUpdateAt, PostmortemAt, NextPromptAt time.Time
		UpdatePrompts, PostmortemPrompts         int
		Parts                                    int
	}
	mins := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	want := []state{
		{LastUpdateAt: mins(0)},
		{LastUpdateAt: mins(40)},
		{LastUpdateAt: mins(60)},
		{LastUpdateAt: mins(0), PostmortemAt: mins(300)},
		{LastUpdateAt: mins(0), PostmortemAt: mins(120)},
		{LastUpdateAt: mins(90)},
		{LastUpdateAt: mins(0)},
	}
	for i, ws := range want {
		inc, err := db.Get(ctx, int64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		got := state{inc.LastUpdateAt, inc.PostmortemAt, inc.NextPromptAt, inc.UpdatePrompts, inc.PostmortemPrompts, len(inc.Checklist) + len(inc.FollowUps)}
		if diff := cmp.Diff(ws, got); diff != "" {
			t.Errorf("#%d after migration (-want +got):\n%s", i+1, diff)
		}
	}

	// The service schedules them on start-up, and Close agrees with the
	// backfill about which have a postmortem.
	now := t0.Add(48 * time.Hour)
	svc := incident.NewService(db, incident.DefaultConfig(), func() time.Time { return now })
	if err := svc.Reschedule(ctx); err != nil {
		t.Fatal(err)
	}
	due, next, err := db.DuePrompts(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	// sev1's cadence is 30m: #1, #2 and #6 are overdue; #3 and #7 owe a
	// postmortem since a day after their resolution.
	if diff := cmp.Diff([]int64{1, 2, 6, 7, 3}, due); diff != "" || !next.IsZero() {
		t.Errorf("DuePrompts after Reschedule: due (-want +got):\n%s\nnext %v", diff, next)
	}
	for n, want := range map[int64]string{3: incident.ECONFLICT, 4: "", 7: incident.ECONFLICT} {
		if _, err := svc.Close(ctx, n, "U1"); incident.ErrorCode(err) != want {
			t.Errorf("Close(#%d): %v, want code %q", n, err, want)
		}
	}
}
