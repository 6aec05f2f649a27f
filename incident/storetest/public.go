package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
)

// publicUpdate is a published update at at, with one component.
func publicUpdate(status incident.PublicStatus, at time.Time) incident.PublicUpdate {
	return incident.PublicUpdate{
		Title:      "Elevated errors <checkout> & \"payments\"",
		Status:     status,
		Components: []incident.ComponentImpact{{Name: "API", Status: incident.PartialOutage}, {Name: "Web app", Status: incident.DegradedPerformance}},
		Message:    "We are investigating.\nMore soon 🔧",
		By:         "U2",
		At:         at,
	}
}

// An incident's public page (ID, published updates in order, a draft)
// comes back as stored through Get, List and Update, times in UTC; and an
// incident that published nothing has the zero page.
func (s suite) testPublicRoundTrip(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	cest := time.FixedZone("CEST", 2*60*60)
	inc := NewIncident("Checkout failing")
	inc.Public = incident.PublicPage{ID: "abc123def456", Updates: []incident.PublicUpdate{publicUpdate(incident.PublicInvestigating, t0.In(cest))}}
	if err := st.Create(ctx, inc, Declared(inc)); err != nil {
		t.Fatal(err)
	}
	plain := Create(t, st, "Nothing public")
	if got := get(t, st, plain.Number).Public; !cmp.Equal(got, incident.PublicPage{}) {
		t.Errorf("an incident that published nothing has page %+v, want the zero page", got)
	}
	want := get(t, st, inc.Number)
	if u := want.Public.Updates[0]; u.At.Location() != time.UTC || !u.At.Equal(t0) {
		t.Errorf("update time read back as %v, want %v in UTC", u.At, t0)
	}
	if diff := cmp.Diff(inc.Public.Updates[0].Message, want.Public.Updates[0].Message); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}

	draft := publicUpdate(incident.PublicIdentified, t0.Add(time.Minute))
	draft.Components = nil
	updated, err := st.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
		next := publicUpdate(incident.PublicMonitoring, t0.Add(2*time.Minute))
		next.ApprovedBy = "U1"
		i.Public.Updates = append(i.Public.Updates, next)
		i.Public.Draft = &draft
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := get(t, st, inc.Number)
	if diff := cmp.Diff(updated, got); diff != "" {
		t.Errorf("Update's result differs from Get (-update +get):\n%s", diff)
	}
	if len(got.Public.Updates) != 2 || got.Public.Updates[1].ApprovedBy != "U1" || got.Public.Draft == nil || got.Public.Draft.Status != incident.PublicIdentified {
		t.Errorf("after Update the page is %+v, want two updates (the second approved by U1) and the identified draft", got.Public)
	}
	list, err := st.List(ctx, incident.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range list {
		if l.Number == inc.Number {
			if diff := cmp.Diff(got.Public, l.Public); diff != "" {
				t.Errorf("List's page differs from Get's (-get +list):\n%s", diff)
			}
		}
	}

	// Clearing the draft clears it.
	if _, err := st.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
		i.Public.Draft = nil
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if d := get(t, st, inc.Number).Public.Draft; d != nil {
		t.Errorf("draft still there after clearing it: %+v", d)
	}
}

// Published returns the incidents the status page shows: published at or
// after since, or still ongoing on the page however old, latest first; not
// those that only drafted, published nothing, or were resolved publicly
// before since.
func (s suite) testPublished(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	since := t0.Add(-14 * 24 * time.Hour)
	mk := func(title string, page incident.PublicPage) *incident.Incident {
		t.Helper()
		inc := NewIncident(title)
		inc.Public = page
		if err := st.Create(ctx, inc, Declared(inc)); err != nil {
			t.Fatal(err)
		}
		return inc
	}
	up := publicUpdate
	mk("never published", incident.PublicPage{})
	draftOnly := up(incident.PublicInvestigating, t0)
	mk("only a draft", incident.PublicPage{ID: "draftonly000", Draft: &draftOnly})
	mk("resolved long ago", incident.PublicPage{ID: "old000000000", Updates: []incident.PublicUpdate{up(incident.PublicInvestigating, since.Add(-48*time.Hour)), up(incident.PublicResolved, since.Add(-time.Hour))}})
	recent := mk("resolved recently", incident.PublicPage{ID: "recent000000", Updates: []incident.PublicUpdate{up(incident.PublicInvestigating, t0.Add(-3*time.Hour)), up(incident.PublicResolved, t0.Add(-2*time.Hour))}})
	ongoing := mk("ongoing for weeks", incident.PublicPage{ID: "ongoing00000", Updates: []incident.PublicUpdate{up(incident.PublicMonitoring, since.Add(-30*24*time.Hour))}})
	latest := mk("ongoing now", incident.PublicPage{ID: "latest000000", Updates: []incident.PublicUpdate{up(incident.PublicIdentified, t0)}})

	got, err := st.Published(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range got {
		ids = append(ids, p.Page.ID)
	}
	want := []string{latest.Public.ID, recent.Public.ID, ongoing.Public.ID}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Fatalf("Published(%v) (-want +got):\n%s", since, diff)
	}
	if got[0].IncidentID != latest.ID {
		t.Errorf("IncidentID = %q, want %q", got[0].IncidentID, latest.ID)
	}
	if diff := cmp.Diff(get(t, st, recent.Number).Public, got[1].Page); diff != "" {
		t.Errorf("Published's page differs from Get's (-get +published):\n%s", diff)
	}

	// Resolving the ongoing one publicly, long ago, takes it off.
	if _, err := st.Update(ctx, ongoing.Number, func(i *incident.Incident) ([]incident.Event, error) {
		i.Public.Updates = append(i.Public.Updates, up(incident.PublicResolved, since.Add(-time.Minute)))
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err = st.Published(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("after resolving the old incident publicly, Published returns %d incidents, want 2", len(got))
	}
}
