package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

const hookSecret = "hook-secret-for-e2e-5b1c"

// startAlerting runs Sitrep with every alert source on and config as its
// config file.
func (w *world) startAlerting(t *testing.T, config string, extra ...string) *instance {
	t.Helper()
	return w.startAlertingAt(t, nil, config, extra...)
}

// startAlertingAt is startAlerting with the program on a fake clock, when
// clk is not nil.
func (w *world) startAlertingAt(t *testing.T, clk *clock.Fake, config string, extra ...string) *instance {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sitrep.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	env := testEnv(w.fake, w.db, append([]string{"SITREP_ANNOUNCE_CHANNEL", w.announce, "SITREP_CONFIG", path}, extra...)...)
	for _, src := range alertSources {
		env[hookSecretVar(src)] = hookSecret
	}
	return startAt(t, w.fake, env, clk)
}

// recorded is a payload recorded from a sender (testdata/shared/integrations).
func recorded(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "shared", "integrations", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hook posts body to /hooks/source as that sender sends it: its
// credential, its content type, its signature.
func (in *instance) hook(t *testing.T, source string, body []byte, headers ...string) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(hookRequest(t, in.base, source, body, headers...))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// hookRequest is a POST of body to base's /hooks/source as that sender
// sends it; headers are name, value pairs to set ("" removes one).
func hookRequest(t *testing.T, base, source string, body []byte, headers ...string) *http.Request {
	t.Helper()
	u := base + "/hooks/" + source
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	switch source {
	case "alertmanager", "grafana", "datadog", "generic":
		req.Header.Set("Authorization", "Bearer "+hookSecret)
	case "sentry":
		m := hmac.New(sha256.New, []byte(hookSecret))
		m.Write(body)
		req.Header.Set("Sentry-Hook-Signature", hex.EncodeToString(m.Sum(nil)))
	case "pingdom":
		req.URL.RawQuery = "token=" + hookSecret
	case "statuscake":
		req.URL.RawQuery = "token=" + hookSecret
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	return req
}

func (in *instance) mustHook(t *testing.T, source string, body []byte, headers ...string) {
	t.Helper()
	if code, msg := in.hook(t, source, body, headers...); code != http.StatusOK {
		t.Fatalf("POST /hooks/%s answered %d %s\nlogs:\n%s", source, code, msg, in.logs)
	}
}

// generic is one alert of Sitrep's own webhook.
func genericAlert(key, status, title string, labels map[string]string) []byte {
	b, _ := json.Marshal(map[string]any{"dedup_key": key, "status": status, "title": title, "labels": labels,
		"description": "From the e2e test", "links": []map[string]string{{"text": "Runbook", "url": "https://runbooks.example.com/" + key}}})
	return b
}

// stored opens the database beside the running program, as a second
// process would: what a 2xx answer promised is there.
func stored(t *testing.T, path string) (*incident.Service, func()) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return incident.NewService(db, incident.DefaultConfig(), nil), func() { db.Close() }
}

func incidentsIn(t *testing.T, path string) []*incident.Incident {
	t.Helper()
	svc, done := stored(t, path)
	defer done()
	incs, err := svc.List(context.Background(), incident.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return incs
}

func alertsOf(t *testing.T, path string, number int64) []incident.StoredAlert {
	t.Helper()
	svc, done := stored(t, path)
	defer done()
	alerts, err := svc.IncidentAlerts(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	return alerts
}

func timelineOf(t *testing.T, path string, number int64) []incident.Event {
	t.Helper()
	svc, done := stored(t, path)
	defer done()
	_, evs, err := svc.Timeline(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// incidentChannel waits for the channel of incident n.
func incidentChannel(t *testing.T, fake *slackfake.Server, n int64) slackfake.Channel {
	t.Helper()
	var found slackfake.Channel
	eventually(t, fmt.Sprintf("the channel of incident #%d", n), func() bool {
		for _, ch := range fake.Channels() {
			if strings.HasPrefix(ch.Name, fmt.Sprintf("inc-%d-", n)) {
				found = ch
				return true
			}
		}
		return false
	})
	return found
}

// summaries are the alert summary messages in a channel.
func summaries(fake *slackfake.Server, channel string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range fake.Messages(channel) {
		if strings.HasPrefix(m.Text, "Alerts of incident") {
			out = append(out, m)
		}
	}
	return out
}

const declareAll = `
alerts:
  max_declares_per_minute: 20
  routes:
    - name: everything
      action: declare
      severity: sev1
`

// TestAlertsFromEverySource sends each sender's recorded payloads, as the
// sender sends them, and checks that each declares an incident declared
// by Sitrep for that source, whose channel shows the alert's details.
func TestAlertsFromEverySource(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sitrep := w.startAlerting(t, declareAll)
	for i, tc := range []struct {
		source, file string
		headers      []string
		detail       string // something of the alert its summary must show
	}{
		{"alertmanager", "alertmanager/v4-firing-first-notification.json", nil, "instance=web-1"},
		{"grafana", "grafana/webhook-firing-docs.json", nil, "alertname="},
		{"sentry", "sentry/issue-created.json", []string{"Sentry-Hook-Resource", "issue"}, "Custom exception"},
		{"datadog", "datadog/sitrep-payload-triggered.rendered.json", nil, "(datadog)"},
		{"pingdom", "pingdom/webhook-http-up-to-down.json", nil, "DNS error"},
		{"statuscake", "statuscake/webhook-down.form.txt", nil, "Checkout health"},
		{"generic", string(genericAlert("disk-full", "firing", "Disk full on db-1", map[string]string{"host": "db-1"})), nil, "host=db-1"},
	} {
		body := []byte(tc.file)
		if !strings.HasPrefix(tc.file, "{") {
			body = recorded(t, tc.file)
		}
		sitrep.mustHook(t, tc.source, body, tc.headers...)
		n := int64(i + 1)
		incs := incidentsIn(t, w.db)
		if len(incs) != i+1 {
			t.Fatalf("after %s: %d incidents, want %d", tc.source, len(incs), i+1)
		}
		inc := incs[0] // newest first
		if inc.Number != n || inc.Source != tc.source || inc.DeclaredBy != "" || inc.Severity != "sev1" {
			t.Errorf("%s declared #%d for %q by %q as %s; want #%d for %s by Sitrep as sev1", tc.source, inc.Number, inc.Source, inc.DeclaredBy, inc.Severity, n, tc.source)
		}
		ch := incidentChannel(t, w.fake, n)
		eventually(t, tc.source+"'s alert summary showing "+tc.detail, func() bool {
			s := summaries(w.fake, ch.ID)
			return len(s) == 1 && strings.Contains(slackfake.BlockText(s[0].Blocks), tc.detail)
		}, func() string { return strings.Join(texts(w.fake, ch.ID), "\n") })
	}
	// /incident alerts lists an incident's alerts, with their labels.
	ch1 := incidentChannel(t, w.fake, 1)
	w.fake.AddMember(ch1.ID, "U1")
	if a, _ := sitrep.slash(w.fake, "U1", ch1.ID, "alerts"); !strings.Contains(a.All(), "2 firing, 0 resolved") || !strings.Contains(a.All(), "instance=web-2") {
		t.Errorf("/incident alerts answered %q, want both alerts with their labels", a.All())
	}
	eventually(t, "each declaration announced as Sitrep's for its source", func() bool {
		a := strings.Join(texts(w.fake, w.announce), "\n")
		return strings.Contains(a, "by Sitrep for Alertmanager") && strings.Contains(a, "by Sitrep for Statuscake") && strings.Contains(a, "by Sitrep for Generic")
	}, func() string { return strings.Join(texts(w.fake, w.announce), "\n") })

	// Alertmanager then says one alert resolved, then the other: each goes
	// on the timeline, and once both have, the commander is asked.
	sitrep.mustHook(t, "alertmanager", recorded(t, "alertmanager/v4-firing-one-resolved.json"))
	sitrep.mustHook(t, "alertmanager", recorded(t, "alertmanager/v4-resolved-all.json"), "Authorization", "Basic YWxlcnRtYW5hZ2VyOmhvb2stc2VjcmV0LWZvci1lMmUtNWIxYw==")
	alerts := alertsOf(t, w.db, 1)
	if len(alerts) != 2 || alerts[0].Status != incident.AlertResolved || alerts[1].Status != incident.AlertResolved {
		t.Fatalf("alertmanager's alerts after both resolved: %+v", alerts)
	}
	ch := incidentChannel(t, w.fake, 1)
	eventually(t, "the commander asked whether the incident is over", func() bool {
		return contains(texts(w.fake, ch.ID), "All the alerts of incident #1 have resolved")
	}, func() string { return strings.Join(texts(w.fake, ch.ID), "\n") })
	eventually(t, "the summary updated in place", func() bool {
		s := summaries(w.fake, ch.ID)
		return len(s) == 1 && strings.Contains(s[0].Text, "0 firing, 2 resolved")
	})
	if inc := incidentsIn(t, w.db); inc[len(inc)-1].Status != incident.Investigating {
		t.Errorf("incident #1 is %s; without auto_resolve it waits for the commander", inc[len(inc)-1].Status)
	}
	// The postmortem lists the incident's alerts (here rendered from the
	// database, by the same pipeline as in Slack).
	var md bytes.Buffer
	pm := program{getenv: func(k string) string { return map[string]string{"SITREP_DB": w.db}[k] }, stdout: &md, stderr: io.Discard}
	if err := pm.run(context.Background(), []string{"postmortem", "1"}); err != nil {
		t.Fatalf("sitrep postmortem 1: %v", err)
	}
	if !strings.Contains(md.String(), "## Alerts") || !strings.Contains(md.String(), "instance=web-2") {
		t.Errorf("the postmortem does not list the alerts:\n%s", md.String())
	}
	// The payload that truncated the list says "resolved" for a group that
	// still fires: it changes nothing of what is firing.
	sitrep.mustHook(t, "alertmanager", recorded(t, "alertmanager/v4-max-alerts-truncated.json"), "Authorization", "Basic YWxlcnRtYW5hZ2VyOmhvb2stc2VjcmV0LWZvci1lMmUtNWIxYw==")
}

// TestAlertsRefused: a source that is off is 404, a wrong credential 401
// with nothing recorded, a Sentry signature over another body 401.
func TestAlertsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	path := filepath.Join(t.TempDir(), "sitrep.yaml")
	if err := os.WriteFile(path, []byte(declareAll), 0o600); err != nil {
		t.Fatal(err)
	}
	sitrep := start(t, w.fake, testEnv(w.fake, w.db, "SITREP_CONFIG", path, "SITREP_HOOK_SECRET_GENERIC", hookSecret, "SITREP_HOOK_SECRET_SENTRY", hookSecret))
	body := genericAlert("k1", "firing", "Disk full", nil)
	if code, _ := sitrep.hook(t, "alertmanager", recorded(t, "alertmanager/v4-firing-first-notification.json")); code != http.StatusNotFound {
		t.Errorf("alertmanager without its secret: %d, want 404", code)
	}
	if code, _ := sitrep.hook(t, "generic", body, "Authorization", "Bearer wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong bearer: %d, want 401", code)
	}
	if code, _ := sitrep.hook(t, "generic", body, "Authorization", ""); code != http.StatusUnauthorized {
		t.Errorf("no credential: %d, want 401", code)
	}
	m := hmac.New(sha256.New, []byte(hookSecret))
	m.Write([]byte(`{"action":"created"}`))
	if code, _ := sitrep.hook(t, "sentry", recorded(t, "sentry/issue-created.json"), "Sentry-Hook-Resource", "issue", "Sentry-Hook-Signature", hex.EncodeToString(m.Sum(nil))); code != http.StatusUnauthorized {
		t.Errorf("sentry signature over another body: %d, want 401", code)
	}
	if code, msg := sitrep.hook(t, "generic", []byte(`{"status":"firing"`)); code != http.StatusBadRequest || strings.Contains(msg, "\n") {
		t.Errorf("malformed JSON: %d %q, want 400 with one line", code, msg)
	}
	if n := len(incidentsIn(t, w.db)); n != 0 {
		t.Errorf("%d incidents from refused requests, want none", n)
	}
}

// TestAlertStorm: a thousand alerts of one Alertmanager group, in ten
// notifications, make one incident and one alert summary updated in
// place, not a thousand posts; a resend and identical deliveries racing
// each other record nothing twice.
func TestAlertStorm(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sitrep := w.startAlerting(t, `
alerts:
  routes:
    - name: pages
      matchers: ['severity="critical"', 'source="alertmanager"']
      action: declare
`)
	var tmpl map[string]any
	if err := json.Unmarshal(recorded(t, "alertmanager/v4-firing-first-notification.json"), &tmpl); err != nil {
		t.Fatal(err)
	}
	first := tmpl["alerts"].([]any)[0].(map[string]any)
	batch := func(from int) []byte {
		var alerts []any
		for i := from; i < from+100; i++ {
			a := map[string]any{}
			for k, v := range first {
				a[k] = v
			}
			labels := map[string]any{"alertname": "HighErrorRate", "severity": "critical", "instance": fmt.Sprintf("web-%d", i)}
			a["labels"], a["fingerprint"] = labels, fmt.Sprintf("fp%04d", i)
			alerts = append(alerts, a)
		}
		m := map[string]any{}
		for k, v := range tmpl {
			m[k] = v
		}
		m["alerts"] = alerts
		b, _ := json.Marshal(m)
		return b
	}
	for i := range 10 {
		body := batch(i * 100)
		if i == 3 {
			// The sender's retry racing its original, twice over.
			var wg sync.WaitGroup
			for range 3 {
				wg.Go(func() { sitrep.mustHook(t, "alertmanager", body) })
			}
			wg.Wait()
			continue
		}
		sitrep.mustHook(t, "alertmanager", body)
	}
	sitrep.mustHook(t, "alertmanager", batch(500)) // a resend
	incs := incidentsIn(t, w.db)
	if len(incs) != 1 {
		t.Fatalf("%d incidents from one group's storm, want 1", len(incs))
	}
	if n := len(alertsOf(t, w.db, 1)); n != 1000 {
		t.Errorf("%d alerts recorded, want 1000", n)
	}
	if k := kinds(timelineOf(t, w.db, 1)); k[incident.KindAlert] != 1000 {
		t.Errorf("%d alert events on the timeline, want one per alert (1000)", k[incident.KindAlert])
	}
	ch := incidentChannel(t, w.fake, 1)
	eventually(t, "one summary showing all 1000 alerts", func() bool {
		s := summaries(w.fake, ch.ID)
		return len(s) == 1 && strings.Contains(s[0].Text, "1000 firing")
	}, func() string { return strings.Join(texts(w.fake, ch.ID), "\n") })
	posts := 0
	for _, c := range w.fake.Calls("chat.postMessage") {
		if strings.Contains(c.Params["channel"], ch.ID) {
			posts++
		}
	}
	if posts > 5 {
		t.Errorf("%d messages posted in the incident channel for one storm, want a handful (card, checklist, summary)", posts)
	}
	if n := len(w.fake.Calls("conversations.create")); n != 1 {
		t.Errorf("%d channels created, want 1", n)
	}
}

func kinds(evs []incident.Event) map[incident.EventKind]int {
	m := map[incident.EventKind]int{}
	for _, e := range evs {
		m[e.Kind]++
	}
	return m
}

// TestAlertCapAndFlapping: past max_declares_per_minute groups wait in
// triage, said once; a group that fires again soon after auto_resolve
// resolved its incident reopens it.
func TestAlertCapAndFlapping(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	triage := w.fake.AddChannel("alert-triage", false, "U1")
	sitrep := w.startAlerting(t, `
alerts:
  triage_channel: `+triage+`
  max_declares_per_minute: 2
  reopen_within: 1h
  routes:
    - name: generic
      matchers: ['source="generic"']
      action: declare
      auto_resolve: true
      group_by: [service]
`)
	for i := range 4 {
		sitrep.mustHook(t, "generic", genericAlert(fmt.Sprint("k", i), "firing", fmt.Sprint("Service ", i, " down"), map[string]string{"service": fmt.Sprint("s", i)}))
	}
	sitrep.mustHook(t, "generic", genericAlert("k3b", "firing", "Service 3 down again", map[string]string{"service": "s3"}))
	if n := len(incidentsIn(t, w.db)); n != 2 {
		t.Fatalf("%d incidents from 4 groups with a cap of 2 a minute, want 2", n)
	}
	if n := strings.Count(sitrep.logs.String(), "as many incidents as allowed this minute"); n != 2 {
		t.Errorf("the cap was said %d times for 2 capped groups (one of them twice alerted), want once each\nlogs:\n%s", n, sitrep.logs)
	}

	eventually(t, "the capped groups in the triage channel, saying why, once each", func() bool {
		ms := triageMessages(w.fake, triage)
		return len(ms) == 2 && strings.Contains(slackfake.BlockText(ms[0].Blocks), "as many incidents as allowed") &&
			strings.Contains(ms[1].Text, "2 firing")
	}, func() string { return strings.Join(texts(w.fake, triage), "\n") })

	// Incident #1's only alert resolves: auto_resolve resolves it. It
	// fires again: the same incident reopens.
	sitrep.mustHook(t, "generic", genericAlert("k0", "resolved", "Service 0 down", map[string]string{"service": "s0"}))
	inc := incidentsIn(t, w.db)[1]
	if inc.Number != 1 || inc.Status != incident.Resolved {
		t.Fatalf("incident #%d is %s after its only alert resolved with auto_resolve, want #1 resolved", inc.Number, inc.Status)
	}
	sitrep.mustHook(t, "generic", genericAlert("k0", "firing", "Service 0 down", map[string]string{"service": "s0"}))
	incs := incidentsIn(t, w.db)
	if len(incs) != 2 || incs[1].Status != incident.Investigating {
		t.Fatalf("after flapping: %d incidents, #1 %s; want #1 reopened, no new one", len(incs), incs[1].Status)
	}
	ch := incidentChannel(t, w.fake, 1)
	eventually(t, "the reopening shown in the channel", func() bool {
		return contains(texts(w.fake, ch.ID), "reopened incident #1")
	}, func() string { return strings.Join(texts(w.fake, ch.ID), "\n") })
}

// TestAlertRoutesRefusedAtStart: a bad matcher or an unknown action stops
// start-up with one line naming it.
func TestAlertRoutesRefusedAtStart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ config, want string }{
		{"alerts:\n  routes:\n    - name: pages\n      matchers: ['severity=~\"(critical\"']\n", `alerts.routes[0] (pages): matchers[0]`},
		{"alerts:\n  routes:\n    - action: page\n", `alerts.routes[0]: action "page" is not one of declare, triage or ignore`},
	} {
		fake := slackfake.New()
		t.Cleanup(fake.Close)
		path := filepath.Join(t.TempDir(), "sitrep.yaml")
		if err := os.WriteFile(path, []byte(tc.config), 0o600); err != nil {
			t.Fatal(err)
		}
		env := testEnv(fake, filepath.Join(t.TempDir(), "sitrep.db"), "SITREP_CONFIG", path)
		p := program{getenv: func(k string) string { return env[k] }, stdout: io.Discard, stderr: io.Discard}
		err := p.run(context.Background(), []string{"serve"})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("start-up with %q: %v, want one line containing %q", tc.config, err, tc.want)
		}
	}
}

