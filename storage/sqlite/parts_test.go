package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
)

// withParts returns a freshly declared incident with a checklist and
// follow-ups. The ids are out of alphabetical order, and the follow-up ids
// out of text order (9 < 10), so that a wrong ORDER BY shows.
func withParts(title string) *incident.Incident {
	inc := newIncident(title)
	cest := time.FixedZone("CEST", 2*60*60)
	answered := time.Date(2026, 6, 1, 14, 3, 4, 123456789, cest)
	inc.Roles["comms"] = "U2"
	inc.Roles["scribe"] = "U3"
	inc.Checklist = []incident.CheckItem{
		{ID: "symptoms", Kind: incident.Task, Text: "Describe the symptoms"},
		{ID: "deploy", Kind: incident.Question, Text: "Was there a deploy?", Suggestion: "Roll back.",
			Answer: "yes", AnsweredBy: "U2", AnsweredAt: answered, Suggested: true},
		{ID: "customers", Kind: incident.Question, Text: "Customers \"affected\"? <&>", Answer: "unknown", AnsweredBy: "U3", AnsweredAt: answered.Add(time.Nanosecond)},
		{ID: "a-last", Kind: incident.Task, Text: "Tell the executives 🔔"},
	}
	inc.FollowUps = []incident.FollowUp{
		{ID: 9, Text: "Alert on expiry", Owner: "U2", CreatedBy: "U1", CreatedAt: answered, DoneBy: "U2", DoneAt: answered.Add(time.Hour)},
		{ID: 10, Text: "Write a runbook", CreatedBy: "U3", CreatedAt: answered.Add(time.Minute)},
	}
	inc.LastUpdateAt = inc.DeclaredAt
	inc.NextPromptAt = inc.DeclaredAt.Add(30 * time.Minute)
	inc.UpdatePrompts = 1
	return inc
}

