package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
)

// Every field survives a round trip: times in any zone, with nanoseconds and
// monotonic readings, come back Equal and in UTC; zero times stay zero.
func (s suite) testRoundTrip(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)

	berlin := time.FixedZone("CEST", 2*60*60)
	declaredAt := time.Date(2025, 6, 1, 14, 3, 4, 123456789, berlin)
	inc := &incident.Incident{
		ID:        "0b5c8f1e-6d2a-4c1e-9a57-2f6e1c9d8b10",
		Title:     "Checkout returns 500 — \"payments\" 🔥",
		Severity:  "sev1",
		Status:    incident.Identified,
		Summary:   "summary",
		Impact:    "EU customers cannot pay",
		RootCause: "expired cert",
		// The fields written for the postmortem, multi-line as forms
		// send them.
		Mitigation:          "rolled back\nthe cert",
		ContributingFactors: "no expiry alert",
		WentWell:            "fast *paging*",
		WentBadly:           "status page late",
		Learnings:           "alert on expiry\nrotate early",
		Remediations:        "add an expiry check\nautomate rotation",
		Services:            []string{"checkout", "payments"},
		Private:             true,
		Drill:               true,
		DeclaredBy:          "U1",
		Source:              "alertmanager",
		Roles:               map[string]string{incident.CommanderRole: "U1", "comms": "U2", "scribe": "U3"},
		DeclaredAt:          declaredAt,
		ResolvedAt:          declaredAt.Add(90 * time.Minute),
		UpdatedAt:           time.Now(), // a monotonic reading in the local zone, which the store must drop
		Version:             42,         // Create sets it to 1
		Number:              7,          // Create assigns it
	}
	evs := []incident.Event{
		{At: declaredAt, Kind: incident.KindDeclared, Actor: "U1", Data: map[string]string{"severity": "sev1"}, Names: map[string]string{"U1": "Ada Lovelace — \"ops\""}},
		{At: declaredAt, Kind: incident.EventKind(incident.FieldRootCause), Actor: "U2", Text: "expired cert", Names: map[string]string{"U2": "Bob", "U4": "Zoë"}},
		{At: time.Now(), Kind: incident.KindNote, Actor: "U2", Text: "looking at the LB\nsecond line", Source: "https://x.slack.com/archives/C1/p1"},
		{At: declaredAt.Add(time.Nanosecond), Kind: incident.KindRole, Actor: "U1", Data: map[string]string{"role": "comms", "user": "U2", "previous": ""}},
		{At: declaredAt, Kind: incident.KindMessage, Text: "keyed", Key: "msg:1", Data: map[string]string{"author": "U4"}},
	}
	if err := st.Create(ctx, inc, evs); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if inc.Number != 1 || inc.Version != 1 || inc.ID != "0b5c8f1e-6d2a-4c1e-9a57-2f6e1c9d8b10" {
		t.Errorf("after Create: Number %d Version %d ID %q, want 1, 1 and the given ID", inc.Number, inc.Version, inc.ID)
	}
	for i, e := range evs {
		if e.IncidentID != inc.ID || e.Seq == 0 || (i > 0 && e.Seq <= evs[i-1].Seq) {
			t.Errorf("event %d: IncidentID %q Seq %d; want the incident's ID and increasing seqs", i, e.IncidentID, e.Seq)
		}
	}

	got := get(t, st, 1)
	if diff := cmp.Diff(inc, got); diff != "" {
		t.Errorf("Get after Create (-want +got):\n%s", diff)
	}
	for _, tm := range []time.Time{got.DeclaredAt, got.ResolvedAt, got.UpdatedAt} {
		if tm.Location() != time.UTC {
			t.Errorf("time %v is not in UTC", tm)
		}
	}
	if !got.ClosedAt.IsZero() {
		t.Errorf("ClosedAt = %v, want zero", got.ClosedAt)
	}

	gotEvents := events(t, st, inc.ID)
	if diff := cmp.Diff(evs, gotEvents); diff != "" {
		t.Errorf("Events (-want +got):\n%s", diff)
	}
	for _, e := range gotEvents {
		if e.At.Location() != time.UTC {
			t.Errorf("event time %v is not in UTC", e.At)
		}
	}
}

