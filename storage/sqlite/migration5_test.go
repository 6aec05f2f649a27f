package sqlite

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/incident/storetest"
)

// Migration 5 moves Slack's progress from the incidents table into a
// 'slack' delivery: the generic cursor is the lower of the channel's and
// the announcements', the Version the card's, and every column lands in
// State under its own name, so that the bot resumes where it was.
func TestMigration5MovesSlackState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sitrep.db")
	w := openAtVersion(t, path, 4)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(m int) string { return formatTime(t0.Add(time.Duration(m) * time.Minute)) }

	type old struct {
		id, channelID, channelName, cardTS string
		cardPinned                         bool
		cardVersion, version               int64
		topic                              string
		cursor, announceCursor             int64
		problem                            string
		checklistTS, checklistShown        string
		followUpsTS, followUpsShown        string
		posting                            string
		events                             int
	}
	olds := []old{
		// #1: a channel with everything filled in; the announcements lag
		// one event behind the channel.
		{id: "a", channelID: "C1", channelName: "inc-1-checkout", cardTS: "1717250000.000100", cardPinned: true,
			cardVersion: 3, version: 3, topic: "sev1 · identified", cursor: 3, announceCursor: 2,
			problem:     "Sitrep cannot pin messages: add the pins:write scope.",
			checklistTS: "1717250001.000200", checklistShown: "fp-c", followUpsTS: "1717250002.000300", followUpsShown: "fp-f", events: 3},
		// #2: caught up, card not pinned.
		{id: "b", channelID: "C2", channelName: "inc-2", cardTS: "1.1", cardVersion: 1, version: 1, cursor: 5, announceCursor: 5, events: 2},
		// #3: no channel yet, nothing posted: no delivery.
		{id: "c", version: 1, events: 1},
		// #4: a card being posted before the channel was saved.
		{id: "d", version: 2, posting: "card", events: 1},
	}
	for i, o := range olds {
		if _, err := w.Exec(`INSERT INTO incidents (id, number, title, severity, status, declared_by, declared_at, updated_at, version,
			channel_id, channel_name, card_ts, card_pinned, card_version, topic, cursor, announce_cursor, problem,
			checklist_ts, checklist_shown, followups_ts, followups_shown, posting)
			VALUES (?, ?, 'old', 'sev1', 'investigating', 'U1', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.id, i+1, at(0), at(i), o.version,
			o.channelID, o.channelName, o.cardTS, o.cardPinned, o.cardVersion, o.topic, o.cursor, o.announceCursor, o.problem,
			o.checklistTS, o.checklistShown, o.followUpsTS, o.followUpsShown, o.posting); err != nil {
			t.Fatal(err)
		}
		for range o.events {
			if _, err := w.Exec(`INSERT INTO events (incident_id, at, kind, recorded_at) VALUES (?, ?, 'note', ?)`, o.id, at(0), at(0)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Exec(`INSERT INTO incident_roles (incident_id, role, user_id) VALUES (?, 'commander', 'U1')`, o.id); err != nil {
			t.Fatal(err)
		}
	}
	// Seqs: #1 has 1-3, #2 4-5, #3 6, #4 7.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	db := openPath(t, path)
	type delivered struct {
		Cursor, Version int64
		Problem         string
		Refs            []string
		State           map[string]any
	}
	state := func(o old) map[string]any {
		return map[string]any{
			"channel_id": o.channelID, "channel_name": o.channelName,
			"card_ts": o.cardTS, "card_pinned": o.cardPinned, "card_version": float64(o.cardVersion),
			"topic": o.topic, "cursor": float64(o.cursor), "announce_cursor": float64(o.announceCursor),
			"checklist_ts": o.checklistTS, "checklist_shown": o.checklistShown,
			"followups_ts": o.followUpsTS, "followups_shown": o.followUpsShown,
			"posting": o.posting,
		}
	}
	want := map[string]*delivered{
		"a": {Cursor: 2, Version: 3, Problem: olds[0].problem, Refs: []string{"C1"}, State: state(olds[0])},
		"b": {Cursor: 5, Version: 1, Refs: []string{"C2"}, State: state(olds[1])},
		"c": nil,
		"d": {State: state(olds[3])},
	}
	ds, err := db.Deliveries(ctx, "slack", []string{"a", "b", "c", "d"})
	if err != nil {
		t.Fatal(err)
	}
	for id, w := range want {
		d, ok := ds[id]
		if w == nil {
			if ok {
				t.Errorf("%s: a delivery was made for an incident Slack had not started on: %+v", id, d)
			}
			continue
		}
		if !ok {
			t.Errorf("%s: no delivery", id)
			continue
		}
		got := &delivered{Cursor: d.Cursor, Version: d.Version, Problem: d.Problem, Refs: d.Refs}
		if err := json.Unmarshal(d.State, &got.State); err != nil {
			t.Errorf("%s: State %s: %v", id, d.State, err)
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: the slack delivery (-want +got):\n%s", id, diff)
		}
	}

	// The channels find their incidents, as GetByChannel did.
	for ref, number := range map[string]int64{"C1": 1, "C2": 2} {
		inc, err := db.ByRef(ctx, "slack", ref)
		if err != nil || inc.Number != number {
			t.Errorf("ByRef(slack, %s) = %v, %v; want #%d", ref, inc, err, number)
		}
	}
	// What was unsynced is behind; what was delivered is not.
	if got, err := db.Behind(ctx, "slack"); err != nil || !slices.Equal(got, []int64{1, 3, 4}) {
		t.Errorf("Behind(slack) = %v, %v; want [1 3 4]", got, err)
	}

	// Every incident is a change, numbered in the order of the numbers,
	// and new changes come after them.
	changes, latest, err := db.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantChanges := []incident.Change{{Number: 1, Version: 3}, {Number: 2, Version: 1}, {Number: 3, Version: 1}, {Number: 4, Version: 2}}
	if diff := cmp.Diff(wantChanges, changes); diff != "" || latest != 4 {
		t.Errorf("Changes(0) = %d (-want +got):\n%s", latest, diff)
	}
	inc := storetest.Create(t, db, "new")
	if changes, _, err := db.Changes(ctx, latest); err != nil || !slices.Equal(changes, []incident.Change{{Number: inc.Number, Version: 1}}) {
		t.Errorf("Changes(%d) after a Create = %v, %v; want #%d", latest, changes, err, inc.Number)
	}

	// The old columns and their indexes are gone.
	var n int
	if err := db.read.QueryRow(`SELECT count(*) FROM pragma_table_info('incidents') WHERE name IN
		('channel_id', 'channel_name', 'card_ts', 'card_pinned', 'card_version', 'topic', 'cursor', 'announce_cursor',
		 'problem', 'checklist_ts', 'checklist_shown', 'followups_ts', 'followups_shown', 'posting')`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d chat columns left in incidents (%v)", n, err)
	}
	if err := db.read.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name IN ('incidents_unsynced', 'incidents_channel')`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d chat indexes left (%v)", n, err)
	}
}
