package incident_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
)

func TestFollowUps(t *testing.T) {
	ctx := context.Background()
	svc, clk := newService(t)
	declare(t, svc, "Checkout failing")
	start := clk.now()
	at := func(minutes int) time.Time { return start.Add(time.Duration(minutes) * time.Minute) }

	steps := []struct {
		name string
		do   func() (*incident.Incident, error)
		code string // "" for success
		msg  string
		want []incident.FollowUp // after the step
		data map[string]string   // of the event recorded
	}{
		{
			name: "with an owner",
			do: func() (*incident.Incident, error) {
				return svc.AddFollowUp(ctx, 1, "U1", "  Alert on cert expiry \n", "U2")
			},
			want: []incident.FollowUp{{ID: 1, Text: "Alert on cert expiry", Owner: "U2", CreatedBy: "U1", CreatedAt: at(1)}},
			data: map[string]string{"id": "1", "owner": "U2"},
		},
		{
			name: "without an owner",
			do:   func() (*incident.Incident, error) { return svc.AddFollowUp(ctx, 1, "U3", "Write a runbook", "") },
			want: []incident.FollowUp{
				{ID: 1, Text: "Alert on cert expiry", Owner: "U2", CreatedBy: "U1", CreatedAt: at(1)},
				{ID: 2, Text: "Write a runbook", CreatedBy: "U3", CreatedAt: at(2)},
			},
			data: map[string]string{"id": "2", "owner": ""},
		},
		{
			name: "no text",
			do:   func() (*incident.Incident, error) { return svc.AddFollowUp(ctx, 1, "U1", " \n", "U2") },
			code: incident.EINVALID, msg: "follow-up is empty",
		},
		{
			name: "text too long",
			do: func() (*incident.Incident, error) {
				return svc.AddFollowUp(ctx, 1, "U1", strings.Repeat("x", incident.MaxText+1), "")
			},
			code: incident.EINVALID, msg: "3001 characters",
		},
		{
			name: "complete one",
			do:   func() (*incident.Incident, error) { return svc.CompleteFollowUp(ctx, 1, "U2", 1) },
			want: []incident.FollowUp{
				{ID: 1, Text: "Alert on cert expiry", Owner: "U2", CreatedBy: "U1", CreatedAt: at(1), DoneBy: "U2", DoneAt: at(5)},
				{ID: 2, Text: "Write a runbook", CreatedBy: "U3", CreatedAt: at(2)},
			},
			data: map[string]string{"id": "1"},
		},
		{
			name: "complete it again",
			do:   func() (*incident.Incident, error) { return svc.CompleteFollowUp(ctx, 1, "U3", 1) },
			code: incident.ECONFLICT, msg: "already done",
		},
		{
			name: "complete an unknown one",
			do:   func() (*incident.Incident, error) { return svc.CompleteFollowUp(ctx, 1, "U3", 3) },
			code: incident.ENOTFOUND, msg: "no follow-up 3",
		},
		{
			name: "complete one of an unknown incident",
			do:   func() (*incident.Incident, error) { return svc.CompleteFollowUp(ctx, 9, "U3", 1) },
			code: incident.ENOTFOUND, msg: "#9",
		},
		{
			name: "resolve",
			do:   func() (*incident.Incident, error) { return svc.Resolve(ctx, 1, "U1", "") },
			want: []incident.FollowUp{
				{ID: 1, Text: "Alert on cert expiry", Owner: "U2", CreatedBy: "U1", CreatedAt: at(1), DoneBy: "U2", DoneAt: at(5)},
				{ID: 2, Text: "Write a runbook", CreatedBy: "U3", CreatedAt: at(2)},
			},
			data: map[string]string{"from": "investigating"},
		},
		{
			name: "add while resolved",
			do:   func() (*incident.Incident, error) { return svc.AddFollowUp(ctx, 1, "U1", "Add a canary", "U4") },
			want: []incident.FollowUp{
				{ID: 1, Text: "Alert on cert expiry", Owner: "U2", CreatedBy: "U1", CreatedAt: at(1), DoneBy: "U2", DoneAt: at(5)},
				{ID: 2, Text: "Write a runbook", CreatedBy: "U3", CreatedAt: at(2)},
				{ID: 3, Text: "Add a canary", Owner: "U4", CreatedBy: "U1", CreatedAt: at(10)},
			},
			data: map[string]string{"id": "3", "owner": "U4"},
		},
		{
			name: "complete while resolved",
			do:   func() (*incident.Incident, error) { return svc.CompleteFollowUp(ctx, 1, "U3", 2) },
			want: []incident.FollowUp{
				{ID: 1, Text: "Alert on cert expiry", Owner: "U2", CreatedBy: "U1", CreatedAt: at(1), DoneBy: "U2", DoneAt: at(5)},
				{ID: 2, Text: "Write a runbook", CreatedBy: "U3", CreatedAt: at(2), DoneBy: "U3", DoneAt: at(11)},
				{ID: 3, Text: "Add a canary", Owner: "U4", CreatedBy: "U1", CreatedAt: at(10)},
			},
			data: map[string]string{"id": "2"},
		},
	}
	for _, step := range steps {
		// Steps run in order: each builds on the ones before.
		t.Run(step.name, func(t *testing.T) {
			clk.add(time.Minute)
			before := eventsOf(t, svc, 1)
			inc, err := step.do()
			evs := eventsOf(t, svc, 1)
			if step.code != "" {
				wantCode(t, step.name, err, step.code, step.msg)
				if len(evs) != len(before) {
					t.Errorf("a refused change recorded %d events", len(evs)-len(before))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(step.want, inc.FollowUps); diff != "" {
				t.Errorf("follow-ups (-want +got):\n%s", diff)
			}
			stored, err := svc.Get(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(step.want, stored.FollowUps); diff != "" {
				t.Errorf("stored follow-ups (-want +got):\n%s", diff)
			}
			if len(evs) != len(before)+1 {
				t.Fatalf("%d events recorded, want 1", len(evs)-len(before))
			}
			if diff := cmp.Diff(step.data, evs[len(evs)-1].Data); diff != "" {
				t.Errorf("event data (-want +got):\n%s", diff)
			}
		})
	}

	_, tl, err := svc.Timeline(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, ev := range tl {
		lines = append(lines, ev.Describe(func(u string) string { return "@" + u }))
	}
	want := []string{
		"Declared as sev1",
		"Follow-up: Alert on cert expiry (owner @U2)",
		"Follow-up: Write a runbook",
		"Follow-up done: Alert on cert expiry",
		"Resolved",
		"Follow-up: Add a canary (owner @U4)",
		"Follow-up done: Write a runbook",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}

	// Once closed, the record is final.
	if _, err := svc.RecordPostmortem(ctx, 1, "U1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(ctx, 1, "U1"); err != nil {
		t.Fatal(err)
	}
	_, err = svc.AddFollowUp(ctx, 1, "U1", "Too late", "")
	wantCode(t, "adding to a closed incident", err, incident.ECONFLICT, "closed")
	_, err = svc.CompleteFollowUp(ctx, 1, "U1", 3)
	wantCode(t, "completing on a closed incident", err, incident.ECONFLICT, "closed")
}

func TestFollowUpDone(t *testing.T) {
	tests := []struct {
		name string
		f    incident.FollowUp
		want bool
	}{
		{"open", incident.FollowUp{ID: 1, Text: "x"}, false},
		{"done", incident.FollowUp{ID: 1, Text: "x", DoneBy: "U1", DoneAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Done(); got != tt.want {
				t.Errorf("Done() = %v, want %v", got, tt.want)
			}
		})
	}
}

// An incident holds at most MaxFollowUps follow-ups; the one over is refused
// and leaves no trace.
func TestFollowUpLimit(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	declare(t, svc, "Checkout failing")
	for i := range incident.MaxFollowUps {
		inc, err := svc.AddFollowUp(ctx, 1, "U1", "do a thing", "")
		if err != nil {
			t.Fatalf("follow-up %d: %v", i+1, err)
		}
		if got := inc.FollowUps[i].ID; got != i+1 {
			t.Fatalf("follow-up %d got id %d", i+1, got)
		}
	}
	before, _ := svc.Get(ctx, 1)
	_, err := svc.AddFollowUp(ctx, 1, "U1", "one more", "")
	wantCode(t, "one follow-up too many", err, incident.ECONFLICT, "already has 45 follow-ups")
	after, _ := svc.Get(ctx, 1)
	if after.Version != before.Version || len(after.FollowUps) != incident.MaxFollowUps {
		t.Errorf("the refused follow-up left traces: version %d → %d, %d follow-ups", before.Version, after.Version, len(after.FollowUps))
	}
	// Completing one does not make room: the list is a record.
	if _, err := svc.CompleteFollowUp(ctx, 1, "U1", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddFollowUp(ctx, 1, "U1", "one more", ""); incident.ErrorCode(err) != incident.ECONFLICT {
		t.Errorf("after completing one: %v, want ECONFLICT", err)
	}
}