// Checklist items, follow-ups and the prompt state come back as stored,
// in order and with their times, through Get, GetByChannel, List and
// Update; and Update stores the changes a fn makes to them.
func TestPartsRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	inc := withParts("Checkout failing")
	if err := db.Create(ctx, inc, declared(inc)); err != nil {
		t.Fatal(err)
	}
	plain := create(t, db, "No parts")

	check := func(what string, want *incident.Incident) {
		t.Helper()
		got, err := db.Get(ctx, want.Number)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: Get (-want +got):\n%s", what, diff)
		}
		all, err := db.List(ctx, incident.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(all, func(i *incident.Incident) bool { return i.Number == want.Number })
		if diff := cmp.Diff(want, all[i]); diff != "" {
			t.Errorf("%s: List (-want +got):\n%s", what, diff)
		}
		for _, it := range got.Checklist {
			if !it.AnsweredAt.IsZero() && it.AnsweredAt.Location() != time.UTC {
				t.Errorf("%s: item %s answered at %v, not in UTC", what, it.ID, it.AnsweredAt)
			}
		}
	}
	check("after Create", inc)
	want := *plain
	want.Roles = map[string]string{incident.CommanderRole: "U1"}
	check("an incident without parts", &want)
	if got, _ := db.Get(ctx, plain.Number); got.Checklist != nil || got.FollowUps != nil {
		t.Errorf("no parts came back as %#v and %#v, want nil", got.Checklist, got.FollowUps)
	}

	// The chat adapter's new fields survive too.
	chat := incident.Chat{ChannelID: "C1", ChecklistTS: "1.1", ChecklistShown: "fp-c", FollowUpsTS: "2.2", FollowUpsShown: "fp-f"}
	if err := db.SaveChat(ctx, inc.ID, chat); err != nil {
		t.Fatal(err)
	}
	inc.Chat = chat
	if got, err := db.GetByChannel(ctx, "C1"); err != nil {
		t.Fatal(err)
	} else if diff := cmp.Diff(inc, got); diff != "" {
		t.Errorf("GetByChannel (-want +got):\n%s", diff)
	}

	// Change every kind of part at once.
	at := time.Date(2026, 6, 2, 9, 0, 0, 1, time.UTC)
	got, err := db.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
		i.Checklist[0].Answer, i.Checklist[0].AnsweredBy, i.Checklist[0].AnsweredAt = "done", "U4", at
		i.Checklist[1].Answer = "no" // keeps Suggested
		i.Checklist = append(i.Checklist, incident.CheckItem{ID: "b-added", Kind: incident.Question, Text: "New?", Suggestion: "Then act."})
		i.FollowUps[1].DoneBy, i.FollowUps[1].DoneAt = "U3", at
		i.FollowUps = append(i.FollowUps, incident.FollowUp{ID: 11, Text: "Add a canary", CreatedBy: "U1", CreatedAt: at})
		delete(i.Roles, "scribe")
		i.Roles["comms"] = "U5"
		i.LastUpdateAt, i.UpdatePrompts, i.PostmortemPrompts = at, 0, 3
		i.PostmortemAt, i.NextPromptAt = at.Add(time.Second), at.Add(time.Hour)
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want = *inc
	want.Version = 2
	want.Checklist = slices.Clone(inc.Checklist)
	want.Checklist[0].Answer, want.Checklist[0].AnsweredBy, want.Checklist[0].AnsweredAt = "done", "U4", at
	want.Checklist[1].Answer = "no"
	want.Checklist = append(want.Checklist, incident.CheckItem{ID: "b-added", Kind: incident.Question, Text: "New?", Suggestion: "Then act."})
	want.FollowUps = slices.Clone(inc.FollowUps)
	want.FollowUps[1].DoneBy, want.FollowUps[1].DoneAt = "U3", at
	want.FollowUps = append(want.FollowUps, incident.FollowUp{ID: 11, Text: "Add a canary", CreatedBy: "U1", CreatedAt: at})
	want.Roles = map[string]string{incident.CommanderRole: "U1", "comms": "U5"}
	want.LastUpdateAt, want.UpdatePrompts, want.PostmortemPrompts = at, 0, 3
	want.PostmortemAt, want.NextPromptAt = at.Add(time.Second), at.Add(time.Hour)
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("Update result (-want +got):\n%s", diff)
	}
	check("after Update", &want)

	// Zero times are stored as NULL and come back zero.
	got, err = db.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
		i.PostmortemAt, i.NextPromptAt = time.Time{}, time.Time{}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !got.PostmortemAt.IsZero() || !got.NextPromptAt.IsZero() {
		t.Errorf("cleared times came back as %v, %v", got.PostmortemAt, got.NextPromptAt)
	}
	var nulls int
	if err := db.read.QueryRow(`SELECT count(*) FROM incidents WHERE id = ? AND postmortem_at IS NULL AND next_prompt_at IS NULL`, inc.ID).Scan(&nulls); err != nil || nulls != 1 {
		t.Errorf("cleared times are not NULL in the table (%d rows, %v)", nulls, err)
	}
}

