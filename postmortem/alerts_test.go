package postmortem_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/postmortem"
	"github.com/sitrep-dev/sitrep/templates"
)

// alertReader is a reader whose incident has alerts.
type alertReader struct {
	reader
	alerts []incident.StoredAlert
}

func (r alertReader) IncidentAlerts(_ context.Context, n int64) ([]incident.StoredAlert, error) {
	return r.alerts, nil
}

// TestAlertsListed: the postmortem lists an incident's alerts, one table
// row each, whatever a sender put in them; an incident without alerts has
// no Alerts section.
func TestAlertsListed(t *testing.T) {
	inc, events, _ := seed004()
	tmpl, err := templates.Postmortem("")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 6, 14, 27, 0, 0, time.UTC)
	alerts := []incident.StoredAlert{
		{Alert: incident.Alert{Source: "alertmanager", Key: "a", Status: incident.AlertFiring, Title: "5xx ratio | above <b>5%</b> & *rising*",
			Labels: map[string]string{"alertname": "HighErrorRate", "instance": "web-1\n| x | y |"}, StartsAt: at}},
		{Alert: incident.Alert{Source: "sentry", Key: "b", Status: incident.AlertResolved, Title: "Exception: Custom exception!", StartsAt: at, EndsAt: at.Add(10 * time.Minute)}},
	}
	doc, err := postmortem.Write(context.Background(), alertReader{reader{inc, events}, alerts}, inc.Number, postmortem.Options{Template: tmpl})
	if err != nil {
		t.Fatal(err)
	}
	md := string(doc.Markdown)
	_, section, ok := strings.Cut(md, "## Alerts\n")
	if !ok {
		t.Fatalf("no Alerts section:\n%s", md)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := 0
	for _, l := range strings.Split(strings.TrimSpace(section), "\n") {
		if strings.HasPrefix(l, "| 2026") {
			rows++
			if n := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|"); n != 6 {
				t.Errorf("row has %d cell borders, want 6: %s", n, l)
			}
		}
	}
	if rows != 2 {
		t.Errorf("%d alert rows, want 2:\n%s", rows, section)
	}
	for _, want := range []string{`5xx ratio \| above \<b\>5%\</b\> \& \*rising\*`, `instance=web-1 \| x \| y \|`, "resolved 2026-12-06 14:37 UTC", "| sentry |"} {
		if !strings.Contains(section, want) {
			t.Errorf("Alerts section lacks %q:\n%s", want, section)
		}
	}
	plain, err := postmortem.Write(context.Background(), reader{inc, events}, inc.Number, postmortem.Options{Template: tmpl})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(plain.Markdown), "## Alerts") {
		t.Error("an incident without alerts has an Alerts section")
	}
}