// Empty values have one stored form and come back the same way: no services
// is nil, no data is nil, and Roles is never nil so callers may assign to it.
// An incident given no ID gets one.
func (s suite) testRoundTripEmpty(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	inc := &incident.Incident{Title: "t", Severity: "sev3", Status: incident.Investigating,
		Services: []string{}, DeclaredAt: t0, UpdatedAt: t0}
	evs := []incident.Event{{At: t0, Kind: incident.KindNote, Data: map[string]string{}}}
	if err := st.Create(ctx, inc, evs); err != nil {
		t.Fatal(err)
	}
	if inc.ID == "" {
		t.Error("Create did not assign an ID")
	}
	want := *inc
	want.Services = nil
	want.Roles = map[string]string{}
	if diff := cmp.Diff(&want, get(t, st, inc.Number)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := events(t, st, inc.ID); len(got) != 1 || got[0].Data != nil || got[0].Names != nil {
		t.Errorf("events = %+v, want one with nil Data and Names", got)
	}

	// Assigned IDs differ.
	other := Create(t, st, "other")
	if other.ID == "" || other.ID == inc.ID {
		t.Errorf("second incident's ID %q, first's %q; want distinct IDs", other.ID, inc.ID)
	}
}

// Incidents are numbered 1, 2, 3, … in the order they are created, each
// starting at Version 1.
func (s suite) testCreateNumbers(t *testing.T) {
	st := s.open(t)
	for want := int64(1); want <= 5; want++ {
		inc := Create(t, st, fmt.Sprint(want))
		if inc.Number != want || inc.Version != 1 {
			t.Errorf("incident %d created as #%d version %d, want #%d version 1", want, inc.Number, inc.Version, want)
		}
	}
}

// A failed Create stores nothing, leaves the caller's values alone, and
// uses up no number. An ID that is taken makes it fail.
func (s suite) testCreateFailureChangesNothing(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	first := Create(t, st, "first")
	_, latest, err := st.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}

	inc := NewIncident("same ID")
	inc.ID = first.ID
	evs := Declared(inc)
	if err := st.Create(ctx, inc, evs); err == nil {
		t.Fatal("Create with an ID that is taken succeeded")
	}
	if inc.ID != first.ID || inc.Number != 0 || inc.Version != 0 || evs[0].Seq != 0 || evs[0].IncidentID != "" {
		t.Errorf("failed Create changed its arguments: %+v %+v", inc, evs[0])
	}
	if all, _ := st.List(ctx, incident.ListFilter{}); len(all) != 1 {
		t.Errorf("after a failed Create the store holds %d incidents, want 1", len(all))
	}
	if got := events(t, st, first.ID); len(got) != 1 {
		t.Errorf("the failed Create added events to the incident with its ID: %+v", got)
	}
	if changes, l, err := st.Changes(ctx, latest); err != nil || len(changes) != 0 || l != latest {
		t.Errorf("Changes after a failed Create = %v, %d, %v; want none, %d", changes, l, err, latest)
	}
	if got := Create(t, st, "second"); got.Number != 2 {
		t.Errorf("next Create got #%d, want #2", got.Number)
	}
}

