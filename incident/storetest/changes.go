package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
)

// changesAfter returns Changes(after), failing the test on an error.
func changesAfter(t *testing.T, st incident.Store, after int64) ([]incident.Change, int64) {
	t.Helper()
	changes, latest, err := st.Changes(context.Background(), after)
	if err != nil {
		t.Fatalf("Changes(%d): %v", after, err)
	}
	return changes, latest
}

// Every Create and Update is a change, reported once, with the incident's
// Version after it, in the order they were made. Asking again from the
// latest change finds nothing new.
func (s suite) testChanges(t *testing.T) {
	st := s.open(t)
	if changes, latest := changesAfter(t, st, 0); len(changes) != 0 || latest != 0 {
		t.Errorf("Changes of an empty store = %v, %d; want none, 0", changes, latest)
	}

	var after int64
	// expect checks that the changes since the last call are want, and
	// that the latest change number moved on.
	expect := func(what string, want ...incident.Change) {
		t.Helper()
		changes, latest := changesAfter(t, st, after)
		if diff := cmp.Diff(want, changes); diff != "" {
			t.Errorf("after %s: Changes(%d) (-want +got):\n%s", what, after, diff)
		}
		if latest <= after {
			t.Errorf("after %s: latest change %d, not after %d", what, latest, after)
		}
		again, l := changesAfter(t, st, latest)
		if len(again) != 0 || l != latest {
			t.Errorf("after %s: Changes(latest %d) = %v, %d; want none, %d", what, latest, again, l, latest)
		}
		after = latest
	}

	a := Create(t, st, "a")
	expect("create a", incident.Change{Number: a.Number, Version: 1})
	b := Create(t, st, "b")
	expect("create b", incident.Change{Number: b.Number, Version: 1})
	note(t, st, a.Number, "n")
	expect("a note on a", incident.Change{Number: a.Number, Version: 2})
	quietEdit(t, st, a.Number)
	expect("an edit of a without events", incident.Change{Number: a.Number, Version: 3})
	setStatus(t, st, b.Number, incident.Resolved)
	expect("b resolved", incident.Change{Number: b.Number, Version: 2})

	// Changes since an earlier point list each incident once, with its
	// latest Version, in the order they last changed.
	mark := after
	note(t, st, b.Number, "b")
	c := Create(t, st, "c")
	note(t, st, a.Number, "a")
	note(t, st, b.Number, "b again")
	changes, latest := changesAfter(t, st, mark)
	want := []incident.Change{{Number: c.Number, Version: 1}, {Number: a.Number, Version: 4}, {Number: b.Number, Version: 4}}
	if diff := cmp.Diff(want, changes); diff != "" {
		t.Errorf("Changes(%d) after several changes (-want +got):\n%s", mark, diff)
	}
	all, l := changesAfter(t, st, 0)
	want = []incident.Change{{Number: c.Number, Version: 1}, {Number: a.Number, Version: 4}, {Number: b.Number, Version: 4}}
	if diff := cmp.Diff(want, all); diff != "" || l != latest {
		t.Errorf("Changes(0) = %d (-want +got):\n%s", l, diff)
	}
}

// What is not a change of an incident does not move the latest change: a
// refused Update, a delivery saved, a claim, reads.
func (s suite) testChangesIgnoreNonChanges(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	inc := Create(t, st, "a")
	_, latest := changesAfter(t, st, 0)

	st.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
		i.Title = "x"
		return nil, errors.New("refused")
	})
	st.Update(ctx, 99, func(i *incident.Incident) ([]incident.Event, error) { return nil, nil })
	saveDelivery(t, st, incident.Delivery{Integration: "slack", IncidentID: inc.ID, Cursor: 1, Refs: []string{"C1"}})
	if _, err := st.Claim(ctx, "k", t0); err != nil {
		t.Fatal(err)
	}
	get(t, st, inc.Number)
	if _, err := st.List(ctx, incident.ListFilter{}); err != nil {
		t.Fatal(err)
	}
	if changes, l := changesAfter(t, st, latest); len(changes) != 0 || l != latest {
		t.Errorf("Changes(%d) = %v, %d; want none and the same latest", latest, changes, l)
	}
}
