package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
)

// sameDelivery compares deliveries as the contract defines them: refs are a
// set, and no refs is no refs however it is spelled. State is compared as
// bytes: the store keeps what it is given and does not interpret it.
var sameDelivery = cmp.Options{
	cmpopts.SortSlices(func(a, b string) bool { return a < b }),
	cmpopts.EquateEmpty(),
}

func delivery(t *testing.T, st incident.Store, integration, incidentID string) incident.Delivery {
	t.Helper()
	d, err := st.Delivery(context.Background(), integration, incidentID)
	if err != nil {
		t.Fatalf("Delivery(%s, %s): %v", integration, incidentID, err)
	}
	return d
}

func saveDelivery(t *testing.T, st incident.Store, d incident.Delivery) {
	t.Helper()
	if err := st.SaveDelivery(context.Background(), d); err != nil {
		t.Fatalf("SaveDelivery(%+v): %v", d, err)
	}
}

// caughtUp records that integration has delivered everything of the
// incident: its last event and its current Version.
func caughtUp(t *testing.T, st incident.Store, integration string, number int64) {
	t.Helper()
	inc := get(t, st, number)
	d := delivery(t, st, integration, inc.ID)
	d.Cursor, d.Version = lastSeq(t, st, inc.ID), inc.Version
	saveDelivery(t, st, d)
}

