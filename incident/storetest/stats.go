package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sitrep-dev/sitrep/incident"
)

// A key is claimed once: the first Claim says so, later ones (at any time,
// through any handle) do not.
func (s suite) testClaim(t *testing.T) {
	ctx := context.Background()
	st1, st2 := s.handles(t)
	for _, tc := range []struct {
		st   incident.Store
		key  string
		at   time.Time
		want bool
	}{
		{st1, "event:Ev1", t0, true},
		{st1, "event:Ev1", t0, false},
		{st2, "event:Ev1", t0.Add(time.Minute), false},
		{st1, "event:Ev2", t0.Add(time.Minute), true},
		{st2, "event:ev1", t0.Add(2 * time.Minute), true}, // keys are case-sensitive
	} {
		got, err := tc.st.Claim(ctx, tc.key, tc.at)
		if err != nil {
			t.Fatalf("Claim(%q): %v", tc.key, err)
		}
		if got != tc.want {
			t.Errorf("Claim(%q at %v) = %v, want %v", tc.key, tc.at, got, tc.want)
		}
	}
}

// Stats counts incidents by status and severity, leaving out the
// combinations with none.
func (s suite) testStats(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	got, err := st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Counts) != 0 {
		t.Errorf("Stats of an empty store: %+v", got)
	}

	for _, sev := range []string{"sev1", "sev1", "sev3", "sev1", "sev2"} {
		inc := NewIncident("x")
		inc.Severity = sev
		if err := st.Create(ctx, inc, Declared(inc)); err != nil {
			t.Fatal(err)
		}
	}
	setStatus(t, st, 1, incident.Resolved)
	setStatus(t, st, 4, incident.Closed)
	setStatus(t, st, 5, incident.Monitoring)
	// Deliveries are no part of the figures.
	caughtUp(t, st, "slack", 2)

	got, err = st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := incident.Stats{Counts: []incident.Count{
		{Status: incident.Investigating, Severity: "sev1", N: 1},
		{Status: incident.Investigating, Severity: "sev3", N: 1},
		{Status: incident.Monitoring, Severity: "sev2", N: 1},
		{Status: incident.Resolved, Severity: "sev1", N: 1},
		{Status: incident.Closed, Severity: "sev1", N: 1},
	}}
	byStatusAndSeverity := cmpopts.SortSlices(func(a, b incident.Count) bool {
		if a.Status != b.Status {
			return a.Status < b.Status
		}
		return a.Severity < b.Severity
	})
	if diff := cmp.Diff(want, got, byStatusAndSeverity); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}

	setStatus(t, st, 2, incident.Resolved)
	got, err = st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want.Counts = []incident.Count{
		{Status: incident.Investigating, Severity: "sev3", N: 1},
		{Status: incident.Monitoring, Severity: "sev2", N: 1},
		{Status: incident.Resolved, Severity: "sev1", N: 2},
		{Status: incident.Closed, Severity: "sev1", N: 1},
	}
	if diff := cmp.Diff(want, got, byStatusAndSeverity); diff != "" {
		t.Errorf("Stats after #2 resolved (-want +got):\n%s", diff)
	}
}

func (s suite) testPing(t *testing.T) {
	if err := s.open(t).Ping(context.Background()); err != nil {
		t.Errorf("Ping of an open store: %v", err)
	}
}