func (s suite) testUpdate(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	inc := Create(t, st, "API slow")
	other := Create(t, st, "Other")
	d := incident.Delivery{Integration: "slack", IncidentID: inc.ID, Cursor: 1, Version: 1, Refs: []string{"C1"}, State: []byte(`{"a":1}`)}
	if err := st.SaveDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	before, err := st.Delivery(ctx, "slack", inc.ID)
	if err != nil {
		t.Fatal(err)
	}

	resolvedAt := t0.Add(time.Hour)
	var fnEvents []incident.Event
	got, err := st.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
		i.Title = "API slow in eu-west"
		i.Severity = "sev1"
		i.Status = incident.Resolved
		i.Summary, i.Impact, i.RootCause = "fixed", "slow pages", "bad deploy"
		i.Mitigation, i.ContributingFactors, i.WentWell, i.WentBadly = "rollback", "no canary", "paging", "comms"
		i.Learnings, i.Remediations = "canary first", "add a canary"
		i.Services = []string{"api"}
		i.Private, i.Drill = true, true
		i.ResolvedAt = resolvedAt
		i.UpdatedAt = resolvedAt
		delete(i.Roles, "nobody")
		i.Roles["scribe"] = "U9"
		i.Roles[incident.CommanderRole] = "U2"
		// Not the domain's to change; Update ignores these.
		i.Number, i.Version, i.ID = 99, 99, "evil"
		fnEvents = []incident.Event{
			{At: resolvedAt, Kind: incident.KindResolved, Actor: "U2", Text: "fixed", Data: map[string]string{"from": "investigating"}},
			{At: resolvedAt, Kind: incident.KindRole, Actor: "U2", Data: map[string]string{"role": "scribe", "user": "U9"}},
		}
		return fnEvents, nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}

	want := *inc
	want.Title = "API slow in eu-west"
	want.Severity = "sev1"
	want.Status = incident.Resolved
	want.Summary, want.Impact, want.RootCause = "fixed", "slow pages", "bad deploy"
	want.Mitigation, want.ContributingFactors, want.WentWell, want.WentBadly = "rollback", "no canary", "paging", "comms"
	want.Learnings, want.Remediations = "canary first", "add a canary"
	want.Services = []string{"api"}
	want.Private, want.Drill = true, true
	want.ResolvedAt = resolvedAt
	want.UpdatedAt = resolvedAt
	want.Roles = map[string]string{incident.CommanderRole: "U2", "scribe": "U9"}
	want.Version = 2
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("Update result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(got, get(t, st, inc.Number)); diff != "" {
		t.Errorf("Get differs from Update's result (-update +get):\n%s", diff)
	}

	evs := events(t, st, inc.ID)
	if len(evs) != 3 || evs[1].Kind != incident.KindResolved || evs[2].Kind != incident.KindRole {
		t.Fatalf("events = %+v, want declared, resolved, role", evs)
	}
	for i, e := range fnEvents {
		if e.Seq != evs[i+1].Seq || e.IncidentID != inc.ID {
			t.Errorf("fn event %d: Seq %d IncidentID %q, want %d %q", i, e.Seq, e.IncidentID, evs[i+1].Seq, inc.ID)
		}
	}

	// The other incident is untouched, and so is what integrations have
	// delivered: a change of the incident is not a change of them.
	if o := get(t, st, other.Number); o.Version != 1 || o.Title != "Other" {
		t.Errorf("other incident = %+v; want it unchanged", o)
	}
	after, err := st.Delivery(ctx, "slack", inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("Update changed the incident's delivery (-before +after):\n%s", diff)
	}
}

// An Update whose fn fails stores nothing, returns fn's error, and is no
// change: Changes does not report it.
func (s suite) testUpdateRollsBackWhenFnFails(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	inc := Create(t, st, "Stable")
	before := get(t, st, inc.Number)
	_, latest, err := st.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}

	for _, fnErr := range []error{
		errors.New("boom"),
		incident.Errorf(incident.ECONFLICT, "Incident #1 is already resolved."),
	} {
		got, err := st.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
			i.Title = "changed"
			i.Roles["comms"] = "U5"
			i.Checklist = append(i.Checklist, incident.CheckItem{ID: "x", Kind: incident.Task, Text: "x"})
			i.FollowUps = append(i.FollowUps, incident.FollowUp{ID: 1, Text: "f", CreatedBy: "U1", CreatedAt: t0})
			return []incident.Event{{At: t0, Kind: incident.KindNote, Text: "x"}}, fnErr
		})
		if !errors.Is(err, fnErr) {
			t.Errorf("Update returned %v, want fn's error %v", err, fnErr)
		}
		if incident.ErrorCode(err) != incident.ErrorCode(fnErr) {
			t.Errorf("Update's error has code %q, want fn's %q", incident.ErrorCode(err), incident.ErrorCode(fnErr))
		}
		if got != nil {
			t.Errorf("Update returned an incident with an error: %+v", got)
		}
	}

	if diff := cmp.Diff(before, get(t, st, inc.Number)); diff != "" {
		t.Errorf("failed Update changed the incident (-before +after):\n%s", diff)
	}
	if evs := events(t, st, inc.ID); len(evs) != 1 {
		t.Errorf("failed Update left %d events, want 1", len(evs))
	}
	if changes, l, err := st.Changes(ctx, latest); err != nil || len(changes) != 0 || l != latest {
		t.Errorf("Changes after failed Updates = %v, %d, %v; want none, %d", changes, l, err, latest)
	}
}

