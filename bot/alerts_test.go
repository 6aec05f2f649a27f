package bot

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// hugeAlert is an alert as large as CleanAlert lets one be, full of
// characters mrkdwn must escape.
func hugeAlert(i int, status incident.AlertStatus) incident.StoredAlert {
	at := time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)
	a := incident.Alert{Source: "alertmanager", Key: fmt.Sprint("fp", i), Status: status,
		Title: strings.Repeat("<&>", 100), Labels: map[string]string{}, Annotations: map[string]string{}, StartsAt: at}
	if status == incident.AlertResolved {
		a.EndsAt = at.Add(time.Minute)
	}
	for j := range incident.MaxAlertLabels {
		a.Labels[fmt.Sprintf("label_%02d", j)] = strings.Repeat("a&<`", 250)
	}
	for j := range incident.MaxAlertAnnotations {
		a.Annotations[fmt.Sprintf("note_%02d", j)] = strings.Repeat("<!channel> & ", 300)
	}
	for j := range incident.MaxAlertLinks {
		a.Links = append(a.Links, incident.AlertLink{Text: "Runbook|<x>", URL: fmt.Sprintf("https://runbooks.example.com/%d?a=1&b=<2>|x", j)})
	}
	cleaned, err := incident.CleanAlert(a, at)
	if err != nil {
		panic(err)
	}
	return incident.StoredAlert{Alert: cleaned, UpdatedAt: at.Add(time.Duration(i) * time.Second)}
}

func checkAlertBlocks(t *testing.T, what string, blocks []slack.Block) string {
	t.Helper()
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	if problems := slackfake.ValidateBlocks(raw); len(problems) > 0 {
		t.Errorf("%s breaks Block Kit's limits: %v", what, problems)
	}
	if strings.Contains(string(raw), "<!channel>") {
		t.Errorf("%s lets a sender's text mention the whole channel", what)
	}
	return slackfake.BlockText(raw)
}

// TestAlertMessagesWithinLimits: however many alerts, however many labels
// and however long their annotations, the summary and /incident alerts
// stay valid Block Kit.
func TestAlertMessagesWithinLimits(t *testing.T) {
	inc := &incident.Incident{Number: 7, Title: "Checkout failing", Source: "alertmanager"}
	var alerts []incident.StoredAlert
	for i := range 1000 {
		st := incident.AlertFiring
		if i%3 == 0 {
			st = incident.AlertResolved
		}
		alerts = append(alerts, hugeAlert(i, st))
	}
	firing, resolved := alertCounts(alerts)
	text, blocks := summaryBlocks(inc, firing, resolved, sortedAlerts(alerts)[:maxAlertsShown], "/incident")
	if !strings.Contains(text, "666 firing, 334 resolved") {
		t.Errorf("summary text %q, want the counts", text)
	}
	shown := checkAlertBlocks(t, "the alert summary", blocks)
	if !strings.Contains(shown, "990 more not shown") || !strings.Contains(shown, "label_00=") {
		t.Errorf("the summary does not say how many it leaves out, or shows no labels:\n%.2000s", shown)
	}
	rep := alertsReply(inc, alerts)
	listed := checkAlertBlocks(t, "/incident alerts", rep.Blocks)
	if !strings.Contains(listed, "more not shown") {
		t.Errorf("/incident alerts does not say what it leaves out:\n%.500s", listed)
	}
	one := alertsReply(inc, alerts[:1])
	checkAlertBlocks(t, "/incident alerts of one alert", one.Blocks)
	if none := alertsReply(inc, nil); !strings.Contains(none.Text, "has no alerts") {
		t.Errorf("no alerts: %q", none.Text)
	}
}

// TestTriageMessageWithinLimits: a group of a thousand huge alerts, in
// each state, is a valid message; the buttons carry the group's key.
func TestTriageMessageWithinLimits(t *testing.T) {
	var alerts []incident.StoredAlert
	for i := range 1000 {
		alerts = append(alerts, hugeAlert(i, incident.AlertFiring))
	}
	key := `"pages" "alertmanager" group="{}:{alertname=\"HighErrorRate\"}"`
	for _, g := range []incident.AlertGroup{
		{Key: key, Route: "pages", State: incident.GroupTriage, Capped: true},
		{Key: key, Route: "pages", State: incident.GroupIncident, IncidentNumber: 4, DecidedBy: "U2"},
		{Key: key, Route: "pages", State: incident.GroupDismissed, DecidedBy: "U2"},
	} {
		var open []*incident.Incident
		for i := range 150 {
			open = append(open, &incident.Incident{Number: int64(i + 1), Title: strings.Repeat("Checkout <failing> & ", 10)})
		}
		text, blocks := triageMessage(g, alerts, open[:100], "/incident")
		shown := checkAlertBlocks(t, "the triage message ("+g.State+")", blocks)
		if !strings.Contains(text, "1000 firing") || !strings.Contains(shown, "995 more alerts") {
			t.Errorf("%s: %q\n%.300s", g.State, text, shown)
		}
		raw, _ := json.Marshal(blocks)
		hasButtons := strings.Contains(string(raw), actionAlertsDeclare)
		if hasButtons != (g.State == incident.GroupTriage) {
			t.Errorf("%s: buttons shown %v", g.State, hasButtons)
		}
	}
}

// TestPageShowsFewAlerts: a page lists the few alerts it is given and
// counts the rest of the incident's.
func TestPageShowsFewAlerts(t *testing.T) {
	inc := &incident.Incident{ID: "x", Number: 7, Title: "Checkout failing", Severity: "sev1", Status: incident.Investigating}
	var shown []incident.StoredAlert
	for i := range maxPageAlerts {
		shown = append(shown, hugeAlert(i, incident.AlertFiring))
	}
	ev := incident.Event{Kind: incident.KindPage, Data: map[string]string{"page": "1", "step": "1", "users": "U1"}}
	_, blocks := pageMessage(inc, ev, "U1", "C1", 1000, shown, "/incident")
	if text := checkAlertBlocks(t, "a page", blocks); !strings.Contains(text, "… and 995 more") {
		t.Errorf("the page does not count the alerts it leaves out:\n%.1500s", text)
	}
}