// TestAlertsOverSocketMode: /hooks/ is served when Slack's requests come
// over Socket Mode too.
func TestAlertsOverSocketMode(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := testEnv(w.fake, w.db, "SLACK_APP_TOKEN", w.fake.AppToken(), "SITREP_HOOK_SECRET_GENERIC", hookSecret)
	delete(env, "SLACK_SIGNING_SECRET")
	sitrep := start(t, w.fake, env)
	sitrep.mustHook(t, "generic", genericAlert("k1", "firing", "Queue backed up", nil))
	if n := len(incidentsIn(t, w.db)); n != 0 {
		t.Errorf("%d incidents: with no routes, alerts wait in triage", n)
	}
}

// triageMessages are the triage channel's messages, by their text.
func triageMessages(fake *slackfake.Server, channel string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range fake.Messages(channel) {
		if strings.HasPrefix(m.Text, "Alerts in triage") {
			out = append(out, m)
		}
	}
	return out
}

// buttonValue is the value of the button actionID in a message's blocks,
// "" if it has none.
func buttonValue(t *testing.T, m slackfake.Message, actionID string) string {
	t.Helper()
	var blocks []struct {
		Type     string `json:"type"`
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		for _, e := range b.Elements {
			if b.Type == "actions" && e.ActionID == actionID {
				return e.Value
			}
		}
	}
	return ""
}