// A panicking fn must roll back and release whatever the store holds;
// otherwise every later write would hang.
func (s suite) testUpdateSurvivesPanic(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	inc := Create(t, st, "p")
	func() {
		defer func() { recover() }()
		st.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
			i.Title = "half done"
			panic("bug")
		})
	}()
	// Were anything leaked, this would wait for it until the deadline.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := st.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) { return nil, nil })
	if err != nil {
		t.Fatalf("Update after a panicking Update: %v", err)
	}
	if got.Title != "p" || got.Version != 2 {
		t.Errorf("after a panicking Update: Title %q Version %d, want %q 2", got.Title, got.Version, "p")
	}
	if _, err := st.Claim(ctx, "after-panic", t0); err != nil {
		t.Errorf("Claim after a panicking Update: %v", err)
	}
}

// The domain only adds and answers parts (checklist items, follow-ups). An
// Update that removes or reorders them is a bug, refused whole.
func (s suite) testUpdateRefusesLosingParts(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	inc := WithParts("Checkout failing")
	if err := st.Create(ctx, inc, Declared(inc)); err != nil {
		t.Fatal(err)
	}
	stored := get(t, st, inc.Number)
	for _, tt := range []struct {
		name string
		fn   func(*incident.Incident)
	}{
		{"remove the last item", func(i *incident.Incident) { i.Checklist = i.Checklist[:len(i.Checklist)-1] }},
		{"remove every item", func(i *incident.Incident) { i.Checklist = nil }},
		{"swap items", func(i *incident.Incident) { i.Checklist[0], i.Checklist[1] = i.Checklist[1], i.Checklist[0] }},
		{"replace an item", func(i *incident.Incident) { i.Checklist[2].ID = "other" }},
		{"remove a follow-up", func(i *incident.Incident) { i.FollowUps = i.FollowUps[1:] }},
		{"remove every follow-up", func(i *incident.Incident) { i.FollowUps = nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := st.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
				tt.fn(i)
				i.Title = "changed"
				return []incident.Event{{At: t0, Kind: incident.KindNote, Text: "x"}}, nil
			})
			if err == nil {
				t.Errorf("Update succeeded, want it refused")
			}
			if diff := cmp.Diff(stored, get(t, st, inc.Number)); diff != "" {
				t.Errorf("a refused Update changed the incident (-before +after):\n%s", diff)
			}
			if evs := events(t, st, inc.ID); len(evs) != 1 {
				t.Errorf("a refused Update left %d events", len(evs)-1)
			}
		})
	}
}