// What SaveDelivery stores, Delivery returns: every field, State byte for
// byte. Saving again replaces all of it. Before anything is saved there is
// a Delivery with only its integration and incident.
func (s suite) testDeliveryRoundTrip(t *testing.T) {
	st := s.open(t)
	inc := Create(t, st, "a")

	if diff := cmp.Diff(incident.Delivery{Integration: "slack", IncidentID: inc.ID}, delivery(t, st, "slack", inc.ID), sameDelivery); diff != "" {
		t.Errorf("Delivery before any was saved (-want +got):\n%s", diff)
	}

	first := incident.Delivery{
		Integration: "slack",
		IncidentID:  inc.ID,
		Cursor:      events(t, st, inc.ID)[0].Seq,
		Version:     1,
		Problem:     "Sitrep cannot pin messages: add the pins:write scope.",
		Refs:        []string{"C123", "G456"},
		// Not in any canonical form: key order, spacing and escapes are
		// the integration's, and come back as they were.
		State: []byte(`{"z": 1, "channel_name":"inc-1-a", "card_pinned": true,"topic":"sev1 \u00b7 \"identified\" 🔥","nested":{"b":[1,2],"a":null}}`),
	}
	saveDelivery(t, st, first)
	if diff := cmp.Diff(first, delivery(t, st, "slack", inc.ID), sameDelivery); diff != "" {
		t.Errorf("Delivery after SaveDelivery (-want +got):\n%s", diff)
	}

	second := incident.Delivery{
		Integration: "slack",
		IncidentID:  inc.ID,
		Cursor:      first.Cursor + 10,
		Version:     3,
		Refs:        []string{"C789"},
		State:       []byte(`{"channel_name":"inc-1-renamed"}`),
	}
	saveDelivery(t, st, second)
	if diff := cmp.Diff(second, delivery(t, st, "slack", inc.ID), sameDelivery); diff != "" {
		t.Errorf("Delivery after a second SaveDelivery (-want +got):\n%s", diff)
	}

	// Another integration's progress is its own.
	pager := incident.Delivery{Integration: "pagerduty", IncidentID: inc.ID, Cursor: 1, Version: 1, Refs: []string{"PD1"}, State: []byte(`[]`)}
	saveDelivery(t, st, pager)
	if diff := cmp.Diff(pager, delivery(t, st, "pagerduty", inc.ID), sameDelivery); diff != "" {
		t.Errorf("the other integration's Delivery (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(second, delivery(t, st, "slack", inc.ID), sameDelivery); diff != "" {
		t.Errorf("Slack's Delivery after another integration saved (-want +got):\n%s", diff)
	}

	// Problems clear.
	second.Problem = ""
	saveDelivery(t, st, second)
	if got := delivery(t, st, "slack", inc.ID); got.Problem != "" {
		t.Errorf("Problem = %q after it was cleared", got.Problem)
	}
}

// ByRef finds an incident by any of its refs, per integration; refs that
// were replaced name nothing any more and may name another incident.
func (s suite) testDeliveryRefs(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	a := Create(t, st, "a")
	b := Create(t, st, "b")
	saveDelivery(t, st, incident.Delivery{Integration: "slack", IncidentID: a.ID, Refs: []string{"CA", "CA-old", ""}})
	saveDelivery(t, st, incident.Delivery{Integration: "slack", IncidentID: b.ID, Refs: []string{"CB"}})
	// Integrations name incidents independently: the same ref may name
	// another incident for another one.
	saveDelivery(t, st, incident.Delivery{Integration: "pager", IncidentID: b.ID, Refs: []string{"CA"}})

	byRef := func(integration, ref string, want int64) {
		t.Helper()
		got, err := st.ByRef(ctx, integration, ref)
		if want == 0 {
			if incident.ErrorCode(err) != incident.ENOTFOUND {
				t.Errorf("ByRef(%s, %q) = %v, %v; want ENOTFOUND", integration, ref, got, err)
			}
			return
		}
		if err != nil {
			t.Errorf("ByRef(%s, %q): %v", integration, ref, err)
			return
		}
		if diff := cmp.Diff(get(t, st, want), got); diff != "" {
			t.Errorf("ByRef(%s, %q) (-Get(#%d) +got):\n%s", integration, ref, want, diff)
		}
	}
	byRef("slack", "CA", a.Number)
	byRef("slack", "CA-old", a.Number)
	byRef("slack", "CB", b.Number)
	byRef("pager", "CA", b.Number)
	byRef("pager", "CB", 0)
	byRef("slack", "", 0)
	byRef("slack", "C-unknown", 0)
	byRef("other", "CA", 0)

	// Replacing the refs releases the old ones.
	saveDelivery(t, st, incident.Delivery{Integration: "slack", IncidentID: a.ID, Refs: []string{"CA"}})
	byRef("slack", "CA", a.Number)
	byRef("slack", "CA-old", 0)
	saveDelivery(t, st, incident.Delivery{Integration: "slack", IncidentID: b.ID, Refs: []string{"CB", "CA-old"}})
	byRef("slack", "CA-old", b.Number)

	// And saving none releases them all.
	saveDelivery(t, st, incident.Delivery{Integration: "slack", IncidentID: a.ID, Cursor: 1})
	byRef("slack", "CA", 0)
	if got := delivery(t, st, "slack", a.ID); len(got.Refs) != 0 || got.Cursor != 1 {
		t.Errorf("Delivery after saving no refs = %+v", got)
	}
	// Saving the same refs again is no conflict with themselves.
	for range 2 {
		saveDelivery(t, st, incident.Delivery{Integration: "slack", IncidentID: b.ID, Refs: []string{"CA-old", "CB"}, Cursor: 2})
	}
	byRef("slack", "CB", b.Number)
}

// A ref names one incident per integration: saving it for another is
// ECONFLICT on Field "ref", and stores nothing of that delivery.
func (s suite) testDeliveryRefConflict(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	a := Create(t, st, "a")
	b := Create(t, st, "b")
	c := Create(t, st, "c")
	saveDelivery(t, st, incident.Delivery{Integration: "slack", IncidentID: a.ID, Refs: []string{"CA"}})
	bBefore := incident.Delivery{Integration: "slack", IncidentID: b.ID, Cursor: 1, Version: 1, Problem: "p", Refs: []string{"CB"}, State: []byte(`{"v":1}`)}
	saveDelivery(t, st, bBefore)

	for name, d := range map[string]incident.Delivery{
		"an incident with a delivery":  {Integration: "slack", IncidentID: b.ID, Cursor: 9, Version: 9, Refs: []string{"CB2", "CA"}, State: []byte(`{"v":2}`)},
		"an incident with no delivery": {Integration: "slack", IncidentID: c.ID, Cursor: 9, Version: 9, Refs: []string{"CA", "CC"}, State: []byte(`{"v":2}`)},
	} {
		err := st.SaveDelivery(ctx, d)
		if incident.ErrorCode(err) != incident.ECONFLICT || incident.ErrorField(err) != "ref" {
			t.Errorf("%s: SaveDelivery with a ref of another incident: err = %v (field %q), want ECONFLICT on ref", name, err, incident.ErrorField(err))
		}
	}
	if diff := cmp.Diff(bBefore, delivery(t, st, "slack", b.ID), sameDelivery); diff != "" {
		t.Errorf("a refused SaveDelivery changed the delivery (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(incident.Delivery{Integration: "slack", IncidentID: c.ID}, delivery(t, st, "slack", c.ID), sameDelivery); diff != "" {
		t.Errorf("a refused SaveDelivery stored a delivery (-want +got):\n%s", diff)
	}
	for ref, want := range map[string]int64{"CA": a.Number, "CB": b.Number, "CB2": 0, "CC": 0} {
		got, err := st.ByRef(ctx, "slack", ref)
		switch {
		case want == 0 && incident.ErrorCode(err) != incident.ENOTFOUND:
			t.Errorf("ByRef(%s) after refused saves = %v, %v; want ENOTFOUND", ref, got, err)
		case want != 0 && (err != nil || got.Number != want):
			t.Errorf("ByRef(%s) after refused saves = %v, %v; want #%d", ref, got, err, want)
		}
	}
	if got := get(t, st, b.Number); got.Version != 1 {
		t.Errorf("#%d's Version = %d after delivery saves, want 1", b.Number, got.Version)
	}
}

// Saving a delivery is not a change of the incident: its Version stays,
// and Changes does not report it.
func (s suite) testDeliveryLeavesIncidentAlone(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	inc := Create(t, st, "a")
	before := get(t, st, inc.Number)
	_, latest, err := st.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	saveDelivery(t, st, incident.Delivery{Integration: "slack", IncidentID: inc.ID, Cursor: 5, Version: 5, Refs: []string{"C1"}, State: []byte(`{}`)})
	saveDelivery(t, st, incident.Delivery{Integration: "pager", IncidentID: inc.ID, Problem: "down"})
	if diff := cmp.Diff(before, get(t, st, inc.Number)); diff != "" {
		t.Errorf("SaveDelivery changed the incident (-before +after):\n%s", diff)
	}
	if changes, l, err := st.Changes(ctx, latest); err != nil || len(changes) != 0 || l != latest {
		t.Errorf("Changes after SaveDelivery = %v, %d, %v; want none, %d", changes, l, err, latest)
	}
}

// Deliveries reads the progress of several incidents at once: those that
// have some, for the integration asked about.
func (s suite) testDeliveries(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	a, b, c := Create(t, st, "a"), Create(t, st, "b"), Create(t, st, "c")
	da := incident.Delivery{Integration: "slack", IncidentID: a.ID, Cursor: 1, Version: 1, Refs: []string{"CA"}, State: []byte(`{"a":1}`)}
	dc := incident.Delivery{Integration: "slack", IncidentID: c.ID, Cursor: 3, Version: 1, Problem: "p", Refs: []string{"CC", "CC2"}, State: []byte(`{"c":3}`)}
	saveDelivery(t, st, da)
	saveDelivery(t, st, dc)
	saveDelivery(t, st, incident.Delivery{Integration: "pager", IncidentID: b.ID, Cursor: 2})

	for _, tc := range []struct {
		name string
		ids  []string
		want map[string]incident.Delivery
	}{
		{"all", []string{a.ID, b.ID, c.ID}, map[string]incident.Delivery{a.ID: da, c.ID: dc}},
		{"in another order", []string{c.ID, a.ID}, map[string]incident.Delivery{a.ID: da, c.ID: dc}},
		{"one", []string{c.ID}, map[string]incident.Delivery{c.ID: dc}},
		{"none with progress", []string{b.ID}, map[string]incident.Delivery{}},
		{"unknown IDs", []string{"no-such-id", a.ID, a.ID}, map[string]incident.Delivery{a.ID: da}},
		{"no IDs", nil, map[string]incident.Delivery{}},
	} {
		got, err := st.Deliveries(ctx, "slack", tc.ids)
		if err != nil {
			t.Fatalf("%s: Deliveries: %v", tc.name, err)
		}
		if diff := cmp.Diff(tc.want, got, sameDelivery); diff != "" {
			t.Errorf("%s: Deliveries (-want +got):\n%s", tc.name, diff)
		}
	}
}

func behind(t *testing.T, st incident.Store, integration string) []int64 {
	t.Helper()
	got, err := st.Behind(context.Background(), integration)
	if err != nil {
		t.Fatalf("Behind(%s): %v", integration, err)
	}
	return got
}

// An integration is behind on an incident until it has delivered the last
// event (Cursor) and the current Version; never having saved progress is
// being behind. Behind lists them oldest first.
func (s suite) testBehind(t *testing.T) {
	st := s.open(t)
	want := func(want ...int64) {
		t.Helper()
		got := behind(t, st, "slack")
		if len(got) == 0 {
			got = nil
		}
		if !slices.Equal(got, want) {
			t.Errorf("Behind = %v, want %v", got, want)
		}
	}
	setCursor := func(inc *incident.Incident, cursor, version int64) {
		t.Helper()
		d := delivery(t, st, "slack", inc.ID)
		d.Cursor, d.Version = cursor, version
		saveDelivery(t, st, d)
	}

	want()
	a, b, c := Create(t, st, "a"), Create(t, st, "b"), Create(t, st, "c")
	want(1, 2, 3) // never delivered
	caughtUp(t, st, "slack", b.Number)
	want(1, 3)
	caughtUp(t, st, "slack", c.Number)
	caughtUp(t, st, "slack", a.Number)
	want()

	// A change with an event is behind on both counts.
	setStatus(t, st, a.Number, incident.Identified)
	want(1)
	setCursor(a, lastSeq(t, st, a.ID), 1)
	want(1) // the Version is not delivered yet
	setCursor(a, 0, get(t, st, a.Number).Version)
	want(1) // nor the event
	caughtUp(t, st, "slack", a.Number)
	want()

	// A change without events lags only on its Version.
	quietEdit(t, st, c.Number)
	want(3)
	caughtUp(t, st, "slack", c.Number)
	want()

	// A delivery ahead of the incident is caught up (≥, not =).
	setCursor(b, lastSeq(t, st, b.ID)+100, get(t, st, b.Number).Version+1)
	want()
	caughtUp(t, st, "slack", b.Number)

	// Progress saved with nothing delivered is still behind.
	d := Create(t, st, "d")
	saveDelivery(t, st, incident.Delivery{Integration: "slack", IncidentID: d.ID, Refs: []string{"CD"}, State: []byte(`{"posting":"card"}`)})
	want(4)
	caughtUp(t, st, "slack", d.Number)
	want()

	// Oldest first, whatever order they fell behind in.
	setStatus(t, st, c.Number, incident.Monitoring)
	note(t, st, d.Number, "n")
	setStatus(t, st, a.Number, incident.Monitoring)
	quietEdit(t, st, b.Number)
	want(1, 2, 3, 4)
}

// Each integration has its own progress: one caught up says nothing of
// another.
func (s suite) testBehindPerIntegration(t *testing.T) {
	st := s.open(t)
	a, b := Create(t, st, "a"), Create(t, st, "b")
	caughtUp(t, st, "slack", a.Number)
	caughtUp(t, st, "slack", b.Number)
	caughtUp(t, st, "pager", b.Number)
	if got := behind(t, st, "slack"); len(got) != 0 {
		t.Errorf("Behind(slack) = %v, want none", got)
	}
	if got := behind(t, st, "pager"); !slices.Equal(got, []int64{1}) {
		t.Errorf("Behind(pager) = %v, want [1]", got)
	}
	if got := behind(t, st, "never-used"); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("Behind(never-used) = %v, want [1 2]", got)
	}
	note(t, st, b.Number, "n")
	if got := behind(t, st, "slack"); !slices.Equal(got, []int64{2}) {
		t.Errorf("Behind(slack) after a note on #2 = %v, want [2]", got)
	}
	if got := behind(t, st, "pager"); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("Behind(pager) after a note on #2 = %v, want [1 2]", got)
	}
}