// TestAlertTriage: groups of a triage route each get one message in the
// triage channel, updated in place as alerts arrive and resolve; Declare
// makes an incident of the group's alerts with the clicker as commander,
// Dismiss sets it aside until an alert fires again.
func TestAlertTriage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	triage := w.fake.AddChannel("alert-triage", false, "U1", "U2")
	sitrep := w.startAlerting(t, fmt.Sprintf(`
alerts:
  triage_channel: %s
  routes:
    - name: maybe
      matchers: ['source="generic"']
      action: triage
      severity: sev1
      group_by: [service]
`, triage))
	for i := range 3 {
		sitrep.mustHook(t, "generic", genericAlert(fmt.Sprint("s1-", i), "firing", "Checkout slow", map[string]string{"service": "s1"}))
	}
	sitrep.mustHook(t, "generic", genericAlert("s2-0", "firing", "Search slow", map[string]string{"service": "s2"}))
	show := func() string { return strings.Join(texts(w.fake, triage), "\n") }
	var s1, s2 slackfake.Message
	eventually(t, "one triage message per group", func() bool {
		ms := triageMessages(w.fake, triage)
		if len(ms) != 2 {
			return false
		}
		s1, s2 = ms[0], ms[1]
		return strings.Contains(s1.Text, "3 firing") && strings.Contains(s2.Text, "1 firing")
	}, show)
	if n := len(incidentsIn(t, w.db)); n != 0 {
		t.Fatalf("%d incidents from a triage route, want none", n)
	}
	sitrep.mustHook(t, "generic", genericAlert("s1-0", "resolved", "Checkout slow", map[string]string{"service": "s1"}))
	eventually(t, "the group's message updated in place", func() bool {
		m, ok := w.fake.Message(triage, s1.TS)
		return ok && strings.Contains(m.Text, "2 firing, 1 resolved") && len(triageMessages(w.fake, triage)) == 2
	}, show)

	p, _ := cardAction(t, w.fake, "U2", triage, s1.TS, button("alerts_declare", buttonValue(t, s1, "alerts_declare")))
	if a := sitrep.interact(p); a.Status != http.StatusOK {
		t.Fatalf("Declare: %+v", a)
	}
	incs := incidentsIn(t, w.db)
	if len(incs) != 1 || incs[0].Commander() != "U2" || incs[0].Severity != "sev1" {
		t.Fatalf("after Declare: %d incidents (%+v), want #1 commanded by U2 at the route's sev1", len(incs), incs)
	}
	if n := len(alertsOf(t, w.db, 1)); n != 3 {
		t.Errorf("%d alerts attached to the incident declared from triage, want the group's 3", n)
	}
	inc1 := incidentChannel(t, w.fake, 1)
	eventually(t, "the alert summary in the channel of the incident declared from triage", func() bool {
		s := summaries(w.fake, inc1.ID)
		return len(s) == 1 && strings.Contains(s[0].Text, "2 firing, 1 resolved")
	}, func() string { return strings.Join(texts(w.fake, inc1.ID), "\n") })
	eventually(t, "the triage message saying it was declared, without buttons", func() bool {
		m, _ := w.fake.Message(triage, s1.TS)
		return strings.Contains(slackfake.BlockText(m.Blocks), "Part of incident #1, on the word of") && buttonValue(t, m, "alerts_declare") == ""
	}, show)
	// A second click (another person, at the same time) changes nothing.
	p, ru2 := cardAction(t, w.fake, "U1", triage, s1.TS, button("alerts_declare", buttonValue(t, s1, "alerts_declare")))
	sitrep.interact(p)
	eventually(t, "the second click told it is already an incident", func() bool {
		return strings.Contains(responses(w.fake, ru2), "already incident #1")
	})

	p, _ = cardAction(t, w.fake, "U1", triage, s2.TS, button("alerts_dismiss", buttonValue(t, s2, "alerts_dismiss")))
	if a := sitrep.interact(p); a.Status != http.StatusOK {
		t.Fatalf("Dismiss: %+v", a)
	}
	eventually(t, "the triage message saying it was dismissed", func() bool {
		m, _ := w.fake.Message(triage, s2.TS)
		return strings.Contains(slackfake.BlockText(m.Blocks), "Dismissed by")
	}, show)
	sitrep.mustHook(t, "generic", genericAlert("s2-1", "firing", "Search slow again", map[string]string{"service": "s2"}))
	eventually(t, "a dismissed group back in triage when an alert fires", func() bool {
		m, _ := w.fake.Message(triage, s2.TS)
		return strings.Contains(m.Text, "2 firing") && buttonValue(t, m, "alerts_declare") != ""
	}, show)
	// Back in triage, it is attached to the open incident with Attach to….
	m, _ := w.fake.Message(triage, s2.TS)
	attach := staticSelect("alerts_attach", "1")
	attach["block_id"] = "alerts:" + buttonValue(t, m, "alerts_dismiss")
	p, _ = cardAction(t, w.fake, "U1", triage, s2.TS, attach)
	if a := sitrep.interact(p); a.Status != http.StatusOK {
		t.Fatalf("Attach to: %+v", a)
	}
	if n := len(alertsOf(t, w.db, 1)); n != 5 {
		t.Errorf("%d alerts on incident #1 after attaching the second group, want 3 + 2", n)
	}
	eventually(t, "the attached alerts in the incident's summary", func() bool {
		s := summaries(w.fake, inc1.ID)
		return len(s) == 1 && strings.Contains(s[0].Text, "4 firing, 1 resolved")
	}, func() string { return strings.Join(texts(w.fake, inc1.ID), "\n") })
	eventually(t, "the attached group's message saying so", func() bool {
		m, _ := w.fake.Message(triage, s2.TS)
		return strings.Contains(slackfake.BlockText(m.Blocks), "Part of incident #1, on the word of <@U1>")
	}, show)
	if n := len(incidentsIn(t, w.db)); n != 1 {
		t.Errorf("%d incidents, want 1", n)
	}
	if n := len(triageMessages(w.fake, triage)); n != 2 {
		t.Errorf("%d messages in the triage channel for 2 groups, want 2 (the rest updated in place)", n)
	}
}