// An event Key is stored once per incident: a second event with it fails
// the whole change with ECONFLICT, whether in Create or Update, and the
// same key is free on another incident.
func (s suite) testEventKeys(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	a := NewIncident("a")
	evs := append(Declared(a), incident.Event{At: t0, Kind: incident.KindMessage, Text: "hi", Key: "msg:1"})
	if err := st.Create(ctx, a, evs); err != nil {
		t.Fatal(err)
	}
	before := get(t, st, a.Number)
	_, latest, err := st.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}

	for name, keys := range map[string][]string{
		"a key the incident has":      {"msg:1"},
		"a key twice in one change":   {"msg:2", "msg:2"},
		"a new key, then a known one": {"msg:3", "msg:1"},
	} {
		_, err := st.Update(ctx, a.Number, func(i *incident.Incident) ([]incident.Event, error) {
			i.Title = "changed"
			var evs []incident.Event
			for _, k := range keys {
				evs = append(evs, incident.Event{At: t0, Kind: incident.KindMessage, Text: "again", Key: k})
			}
			return evs, nil
		})
		if incident.ErrorCode(err) != incident.ECONFLICT {
			t.Errorf("%s: Update err = %v, want ECONFLICT", name, err)
		}
	}
	if diff := cmp.Diff(before, get(t, st, a.Number)); diff != "" {
		t.Errorf("refused Updates changed the incident (-before +after):\n%s", diff)
	}
	if got := events(t, st, a.ID); len(got) != 2 {
		t.Errorf("refused Updates left %d events, want 2", len(got))
	}
	if changes, l, err := st.Changes(ctx, latest); err != nil || len(changes) != 0 || l != latest {
		t.Errorf("Changes after refused Updates = %v, %d, %v; want none", changes, l, err)
	}

	// A Create with a key twice stores nothing.
	dup := NewIncident("dup")
	err = st.Create(ctx, dup, append(Declared(dup),
		incident.Event{At: t0, Kind: incident.KindMessage, Key: "k"},
		incident.Event{At: t0, Kind: incident.KindMessage, Key: "k"}))
	if incident.ErrorCode(err) != incident.ECONFLICT {
		t.Errorf("Create with a key twice: err = %v, want ECONFLICT", err)
	}
	if all, _ := st.List(ctx, incident.ListFilter{}); len(all) != 1 {
		t.Errorf("a refused Create stored an incident: %v", numbers(all))
	}

	// Keys are per incident; events without one never clash.
	b := Create(t, st, "b")
	for range 2 {
		if _, err := st.Update(ctx, b.Number, func(i *incident.Incident) ([]incident.Event, error) {
			return []incident.Event{{At: t0, Kind: incident.KindNote, Text: "unkeyed"}}, nil
		}); err != nil {
			t.Errorf("an event without a key: %v", err)
		}
	}
	if _, err := st.Update(ctx, b.Number, func(i *incident.Incident) ([]incident.Event, error) {
		return []incident.Event{{At: t0, Kind: incident.KindMessage, Text: "hi", Key: "msg:1"}}, nil
	}); err != nil {
		t.Errorf("another incident's key: %v", err)
	}
}

func (s suite) testNotFound(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	inc := Create(t, st, "exists") // has no refs, so must not match ""
	if err := st.SaveDelivery(ctx, incident.Delivery{Integration: "slack", IncidentID: inc.ID}); err != nil {
		t.Fatal(err)
	}

	called := false
	_, err := st.Update(ctx, 99, func(*incident.Incident) ([]incident.Event, error) { called = true; return nil, nil })
	if called {
		t.Error("Update called fn for a missing incident")
	}
	for name, err := range map[string]error{
		"Update":                    err,
		"Get":                       second(st.Get(ctx, 99)),
		"Get(0)":                    second(st.Get(ctx, 0)),
		"ByRef":                     second(st.ByRef(ctx, "slack", "C-none")),
		"ByRef('')":                 second(st.ByRef(ctx, "slack", "")),
		"SaveDelivery with refs":    st.SaveDelivery(ctx, incident.Delivery{Integration: "slack", IncidentID: "no-such-id", Refs: []string{"C9"}}),
		"SaveDelivery without refs": st.SaveDelivery(ctx, incident.Delivery{Integration: "pager", IncidentID: "no-such-id"}),
	} {
		if incident.ErrorCode(err) != incident.ENOTFOUND {
			t.Errorf("%s: err = %v, want ENOTFOUND", name, err)
		}
	}
	if msg := incident.ErrorMessage(second(st.Get(ctx, 99))); msg != "There is no incident #99." {
		t.Errorf("Get message = %q", msg)
	}
	// A failed SaveDelivery leaves no trace.
	if ds, err := st.Deliveries(ctx, "slack", []string{"no-such-id"}); err != nil || len(ds) != 0 {
		t.Errorf("Deliveries of an unknown incident = %v, %v; want none", ds, err)
	}
	if got := second(st.ByRef(ctx, "slack", "C9")); incident.ErrorCode(got) != incident.ENOTFOUND {
		t.Errorf("ByRef of a ref a failed SaveDelivery gave: %v, want ENOTFOUND", got)
	}
}

