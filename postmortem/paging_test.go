package postmortem_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/postmortem"
	"github.com/sitrep-dev/sitrep/templates"
)

// TestTimeToAcknowledge checks that a paged incident's postmortem gives
// the time to acknowledge beside the time to mitigate, and that one nobody
// was paged for says nothing of it.
func TestTimeToAcknowledge(t *testing.T) {
	tmpl, err := templates.Postmortem("")
	if err != nil {
		t.Fatal(err)
	}
	declared := utc("2024-05-01 10:00")
	inc := &incident.Incident{
		Number: 9, Title: "Checkout down", Severity: "sev1", Status: incident.Resolved,
		Roles: map[string]string{incident.CommanderRole: "U0CMD"}, DeclaredAt: declared, ResolvedAt: declared.Add(time.Hour),
		Pages: []incident.Page{{ID: 1, Policy: "default", At: declared, State: incident.PageAcknowledged, AckAt: declared.Add(7 * time.Minute), AckBy: "U0BOB", AckVia: "slack"}},
	}
	render := func(inc *incident.Incident) string {
		var b strings.Builder
		if err := postmortem.Render(&b, tmpl, build(inc, nil)); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	out := render(inc)
	if !strings.Contains(out, "- **Time to acknowledge:** 7m\n- **Time to mitigate:**") {
		t.Errorf("no time to acknowledge beside the time to mitigate:\n%s", out)
	}
	inc.Pages[0].State, inc.Pages[0].AckAt = incident.PageCancelled, time.Time{}
	if out := render(inc); !strings.Contains(out, "- **Time to acknowledge:** nobody acknowledged the page\n") {
		t.Errorf("an unanswered page:\n%s", out)
	}
	inc.Pages = nil
	if out := render(inc); strings.Contains(out, "acknowledge") || !strings.Contains(out, "- **Time to identify:** not identified\n- **Time to mitigate:**") {
		t.Errorf("an incident nobody was paged for:\n%s", out)
	}
}
