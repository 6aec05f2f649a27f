package incident_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
)

// TestRecordFields: each field people write for the postmortem is
// recorded as an event of its own kind; a later edit is a new event and
// the incident keeps the latest value; nothing unchanged is recorded.
func TestRecordFields(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	declare(t, svc, "Checkout failing")

	if _, err := svc.Record(ctx, 1, "U1", incident.Review{Edits: []incident.Edit{{Field: incident.FieldRootCause, Text: "An expired cert"}}}); err != nil {
		t.Fatal(err)
	}
	inc, err := svc.Record(ctx, 1, "U2", incident.Review{Edits: []incident.Edit{
		{Field: incident.FieldRootCause, Text: "An expired *intermediate* cert\r\n"},
		{Field: incident.FieldImpact, Text: "EU card payments failed"},
		{Field: incident.FieldWentWell, Text: "Paging"},
		{Field: incident.FieldWentBadly, Text: ""}, // empty and unchanged: nothing recorded
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, add := range []string{"Alert on expiry", "Rotate early"} {
		if inc, err = svc.Record(ctx, 1, "U3", incident.Review{Edits: []incident.Edit{{Field: incident.FieldLearnings, Text: add, Add: true}}}); err != nil {
			t.Fatal(err)
		}
	}
	if inc.RootCause != "An expired *intermediate* cert" || inc.Impact != "EU card payments failed" || inc.WentWell != "Paging" ||
		inc.Learnings != "Alert on expiry\nRotate early" {
		t.Errorf("recorded %+v", inc)
	}
	_, evs, err := svc.Timeline(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs[1:] {
		got = append(got, string(e.Kind)+" "+e.Actor+" "+e.Describe(func(id string) string { return "@" + id }))
	}
	want := []string{
		"root_cause U1 Root cause: An expired cert",
		"root_cause U2 Root cause: An expired *intermediate* cert",
		"impact U2 Impact: EU card payments failed",
		"went_well U2 What went well: Paging",
		"learnings U3 Learnings: added Alert on expiry",
		"learnings U3 Learnings: added Rotate early",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}

	// The affected services are a list, written with commas.
	if inc, err = svc.Record(ctx, 1, "U1", incident.Review{Edits: []incident.Edit{{Field: incident.FieldServices, Text: " checkout,payments , checkout,"}}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"checkout", "payments"}, inc.Services); diff != "" || inc.Field(incident.FieldServices) != "checkout, payments" {
		t.Errorf("services (-want +got):\n%s", diff)
	}

	// Clearing a field is an edit too.
	if inc, err = svc.Record(ctx, 1, "U1", incident.Review{Edits: []incident.Edit{{Field: incident.FieldWentWell}}}); err != nil || inc.WentWell != "" {
		t.Fatalf("clearing: %+v, %v", inc, err)
	}
}

func TestRecordRefusals(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	declare(t, svc, "Checkout failing")
	if _, err := svc.Record(ctx, 1, "U1", incident.Review{Edits: []incident.Edit{{Field: incident.FieldImpact, Text: "slow"}}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		edits []incident.Edit
		field string
		msg   string
	}{
		{"unchanged", []incident.Edit{{Field: incident.FieldImpact, Text: " slow "}}, "impact", "already has that impact"},
		{"control character", []incident.Edit{{Field: incident.FieldRootCause, Text: "a\x1bb"}}, "root cause", "control character"},
		{"too long", []incident.Edit{{Field: incident.FieldMitigation, Text: strings.Repeat("x", incident.MaxText+1)}}, "mitigation", "keep it to 3000"},
		{"empty learning", []incident.Edit{{Field: incident.FieldLearnings, Text: "  ", Add: true}}, "learnings", "is empty"},
		{"unknown field", []incident.Edit{{Field: "mood", Text: "x"}}, "", "no field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.Record(ctx, 1, "U1", incident.Review{Edits: tt.edits})
			if incident.ErrorCode(err) != incident.EINVALID || incident.ErrorField(err) != tt.field || !strings.Contains(incident.ErrorMessage(err), tt.msg) {
				t.Errorf("got %v (field %q), want EINVALID on %q saying %q", err, incident.ErrorField(err), tt.field, tt.msg)
			}
		})
	}
}

// TestResolveWithReview: the resolve form records the summary, the
// impact, the root cause and the mitigation in one change.
func TestResolveWithReview(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	declare(t, svc, "Checkout failing")
	inc, err := svc.Resolve(ctx, 1, "U1", "Rolled back", incident.Edit{Field: incident.FieldImpact, Text: "EU payments"},
		incident.Edit{Field: incident.FieldRootCause, Text: "Bad config"}, incident.Edit{Field: incident.FieldMitigation, Text: "Rollback"})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != incident.Resolved || inc.Summary != "Rolled back" || inc.Impact != "EU payments" || inc.RootCause != "Bad config" || inc.Mitigation != "Rollback" {
		t.Errorf("resolved %+v", inc)
	}
	_, evs, _ := svc.Timeline(ctx, 1)
	var kinds []incident.EventKind
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if diff := cmp.Diff([]incident.EventKind{incident.KindDeclared, "impact", "root_cause", "mitigation", incident.KindResolved}, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	// A bad field refuses the whole resolution.
	svc2, _ := newService(t)
	declare(t, svc2, "Checkout failing")
	if _, err := svc2.Resolve(ctx, 1, "U1", "ok", incident.Edit{Field: incident.FieldRootCause, Text: "\x00"}); incident.ErrorField(err) != "root cause" {
		t.Fatalf("resolve with a bad root cause: %v", err)
	}
	if inc, _ := svc2.Get(ctx, 1); inc.Status != incident.Investigating {
		t.Errorf("a refused resolution changed the status to %s", inc.Status)
	}
}

// TestRemediationFollowUps: each remediation line becomes a follow-up
// once, however often the form is sent.
func TestRemediationFollowUps(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	declare(t, svc, "Checkout failing")
	if _, err := svc.AddFollowUp(ctx, 1, "U1", "Add an expiry alert", ""); err != nil {
		t.Fatal(err)
	}
	r := incident.Review{Edits: []incident.Edit{{Field: incident.FieldRemediations, Text: "- Add an expiry alert\n\n- Automate rotation\n"}}, RemediationFollowUps: true}
	inc, err := svc.Record(ctx, 1, "U2", r)
	if err != nil || len(inc.FollowUps) != 2 {
		t.Fatalf("follow-ups %+v, %v; want the one there and one more", inc.FollowUps, err)
	}
	r.Edits = append(r.Edits, incident.Edit{Field: incident.FieldLearnings, Text: "x"})
	if inc, err = svc.Record(ctx, 1, "U2", r); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, f := range inc.FollowUps {
		texts = append(texts, f.Text)
	}
	if diff := cmp.Diff([]string{"Add an expiry alert", "Automate rotation"}, texts); diff != "" {
		t.Errorf("follow-ups (-want +got):\n%s", diff)
	}
}

// TestDraftPostmortem: a postmortem of an open incident is a draft; it
// does not let the incident be closed.
func TestDraftPostmortem(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	declare(t, svc, "Checkout failing")
	inc, err := svc.RecordPostmortem(ctx, 1, "U1", "slack-file:F1")
	if err != nil || !inc.PostmortemAt.IsZero() {
		t.Fatalf("draft: %+v, %v", inc, err)
	}
	if _, err := svc.Resolve(ctx, 1, "U1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(ctx, 1, "U1"); incident.ErrorCode(err) != incident.ECONFLICT {
		t.Fatalf("closing after only a draft: %v", err)
	}
	if _, err := svc.RecordPostmortem(ctx, 1, "U1", "slack-file:F2"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(ctx, 1, "U1"); err != nil {
		t.Fatal(err)
	}
	_, evs, _ := svc.Timeline(ctx, 1)
	var got []string
	for _, e := range evs {
		if e.Kind == incident.KindPostmortem {
			got = append(got, e.Describe(nil))
		}
	}
	if diff := cmp.Diff([]string{"Postmortem draft shared", "Postmortem published"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestEventNames: changes made with WithNames keep the names of the people
// each event concerns; without it, none.
func TestEventNames(t *testing.T) {
	svc, _ := newService(t)
	known := map[string]string{"U1": "Alice Adams", "U2": "Bob Brown", "U3": "Carol"}
	ctx := incident.WithNames(context.Background(), func(id string) string { return known[id] })
	if _, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout failing", Actor: "U1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AssignRole(ctx, 1, "U1", "lead", "U2"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddNote(ctx, 1, "U2", "ask <@U3> and <@U9|zed>"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddNote(context.Background(), 1, "U2", "unnamed"); err != nil {
		t.Fatal(err)
	}
	_, evs, _ := svc.Timeline(ctx, 1)
	var got []map[string]string
	for _, e := range evs {
		got = append(got, e.Names)
	}
	want := []map[string]string{
		{"U1": "Alice Adams"},
		{"U1": "Alice Adams", "U2": "Bob Brown"},
		{"U2": "Bob Brown", "U3": "Carol"},
		nil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}
