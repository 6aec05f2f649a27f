package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
)

// WithParts returns a freshly declared incident with roles, a checklist,
// follow-ups and prompt state. The ids are out of alphabetical order, and
// the follow-up ids out of text order (9 < 10), so that a wrong order
// shows.
func WithParts(title string) *incident.Incident {
	inc := NewIncident(title)
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
		{ID: 10, Text: "Write a runbook", CreatedBy: "U3", CreatedAt: answered.Add(time.Minute), ExportTo: "jira"},
	}
	inc.NextPromptAt = inc.DeclaredAt.Add(30 * time.Minute)
	inc.UpdatePrompts = 1
	return inc
}

// Checklist items, follow-ups and the prompt state come back as stored,
// in order and with their times, through Get, ByRef, List and Update; and
// Update stores the changes a fn makes to them.
func (s suite) testPartsRoundTrip(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	inc := WithParts("Checkout failing")
	if err := st.Create(ctx, inc, Declared(inc)); err != nil {
		t.Fatal(err)
	}
	plain := Create(t, st, "No parts")
	if err := st.SaveDelivery(ctx, incident.Delivery{Integration: "slack", IncidentID: inc.ID, Refs: []string{"C1"}}); err != nil {
		t.Fatal(err)
	}

	check := func(what string, want *incident.Incident) {
		t.Helper()
		got := get(t, st, want.Number)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: Get (-want +got):\n%s", what, diff)
		}
		all, err := st.List(ctx, incident.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(all, func(i *incident.Incident) bool { return i.Number == want.Number })
		if i < 0 {
			t.Fatalf("%s: List lacks #%d", what, want.Number)
		}
		if diff := cmp.Diff(want, all[i]); diff != "" {
			t.Errorf("%s: List (-want +got):\n%s", what, diff)
		}
		for _, it := range got.Checklist {
			if !it.AnsweredAt.IsZero() && it.AnsweredAt.Location() != time.UTC {
				t.Errorf("%s: item %s answered at %v, not in UTC", what, it.ID, it.AnsweredAt)
			}
		}
		if want.Number != inc.Number {
			return
		}
		byRef, err := st.ByRef(ctx, "slack", "C1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, byRef); diff != "" {
			t.Errorf("%s: ByRef (-want +got):\n%s", what, diff)
		}
	}
	check("after Create", inc)
	want := *plain
	want.Roles = map[string]string{incident.CommanderRole: "U1"}
	check("an incident without parts", &want)
	if got := get(t, st, plain.Number); got.Checklist != nil || got.FollowUps != nil {
		t.Errorf("no parts came back as %#v and %#v, want nil", got.Checklist, got.FollowUps)
	}

	// Change every kind of part at once.
	at := time.Date(2026, 6, 2, 9, 0, 0, 1, time.UTC)
	issue := incident.IssueRef{Tracker: "jira", Key: "OPS-7", URL: "https://acme.atlassian.net/browse/OPS-7"}
	got, err := st.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
		i.Checklist[0].Answer, i.Checklist[0].AnsweredBy, i.Checklist[0].AnsweredAt = "done", "U4", at
		i.Checklist[1].Answer = "no" // keeps Suggested
		i.Checklist = append(i.Checklist, incident.CheckItem{ID: "b-added", Kind: incident.Question, Text: "New?", Suggestion: "Then act."})
		i.FollowUps[1].DoneBy, i.FollowUps[1].DoneAt = "U3", at
		i.FollowUps[1].ExportTo, i.FollowUps[1].Issue = "", issue
		i.FollowUps = append(i.FollowUps, incident.FollowUp{ID: 11, Text: "Add a canary", CreatedBy: "U1", CreatedAt: at})
		delete(i.Roles, "scribe")
		i.Roles["comms"] = "U5"
		i.LastUpdateAt, i.UpdatePrompts, i.PostmortemPrompts, i.UpdateEvery = at, 0, 3, 90*time.Minute
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
	want.FollowUps[1].ExportTo, want.FollowUps[1].Issue = "", issue
	want.FollowUps = append(want.FollowUps, incident.FollowUp{ID: 11, Text: "Add a canary", CreatedBy: "U1", CreatedAt: at})
	want.Roles = map[string]string{incident.CommanderRole: "U1", "comms": "U5"}
	want.LastUpdateAt, want.UpdatePrompts, want.PostmortemPrompts, want.UpdateEvery = at, 0, 3, 90*time.Minute
	want.PostmortemAt, want.NextPromptAt = at.Add(time.Second), at.Add(time.Hour)
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("Update result (-want +got):\n%s", diff)
	}
	check("after Update", &want)

	// Zero times come back zero.
	got, err = st.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
		i.PostmortemAt, i.NextPromptAt = time.Time{}, time.Time{}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !got.PostmortemAt.IsZero() || !got.NextPromptAt.IsZero() {
		t.Errorf("cleared times came back from Update as %v, %v", got.PostmortemAt, got.NextPromptAt)
	}
	if got := get(t, st, inc.Number); !got.PostmortemAt.IsZero() || !got.NextPromptAt.IsZero() {
		t.Errorf("cleared times came back from Get as %v, %v", got.PostmortemAt, got.NextPromptAt)
	}
}