// TestAlertHold: a route's noise controls keep a group waiting in triage,
// saying so, until it has gathered min_alerts and fired for its for; the
// wait survives a restart, and the group then declares itself with every
// alert it gathered.
func TestAlertHold(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	triage := w.fake.AddChannel("alert-triage", false, "U1")
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	config := fmt.Sprintf(`
alerts:
  triage_channel: %s
  routes:
    - name: pages
      source: generic
      action: declare
      group_by: [service]
      min_alerts: 2
      window: 5m
      for: 10m
`, triage)
	sitrep := w.startAlertingAt(t, clk, config)
	sitrep.mustHook(t, "generic", genericAlert("a1", "firing", "Checkout 5xx", map[string]string{"service": "checkout"}))
	show := func() string { return strings.Join(texts(w.fake, triage), "\n") }
	var msg slackfake.Message
	eventually(t, "the waiting group in triage, saying what it waits for", func() bool {
		ms := triageMessages(w.fake, triage)
		if len(ms) != 1 {
			return false
		}
		msg = ms[0]
		return strings.Contains(slackfake.BlockText(msg.Blocks), "declares itself once it has 2 alerts firing within 5m and firing for 10m")
	}, show)
	clk.Advance(2 * time.Minute)
	sitrep.mustHook(t, "generic", genericAlert("a2", "firing", "Checkout 5xx on pod 2", map[string]string{"service": "checkout"}))
	if n := len(incidentsIn(t, w.db)); n != 0 {
		t.Fatalf("%d incidents before the group fired for 10m, want none", n)
	}
	eventually(t, "the triage message counting both alerts", func() bool {
		m, ok := w.fake.Message(triage, msg.TS)
		return ok && strings.Contains(m.Text, "2 firing")
	}, show)

	// Sitrep restarts during the wait; the wait is in the database.
	sitrep.stop()
	clk.Advance(8 * time.Minute)
	sitrep = w.startAlertingAt(t, clk, config)
	eventually(t, "the group declared once its wait ended", func() bool { return len(incidentsIn(t, w.db)) == 1 }, func() string { return sitrep.logs.String() })
	inc := incidentsIn(t, w.db)[0]
	if inc.Source != "generic" || inc.DeclaredBy != "" {
		t.Errorf("declared by %q for %q, want Sitrep for generic", inc.DeclaredBy, inc.Source)
	}
	if n := len(alertsOf(t, w.db, inc.Number)); n != 2 {
		t.Errorf("incident has %d alerts, want the 2 the group gathered", n)
	}
	eventually(t, "the triage message saying the group became the incident", func() bool {
		m, ok := w.fake.Message(triage, msg.TS)
		return ok && strings.Contains(slackfake.BlockText(m.Blocks), "Part of incident #1") && len(triageMessages(w.fake, triage)) == 1
	}, show)
	incidentChannel(t, w.fake, 1)
}

