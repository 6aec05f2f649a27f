package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/playground"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// pgAlerts is the alert panel of /api/state.
type pgAlerts struct {
	Alerts *struct {
		Routing string `json:"routing"`
		Sources []struct {
			Source, Status, Answer string
		} `json:"sources"`
	} `json:"alerts"`
}

func (r *playgroundRun) alertPanel() pgAlerts {
	r.t.Helper()
	var a pgAlerts
	raw := r.rawState("U0ALICE", "alerts")
	if err := json.Unmarshal(raw, &a); err != nil {
		r.t.Fatal(err)
	}
	return a
}

// storedAlert reads one alert from the playground's database, as a second
// process would.
func storedAlert(t *testing.T, db, source, key string) (incident.StoredAlert, bool) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var found *incident.StoredAlert
	err = st.RecordAlerts(context.Background(), func(tx incident.AlertTx) error {
		a, err := tx.Alert(source, key)
		found = a
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == nil {
		return incident.StoredAlert{}, false
	}
	return *found, true
}

// TestPlaygroundAlerts presses Fire and then Resolve for every sender on
// the playground's alert panel: each press goes through Sitrep's real
// POST /hooks/<source>, authenticated as that sender does, and its effect
// shows in the playground's Slack: an incident channel with the alert
// summary for the senders routed to declare, a triage message with its
// buttons for Sentry's issue and Zendesk's ticket; resolving updates the summary and asks whether the
// incident is over.
func TestPlaygroundAlerts(t *testing.T) {
	db := filepath.Join(t.TempDir(), "playground.db")
	pg := startPlayground(t, "-db", db)
	const alice = "U0ALICE"
	panel := pg.alertPanel()
	if panel.Alerts == nil || len(panel.Alerts.Sources) != len(alertSources) || !strings.Contains(panel.Alerts.Routing, "#alert-triage") {
		t.Fatalf("the alert panel: %+v, want every source (%s) and what the routes do", panel.Alerts, strings.Join(alertSources, ", "))
	}
	triage := pg.state(alice, "").channelID(playground.TriageChannelName)
	if triage == "" {
		t.Fatal("no #alert-triage channel in the playground")
	}
	// The key each sender's alert has in Sitrep: the sender's own.
	keys := map[string]string{
		"alertmanager": "2ca2429e4f71b30e", "grafana": "e6349a25f5ef0e9e", "sentry": "issue:4507311968",
		"datadog": "309811/9bd4ac313a4d1e8fae2482df7b77628", "pingdom": "check:2048467",
		"statuscake": "https://shop.example.com/health Checkout health", "generic": "billing-export-nightly",
		"zendesk": "ticket-35436",
	}
	// What the senders routed to triage show in #alert-triage.
	triaged := map[string]string{"sentry": "PaymentDeclinedError", "zendesk": "Checkout keeps failing with error 502"}
	number := map[string]int64{}
	n := int64(0)
	for _, src := range alertSources {
		out := pg.post("/api/alert", map[string]any{"user": alice, "source": src, "status": "firing"})
		if out["ok"] != true || !strings.HasPrefix(fmt.Sprint(out["answer"]), "200 ") {
			t.Fatalf("firing %s: %v\n%s", src, out, pg.out)
		}
		a, ok := storedAlert(t, db, src, keys[src])
		if !ok || a.Status != incident.AlertFiring {
			t.Fatalf("%s's alert after Fire: %+v (recorded %v), want it firing under key %q", src, a, ok, keys[src])
		}
		if shows, ok := triaged[src]; ok {
			if a.Action != incident.ActionTriage || a.IncidentID != "" {
				t.Errorf("%s's alert: %s, incident %q; want it waiting in triage", src, a.Action, a.IncidentID)
			}
			eventually(t, src+"'s alert in #alert-triage with its buttons", func() bool {
				for _, m := range pg.state(alice, triage).Channel.Messages {
					b := string(m.Blocks)
					if m.Bot && strings.Contains(b, shows) && strings.Contains(b, "Declare") && strings.Contains(b, "Dismiss") {
						return true
					}
				}
				return false
			}, func() string { b, _ := json.Marshal(pg.state(alice, triage).Channel.Messages); return string(b) })
			continue
		}
		n++
		number[src] = n
		if a.Action != incident.ActionDeclare || a.IncidentID == "" {
			t.Errorf("%s's alert: %s, incident %q; want it to have declared one", src, a.Action, a.IncidentID)
		}
		var ch string
		eventually(t, fmt.Sprintf("incident #%d's channel with %s's alert summary", n, src), func() bool {
			for _, c := range pg.state(alice, "").Channels {
				if strings.HasPrefix(c.Name, fmt.Sprintf("inc-%d-", n)) {
					ch = c.ID
				}
			}
			return ch != "" && summaryIn(pg, ch, "1 firing, 0 resolved")
		})
	}
	// Firing again changes nothing: the same alert, already recorded.
	pg.mustPost("/api/alert", map[string]any{"user": alice, "source": "alertmanager", "status": "firing"})
	for _, src := range alertSources {
		if s := pg.alertPanel().Alerts.Sources; !strings.Contains(fmt.Sprint(s), src+" firing 200") {
			t.Errorf("the panel does not show %s's alert firing with Sitrep's answer: %+v", src, s)
		}
		pg.mustPost("/api/alert", map[string]any{"user": alice, "source": src, "status": "resolved"})
		if a, _ := storedAlert(t, db, src, keys[src]); a.Status != incident.AlertResolved {
			t.Errorf("%s's alert after Resolve is %s", src, a.Status)
		}
		if _, ok := triaged[src]; ok {
			continue
		}
		var ch string
		for _, c := range pg.state(alice, "").Channels {
			if strings.HasPrefix(c.Name, fmt.Sprintf("inc-%d-", number[src])) {
				ch = c.ID
			}
		}
		eventually(t, fmt.Sprintf("incident #%d's summary resolved, and the question whether it is over", number[src]), func() bool {
			if !summaryIn(pg, ch, "0 firing, 1 resolved") {
				return false
			}
			for _, m := range pg.state(alice, ch).Channel.Messages {
				if strings.Contains(m.Text, "have resolved") {
					return true
				}
			}
			return false
		})
	}
	if n := len(incidentsIn(t, db)); n != 6 {
		t.Errorf("%d incidents, want 6: one per sender routed to declare, none twice", n)
	}

	// Mistakes get a clear answer.
	for _, c := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"user": alice, "source": "nagios", "status": "firing"}, "off"},
		{map[string]any{"user": alice, "source": "grafana", "status": "exploded"}, "firing or resolved"},
	} {
		if out := pg.post("/api/alert", c.body); out["ok"] != false || !strings.Contains(fmt.Sprint(out["error"]), c.want) {
			t.Errorf("/api/alert %v answered %v, want an error saying %q", c.body, out, c.want)
		}
	}
}

// summaryIn reports whether the channel's alert summary says want.
func summaryIn(pg *playgroundRun, channel, want string) bool {
	for _, m := range pg.state("U0ALICE", channel).Channel.Messages {
		if strings.HasPrefix(m.Text, "Alerts of incident") && strings.Contains(m.Text, want) {
			return true
		}
	}
	return false
}

// rawState is /api/state as the page gets it.
func (r *playgroundRun) rawState(user, channel string) []byte {
	r.t.Helper()
	resp, err := http.Get(r.base + "/api/state?user=" + user + "&channel=" + channel)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return b
}