// Pending counts what Behind lists and says when the oldest change not yet
// delivered was recorded: the first event past the integration's cursor.
func (s suite) testPending(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	clk := clock.NewFake(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
	recorded := s.SetNow != nil
	if recorded {
		s.SetNow(st, clk.Now)
	}
	pending := func(what string, n int, oldest time.Time) {
		t.Helper()
		p, err := st.Pending(ctx, "slack")
		if err != nil {
			t.Fatal(err)
		}
		if p.Incidents != n {
			t.Errorf("%s: %d incidents pending, want %d", what, p.Incidents, n)
		}
		if got := len(behind(t, st, "slack")); got != p.Incidents {
			t.Errorf("%s: Pending counts %d, Behind lists %d", what, p.Incidents, got)
		}
		switch {
		case n == 0 && !p.Oldest.IsZero():
			t.Errorf("%s: nothing pending, but the oldest change was recorded at %v", what, p.Oldest)
		case n > 0 && p.Oldest.IsZero():
			t.Errorf("%s: %d pending, but no time for the oldest", what, n)
		case n > 0 && recorded && !p.Oldest.Equal(oldest):
			t.Errorf("%s: oldest pending change recorded at %v, want %v", what, p.Oldest, oldest)
		}
	}

	pending("an empty store", 0, time.Time{})
	start := clk.Now()
	a := NewIncident("a")
	if err := st.Create(ctx, a, append(Declared(a), incident.Event{At: t0, Kind: incident.KindNote, Text: "n"})); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	b := Create(t, st, "b")
	pending("two never delivered", 2, start)
	caughtUp(t, st, "slack", a.Number)
	pending("one never delivered", 1, start.Add(time.Minute))
	caughtUp(t, st, "slack", b.Number)
	pending("all delivered", 0, time.Time{})

	// The first event not delivered counts, not the last, nor the
	// incident's own times.
	clk.Advance(time.Minute) // 09:02
	note(t, st, b.Number, "b1")
	clk.Advance(time.Minute) // 09:03
	note(t, st, a.Number, "a1")
	clk.Advance(time.Minute) // 09:04
	note(t, st, a.Number, "a2")
	clk.Advance(time.Minute)
	pending("notes on both", 2, start.Add(2*time.Minute))
	caughtUp(t, st, "slack", b.Number)
	pending("b delivered", 1, start.Add(3*time.Minute))

	// Partly delivered: the first event after the cursor.
	evs := events(t, st, a.ID)
	d := delivery(t, st, "slack", a.ID)
	d.Cursor = evs[len(evs)-2].Seq
	saveDelivery(t, st, d)
	pending("a partly delivered", 1, start.Add(4*time.Minute))
	caughtUp(t, st, "slack", a.Number)
	pending("all delivered again", 0, time.Time{})

	// Another integration is pending on its own.
	p, err := st.Pending(ctx, "pager")
	if err != nil {
		t.Fatal(err)
	}
	if p.Incidents != 2 || (recorded && !p.Oldest.Equal(start)) || (!recorded && p.Oldest.IsZero()) {
		t.Errorf("Pending(pager) = %+v, want both incidents, since %v", p, start)
	}
}