// TestAlertsReplay: sitrep alerts replay runs a new routing against the
// alerts recorded and prints what each group would have become beside
// what it became, changing nothing.
func TestAlertsReplay(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	sitrep := w.startAlertingAt(t, clk, `
alerts:
  routes:
    - name: everything
      action: triage
      group_by: [service]
`)
	for i := range 3 {
		sitrep.mustHook(t, "generic", genericAlert(fmt.Sprint("checkout-", i), "firing", "Checkout 5xx", map[string]string{"service": "checkout"}))
	}
	sitrep.mustHook(t, "generic", genericAlert("search-0", "firing", "Search slow", map[string]string{"service": "search"}))
	sitrep.mustHook(t, "generic", genericAlert("watchdog", "firing", "Watchdog", map[string]string{"alertname": "Watchdog"}))
	sitrep.stop()

	next := filepath.Join(t.TempDir(), "next.yaml")
	if err := os.WriteFile(next, []byte(`
alerts:
  routes:
    - name: noise
      matchers: ['alertname="Watchdog"']
      action: ignore
    - name: checkout
      matchers: ['service="checkout"']
      action: declare
      group_by: [service]
      min_alerts: 2
    - name: search
      matchers: ['service="search"']
      action: declare
      for: 10m
`), 0o600); err != nil {
		t.Fatal(err)
	}
	before := len(incidentsIn(t, w.db))
	clk.Advance(time.Minute)
	replay := func(args ...string) (string, error) {
		var out, errOut syncBuffer
		p := program{getenv: func(k string) string { return map[string]string{"SITREP_DB": w.db}[k] }, stdout: &out, stderr: &errOut, clock: clk}
		err := p.run(context.Background(), append([]string{"alerts"}, args...))
		return out.String(), err
	}
	out, err := replay("replay", "--config", next)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	for _, want := range []string{
		"Replayed 5 alerts",
		"They would declare 1 incidents (alerts declared 0), leave 1 groups in triage and ignore 1.",
		"declares an incident with its 3 alerts, after waiting for 2 alerts firing within 5m",
		"triage: still waiting for firing for 10m",
		"ignored",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("replay output lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "checkout") && !strings.HasSuffix(strings.TrimSpace(line), "triage") {
			t.Errorf("checkout's line should say it was triaged: %q", line)
		}
	}
	// Later, the search group's wait would have ended.
	clk.Advance(10 * time.Minute)
	if out, err := replay("replay", "-config", next); err != nil || !strings.Contains(out, "They would declare 2 incidents") {
		t.Errorf("replay 11 minutes on: %v\n%s", err, out)
	}
	if n := len(incidentsIn(t, w.db)); n != before {
		t.Errorf("the replay changed the recorded database: %d incidents, was %d", n, before)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"replay"}, "name the config file whose routes to try"},
		{[]string{"rerun", "--config", next}, "the one subcommand is replay"},
		{[]string{"replay", "--config", filepath.Join(t.TempDir(), "missing.yaml")}, "alerts replay --config: cannot read"},
		{[]string{"replay", "--config", next, "-db", filepath.Join(t.TempDir(), "none.db")}, "no database at"},
	} {
		if _, err := replay(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("alerts %v: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
}

// TestAlertTriageInAnnounceChannel: without alerts.triage_channel, groups
// in triage are shown in the announce channel, as INTEGRATIONS.md says.
func TestAlertTriageInAnnounceChannel(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sitrep := w.startAlerting(t, "alerts:\n  routes:\n    - action: triage\n")
	sitrep.mustHook(t, "generic", genericAlert("q-1", "firing", "Queue backing up", nil))
	eventually(t, "the group's triage message in the announce channel", func() bool {
		ms := triageMessages(w.fake, w.announce)
		return len(ms) == 1 && strings.Contains(ms[0].Text, "Queue backing up")
	}, func() string { return strings.Join(texts(w.fake, w.announce), "\n") })
}

// TestAlertTriageOffersNewIncidents: a triage message's Attach to… offers
// an incident declared after the message was posted, without waiting for
// the group's next alert.
func TestAlertTriageOffersNewIncidents(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	triage := w.fake.AddChannel("alert-triage", false, "U1")
	sitrep := w.startAlerting(t, fmt.Sprintf("alerts:\n  triage_channel: %s\n  routes:\n    - action: triage\n", triage))
	sitrep.mustHook(t, "generic", genericAlert("q-1", "firing", "Queue backing up", nil))
	show := func() string { return strings.Join(texts(w.fake, triage), "\n") }
	var msg slackfake.Message
	eventually(t, "the group's triage message, with nothing to attach it to", func() bool {
		ms := triageMessages(w.fake, triage)
		if len(ms) != 1 {
			return false
		}
		msg = ms[0]
		return !strings.Contains(slackfake.BlockText(msg.Blocks), "Attach to")
	}, show)
	if a, _ := sitrep.slash(w.fake, "U1", w.general, "declare sev2 Billing emails late"); a.Status != http.StatusOK {
		t.Fatalf("declare: %+v", a)
	}
	eventually(t, "the message offering the new incident under Attach to…", func() bool {
		m, ok := w.fake.Message(triage, msg.TS)
		return ok && strings.Contains(slackfake.BlockText(m.Blocks), "#1 Billing emails late")
	}, show)
	if n := len(triageMessages(w.fake, triage)); n != 1 {
		t.Errorf("%d triage messages, want the one updated in place", n)
	}
}