// The domain only adds and answers parts. An Update that removes or
// reorders them is a bug, refused whole.
func TestUpdateRefusesLosingParts(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	inc := withParts("Checkout failing")
	if err := db.Create(ctx, inc, declared(inc)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		fn   func(*incident.Incident)
		want string
	}{
		{"remove the last item", func(i *incident.Incident) { i.Checklist = i.Checklist[:len(i.Checklist)-1] }, "not removed or reordered"},
		{"remove every item", func(i *incident.Incident) { i.Checklist = nil }, "not removed or reordered"},
		{"swap items", func(i *incident.Incident) { i.Checklist[0], i.Checklist[1] = i.Checklist[1], i.Checklist[0] }, "not removed or reordered"},
		{"replace an item", func(i *incident.Incident) { i.Checklist[2].ID = "other" }, "not removed or reordered"},
		{"remove a follow-up", func(i *incident.Incident) { i.FollowUps = i.FollowUps[1:] }, "not removed"},
		{"an item of no kind", func(i *incident.Incident) {
			i.Checklist = append(i.Checklist, incident.CheckItem{ID: "x", Text: "x"})
		}, "CHECK constraint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
				tt.fn(i)
				i.Title = "changed"
				return []incident.Event{{At: time.Now(), Kind: incident.KindNote, Text: "x"}}, nil
			})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Update: %v, want an error containing %q", err, tt.want)
			}
			got, err := db.Get(ctx, inc.Number)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(inc, got); diff != "" {
				t.Errorf("a refused Update changed the incident (-before +after):\n%s", diff)
			}
			if evs, _ := db.Events(ctx, inc.ID, 0); len(evs) != 1 {
				t.Errorf("a refused Update left %d events", len(evs)-1)
			}
		})
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
	full := withParts("Full")
	if err := db.Create(ctx, full, declared(full)); err != nil {
		t.Fatal(err)
	}
	bare := newIncident("Bare")
	bare.Roles = nil
	if err := db.Create(ctx, bare, declared(bare)); err != nil {
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

// setNextPrompt stores inc's NextPromptAt as the domain would, in an Update.
func setNextPrompt(t *testing.T, db *DB, number int64, at time.Time) {
	t.Helper()
	if _, err := db.Update(context.Background(), number, func(i *incident.Incident) ([]incident.Event, error) {
		i.NextPromptAt = at
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestDuePrompts(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	tokyo := time.FixedZone("JST", 9*60*60)
	for _, at := range []time.Time{
		t0.Add(10 * time.Minute),           // #1
		{},                                 // #2: nothing owed
		t0.Add(-5 * time.Minute).In(tokyo), // #3: zones do not matter
		t0.Add(-20 * time.Minute),          // #4
		t0.Add(5 * time.Minute),            // #5
		t0,                                 // #6: due at exactly now
		t0.Add(time.Nanosecond),            // #7: one nanosecond late
		t0.Add(-24 * time.Hour).In(tokyo),  // #8: the oldest
		t0.Add(100 * 24 * time.Hour),       // #9: far away
		t0.Add(-time.Nanosecond).In(tokyo), // #10: one nanosecond early
	} {
		inc := newIncident("x")
		inc.NextPromptAt = at
		if err := db.Create(ctx, inc, declared(inc)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		now  time.Time
		due  []int64
		next time.Time
	}{
		{"before any", t0.Add(-48 * time.Hour), nil, t0.Add(-24 * time.Hour)},
		{"now", t0, []int64{8, 4, 3, 10, 6}, t0.Add(time.Nanosecond)},
		{"now, in another zone", t0.In(tokyo), []int64{8, 4, 3, 10, 6}, t0.Add(time.Nanosecond)},
		{"a nanosecond on", t0.Add(time.Nanosecond), []int64{8, 4, 3, 10, 6, 7}, t0.Add(5 * time.Minute)},
		{"an hour on", t0.Add(time.Hour), []int64{8, 4, 3, 10, 6, 7, 5, 1}, t0.Add(100 * 24 * time.Hour)},
		{"after all", t0.Add(1000 * 24 * time.Hour), []int64{8, 4, 3, 10, 6, 7, 5, 1, 9}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due, next, err := db.DuePrompts(ctx, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.due, due); diff != "" {
				t.Errorf("due (-want +got):\n%s", diff)
			}
			if !next.Equal(tt.next) || (!next.IsZero() && next.Location() != time.UTC) {
				t.Errorf("next = %v, want %v in UTC", next, tt.next)
			}
		})
	}

	// Moving or clearing a due time moves the incident out of (or within)
	// the answer.
	setNextPrompt(t, db, 8, time.Time{})
	setNextPrompt(t, db, 4, t0.Add(time.Hour))
	setNextPrompt(t, db, 1, t0.Add(-time.Hour))
	due, next, err := db.DuePrompts(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{1, 3, 10, 6}, due); diff != "" || !next.Equal(t0.Add(time.Nanosecond)) {
		t.Errorf("after changes: due %v (diff %s), next %v", due, diff, next)
	}
}

func TestDuePromptsEmpty(t *testing.T) {
	db, _ := openTest(t)
	create(t, db, "nothing owed")
	due, next, err := db.DuePrompts(context.Background(), time.Now())
	if err != nil || due != nil || !next.IsZero() {
		t.Errorf("DuePrompts = %v, %v, %v; want nothing", due, next, err)
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
		inc := newIncident("x")
		if i%5 == 0 {
			inc.NextPromptAt = time.Now().Add(time.Duration(i) * time.Minute)
		}
		if err := db.Create(context.Background(), inc, declared(inc)); err != nil {
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
