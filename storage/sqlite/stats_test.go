package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
)

func TestStats(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	clock := t0
	svc := incident.NewService(db, incident.DefaultConfig(), func() time.Time { return clock })

	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Counts) != 0 || st.Behind != 0 || !st.OldestBehind.IsZero() {
		t.Errorf("an empty database: %+v", st)
	}

	declare := func(sev string) *incident.Incident {
		t.Helper()
		inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout failing", Severity: sev, Actor: "U1"})
		if err != nil {
			t.Fatal(err)
		}
		return inc
	}
	caughtUp := func(n int64) {
		t.Helper()
		inc, err := db.Get(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := db.Events(ctx, inc.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		last := evs[len(evs)-1].Seq
		if err := db.SaveChat(ctx, inc.ID, incident.Chat{ChannelID: "C" + inc.ID[:8], CardVersion: inc.Version, Cursor: last, AnnounceCursor: last}); err != nil {
			t.Fatal(err)
		}
	}
	// Events are stamped with the store's own clock when written, which
	// is what "waiting since" needs.
	before := time.Now().UTC()
	a := declare("sev1") // #1: delivered, then resolved, not delivered
	declare("sev1")      // #2: never delivered
	afterSecond := time.Now().UTC()
	clock = t0.Add(time.Minute)
	c := declare("sev3") // #3: delivered
	caughtUp(a.Number)
	caughtUp(c.Number)
	clock = t0.Add(2 * time.Minute)
	beforeResolve := time.Now().UTC()
	if _, err := svc.Resolve(ctx, a.Number, "U1", ""); err != nil {
		t.Fatal(err)
	}
	afterResolve := time.Now().UTC()

	st, err = db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := incident.Stats{
		Counts: []incident.Count{
			{Status: incident.Investigating, Severity: "sev1", N: 1},
			{Status: incident.Investigating, Severity: "sev3", N: 1},
			{Status: incident.Resolved, Severity: "sev1", N: 1},
		},
		Behind: 2,
	}
	oldest := st.OldestBehind
	st.OldestBehind = time.Time{}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	if oldest.Before(before) || oldest.After(afterSecond) {
		t.Errorf("oldest waiting change recorded at %v, want #1 or #2's declaration, between %v and %v", oldest, before, afterSecond)
	}

	// Once #2 is delivered, the oldest waiting change is #1's resolution.
	caughtUp(2)
	st, err = db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Behind != 1 || st.OldestBehind.Before(beforeResolve) || st.OldestBehind.After(afterResolve) {
		t.Errorf("after #2 caught up: %d behind, oldest %v; want 1, from the resolution between %v and %v", st.Behind, st.OldestBehind, beforeResolve, afterResolve)
	}
}
