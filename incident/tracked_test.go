package incident_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/incident"
)

// kinds lists incident 1's event kinds from seq on.
func kinds(t *testing.T, svc *incident.Service, inc *incident.Incident, after int64) []string {
	t.Helper()
	evs, err := svc.Events(context.Background(), inc.ID, after)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Kind))
	}
	return out
}

func TestExportAndIssueState(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	inc := declare(t, svc, "Checkout failing")
	if _, err := svc.AddFollowUp(ctx, 1, "U1", "Add a canary", "U2"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ExportFollowUp(ctx, 1, "U1", 1, ""); incident.ErrorCode(err) != incident.EINVALID {
		t.Fatalf("export with no tracker: %v", err)
	}
	if _, err := svc.ExportFollowUp(ctx, 1, "U1", 9, "github"); incident.ErrorCode(err) != incident.ENOTFOUND {
		t.Fatalf("export of no follow-up: %v", err)
	}
	got, err := svc.ExportFollowUp(ctx, 1, "U1", 1, "github")
	if err != nil || got.FollowUps[0].ExportTo != "github" {
		t.Fatalf("export = %+v, %v", got, err)
	}
	if _, err := svc.ExportFollowUp(ctx, 1, "U2", 1, "github"); incident.ErrorCode(err) != incident.ECONFLICT || !strings.Contains(err.Error(), "already being created") {
		t.Fatalf("a second export: %v", err)
	}
	// A refusal drops the request and is recorded once.
	if err := svc.RefuseExport(ctx, 1, 1, "github", "GitHub refused the token."); err != nil {
		t.Fatal(err)
	}
	if err := svc.RefuseExport(ctx, 1, 1, "github", "GitHub refused the token."); err != nil {
		t.Fatal(err)
	}
	if got, _ := svc.Get(ctx, 1); got.FollowUps[0].ExportTo != "" {
		t.Fatalf("the refused request is still open: %+v", got.FollowUps[0])
	}
	if _, err := svc.ExportFollowUp(ctx, 1, "U1", 1, "github"); err != nil {
		t.Fatalf("asking again after a refusal: %v", err)
	}
	ref := incident.IssueRef{Tracker: "github", Key: "acme/ops#1", URL: "https://github.com/acme/ops/issues/1"}
	for range 2 {
		got, err = svc.LinkIssue(ctx, 1, 1, ref)
		if err != nil || got.FollowUps[0].Issue != ref || got.FollowUps[0].ExportTo != "" {
			t.Fatalf("LinkIssue = %+v, %v", got, err)
		}
	}
	if _, err := svc.ExportFollowUp(ctx, 1, "U1", 1, "github"); incident.ErrorCode(err) != incident.ECONFLICT || !strings.Contains(err.Error(), "already tracked in GitHub as acme/ops#1") {
		t.Fatalf("export of a tracked follow-up: %v", err)
	}
	// The tracker's word: done, repeated, another issue, open again.
	for i, c := range []struct {
		key     string
		done    bool
		changed bool
	}{{"acme/ops#1", true, true}, {"acme/ops#1", true, false}, {"acme/ops#9", true, false}, {"acme/ops#1", false, true}, {"acme/ops#1", false, false}} {
		changed, err := svc.IssueState(ctx, 1, "github", c.key, c.done)
		if err != nil || changed != c.changed {
			t.Fatalf("IssueState %d = %v, %v; want changed %v", i, changed, err, c.changed)
		}
	}
	want := "declared followup followup_export followup_refused followup_export followup_issue followup_done followup_reopened"
	if got := strings.Join(kinds(t, svc, inc, 0), " "); got != want {
		t.Fatalf("events %s\nwant   %s", got, want)
	}
	got, _ = svc.Get(ctx, 1)
	if got.FollowUps[0].Done() {
		t.Fatal("the follow-up is done after being reopened")
	}
}

// TestIssueStateOnClosedIncident: follow-ups are mostly done after their
// incident is closed; the tracker's word still counts.
func TestIssueStateOnClosedIncident(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	declare(t, svc, "Checkout failing")
	svc.AddFollowUp(ctx, 1, "U1", "Add a canary", "")
	svc.ExportFollowUp(ctx, 1, "U1", 1, "jira")
	if _, err := svc.Resolve(ctx, 1, "U1", "fixed"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RecordPostmortem(ctx, 1, "U1", "https://example.com/pm"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(ctx, 1, "U1"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.LinkIssue(ctx, 1, 1, incident.IssueRef{Tracker: "jira", Key: "OPS-1", URL: "https://acme.atlassian.net/browse/OPS-1"}); err != nil {
		t.Fatalf("LinkIssue on a closed incident: %v", err)
	}
	if changed, err := svc.IssueState(ctx, 1, "jira", "OPS-1", true); err != nil || !changed {
		t.Fatalf("IssueState on a closed incident = %v, %v", changed, err)
	}
	if got, _ := svc.Get(ctx, 1); !got.FollowUps[0].Done() || got.FollowUps[0].DoneBy != "" || got.Status != incident.Closed {
		t.Fatalf("follow-up %+v of a %s incident", got.FollowUps[0], got.Status)
	}
}

// TestAutomaticExport: export on_create asks for an issue as a follow-up is
// recorded; on_postmortem for every follow-up without one once the
// postmortem is published (not for a draft).
func TestAutomaticExport(t *testing.T) {
	ctx := context.Background()
	for _, on := range []string{incident.ExportOnCreate, incident.ExportOnPostmortem} {
		t.Run(on, func(t *testing.T) {
			cfg := incident.DefaultConfig()
			cfg.Export = incident.Export{Tracker: "linear", On: on}
			svc, _, _ := newServiceWith(t, cfg)
			declareAt(t, svc, "sev1")
			got, err := svc.AddFollowUp(ctx, 1, "U1", "Add a canary", "")
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]string{incident.ExportOnCreate: "linear"}[on]; got.FollowUps[0].ExportTo != want {
				t.Fatalf("after recording: export to %q, want %q", got.FollowUps[0].ExportTo, want)
			}
			svc.RecordPostmortem(ctx, 1, "U1", "https://example.com/draft") // a draft: the incident is open
			svc.Resolve(ctx, 1, "U1", "fixed")
			got, _ = svc.Get(ctx, 1)
			if want := map[string]string{incident.ExportOnCreate: "linear"}[on]; got.FollowUps[0].ExportTo != want {
				t.Fatalf("after a draft: export to %q, want %q", got.FollowUps[0].ExportTo, want)
			}
			got, err = svc.RecordPostmortem(ctx, 1, "U1", "https://example.com/pm")
			if err != nil || got.FollowUps[0].ExportTo != "linear" {
				t.Fatalf("after the postmortem: %+v, %v", got.FollowUps[0], err)
			}
		})
	}
}