// testUpdateReturnsWhatGetReads walks an incident through every kind of
// change the domain makes and checks after each that what Update returned
// is exactly what Get reads back, so that callers may use either.
func (s suite) testUpdateReturnsWhatGetReads(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	cfg := incident.DefaultConfig()
	cfg.Checklist = []incident.ChecklistItem{
		{ID: "deploy", Kind: incident.Question, Text: "Was there a deployment recently?", Suggestion: "Consider rolling back."},
		{ID: "logs", Kind: incident.Task, Text: "Look at the logs"},
		{ID: "customers", Kind: incident.Question, Text: "Are customers affected?", From: "sev1"},
	}
	// A clock in another zone, with a monotonic reading: the service
	// stores UTC; Update must return what the store holds.
	berlin := time.FixedZone("CEST", 2*60*60)
	svc := incident.NewService(st, cfg, func() time.Time { return time.Now().In(berlin) })
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout failing", Severity: "sev2", Actor: "U1", Services: []string{"checkout"}})
	if err != nil {
		t.Fatal(err)
	}
	n := inc.Number
	for _, step := range []struct {
		name string
		do   func() (*incident.Incident, error)
	}{
		{"status", func() (*incident.Incident, error) { return svc.SetStatus(ctx, n, "U1", incident.Identified) }},
		{"severity raised, adding checklist items", func() (*incident.Incident, error) { return svc.SetSeverity(ctx, n, "U1", "sev1") }},
		{"role", func() (*incident.Incident, error) { return svc.AssignRole(ctx, n, "U1", "comms", "U2") }},
		{"commander handed over", func() (*incident.Incident, error) { return svc.AssignRole(ctx, n, "U1", "lead", "U3") }},
		{"note", func() (*incident.Incident, error) { return svc.AddNote(ctx, n, "U2", "Database looks fine") }},
		{"update", func() (*incident.Incident, error) { return svc.PostUpdate(ctx, n, "U3", "Failing over") }},
		{"answer", func() (*incident.Incident, error) { return svc.Answer(ctx, n, "U2", "deploy", "yes") }},
		{"answer again", func() (*incident.Incident, error) { return svc.Answer(ctx, n, "U2", "deploy", "no") }},
		{"follow-up", func() (*incident.Incident, error) { return svc.AddFollowUp(ctx, n, "U2", "Add a canary", "U4") }},
		{"follow-up done", func() (*incident.Incident, error) { return svc.CompleteFollowUp(ctx, n, "U4", 1) }},
		{"resolve", func() (*incident.Incident, error) { return svc.Resolve(ctx, n, "U3", "Failed over") }},
		{"reopen", func() (*incident.Incident, error) { return svc.Reopen(ctx, n, "U3", "Errors are back") }},
		{"resolve again", func() (*incident.Incident, error) { return svc.Resolve(ctx, n, "U3", "") }},
		{"postmortem", func() (*incident.Incident, error) {
			return svc.RecordPostmortem(ctx, n, "U3", "https://example.com/pm")
		}},
		{"a change with times in another zone, and emptied lists", func() (*incident.Incident, error) {
			return st.Update(ctx, n, func(i *incident.Incident) ([]incident.Event, error) {
				now := time.Now().In(berlin)
				i.UpdatedAt, i.ClosedAt = now, now
				i.Checklist[1].Answer, i.Checklist[1].AnsweredBy, i.Checklist[1].AnsweredAt = "done", "U2", now
				i.FollowUps[0].DoneAt = now
				i.Services = []string{}
				return nil, nil
			})
		}},
		{"a role emptied", func() (*incident.Incident, error) {
			return st.Update(ctx, n, func(i *incident.Incident) ([]incident.Event, error) {
				clear(i.Roles)
				return nil, nil
			})
		}},
		{"roles set to nil", func() (*incident.Incident, error) {
			return st.Update(ctx, n, func(i *incident.Incident) ([]incident.Event, error) {
				i.Roles = nil
				return nil, nil
			})
		}},
		{"close", func() (*incident.Incident, error) { return svc.Close(ctx, n, "U3") }},
	} {
		got, err := step.do()
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		read := get(t, st, n)
		if diff := cmp.Diff(read, got); diff != "" {
			t.Errorf("after %s, Update returned what Get does not read (-Get +Update):\n%s", step.name, diff)
		}
		// The same values, not only Equal ones: no time in another zone
		// or with a monotonic reading.
		if fmt.Sprintf("%#v", read) != fmt.Sprintf("%#v", got) {
			t.Errorf("after %s, Update returned\n%#v\nGet reads\n%#v", step.name, got, read)
		}
	}
}

// setNextPrompt stores the incident's NextPromptAt as the domain would, in
// an Update.
func setNextPrompt(t *testing.T, st incident.Store, number int64, at time.Time) {
	t.Helper()
	if _, err := st.Update(context.Background(), number, func(i *incident.Incident) ([]incident.Event, error) {
		i.NextPromptAt = at
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// DuePrompts finds the incidents with a prompt due, oldest due first, and
// the next due time, whatever zone the times are given in.
func (s suite) testDuePrompts(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
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
		inc := NewIncident("x")
		inc.NextPromptAt = at
		if err := st.Create(ctx, inc, Declared(inc)); err != nil {
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
			due, next, err := st.DuePrompts(ctx, tt.now)
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
	setNextPrompt(t, st, 8, time.Time{})
	setNextPrompt(t, st, 4, t0.Add(time.Hour))
	setNextPrompt(t, st, 1, t0.Add(-time.Hour))
	due, next, err := st.DuePrompts(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{1, 3, 10, 6}, due); diff != "" || !next.Equal(t0.Add(time.Nanosecond)) {
		t.Errorf("after changes: due %v (diff %s), next %v", due, diff, next)
	}
}

func (s suite) testDuePromptsEmpty(t *testing.T) {
	st := s.open(t)
	Create(t, st, "nothing owed")
	due, next, err := st.DuePrompts(context.Background(), t0)
	if err != nil || len(due) != 0 || !next.IsZero() {
		t.Errorf("DuePrompts = %v, %v, %v; want nothing", due, next, err)
	}
}