func (s suite) testList(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	if got, err := st.List(ctx, incident.ListFilter{}); err != nil || len(got) != 0 {
		t.Fatalf("List of an empty store = %v, %v", got, err)
	}
	for _, title := range []string{"1", "2", "3", "4", "5"} {
		Create(t, st, title)
	}
	setStatus(t, st, 2, incident.Resolved)
	setStatus(t, st, 4, incident.Closed)
	setStatus(t, st, 5, incident.Monitoring)

	for _, tc := range []struct {
		f    incident.ListFilter
		want []int64
	}{
		{incident.ListFilter{}, []int64{5, 4, 3, 2, 1}},
		{incident.ListFilter{OpenOnly: true}, []int64{5, 3, 1}},
		{incident.ListFilter{Limit: 2}, []int64{5, 4}},
		{incident.ListFilter{OpenOnly: true, Limit: 2}, []int64{5, 3}},
		{incident.ListFilter{Limit: 10}, []int64{5, 4, 3, 2, 1}},
		{incident.ListFilter{Limit: -1}, []int64{5, 4, 3, 2, 1}},
	} {
		got, err := st.List(ctx, tc.f)
		if err != nil {
			t.Fatalf("List(%+v): %v", tc.f, err)
		}
		if !slices.Equal(numbers(got), tc.want) {
			t.Errorf("List(%+v) = %v, want %v", tc.f, numbers(got), tc.want)
		}
	}
	// List returns whole incidents, as Get does.
	got, err := st.List(ctx, incident.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, inc := range got {
		if diff := cmp.Diff(get(t, st, inc.Number), inc); diff != "" {
			t.Errorf("List's #%d differs from Get's (-get +list):\n%s", inc.Number, diff)
		}
	}
}

func (s suite) testEventsAfterSeq(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	a := NewIncident("a")
	evs := []incident.Event{
		{At: t0, Kind: incident.KindDeclared},
		{At: t0, Kind: incident.KindNote, Text: "one"},
		{At: t0, Kind: incident.KindNote, Text: "two"},
	}
	if err := st.Create(ctx, a, evs); err != nil {
		t.Fatal(err)
	}
	b := Create(t, st, "b") // interleaves its own events
	setStatus(t, st, a.Number, incident.Identified)

	all := events(t, st, a.ID)
	if len(all) != 4 {
		t.Fatalf("%d events, want 4", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq || all[i].IncidentID != a.ID {
			t.Fatalf("events out of order or foreign: %+v", all)
		}
	}
	for _, tc := range []struct {
		after int64
		want  []int64
	}{
		{evs[0].Seq, []int64{evs[1].Seq, evs[2].Seq, all[3].Seq}},
		{evs[2].Seq, []int64{all[3].Seq}},
		{all[3].Seq, nil},
	} {
		got, err := st.Events(ctx, a.ID, tc.after)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, e := range got {
			seqs = append(seqs, e.Seq)
		}
		if !slices.Equal(seqs, tc.want) {
			t.Errorf("Events(after %d) = %v, want %v", tc.after, seqs, tc.want)
		}
	}
	if got, err := st.Events(ctx, "no-such-id", 0); err != nil || len(got) != 0 {
		t.Errorf("Events of an unknown incident = %v, %v; want none", got, err)
	}
	if got := events(t, st, b.ID); len(got) != 1 {
		t.Errorf("b has %d events, want 1", len(got))
	}
}
