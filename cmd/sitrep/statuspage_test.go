package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// statusConfig is a config file with a status page of two components,
// approval on or off.
func statusConfig(t *testing.T, approval bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sitrep.yaml")
	yaml := "status_page:\n  name: Acme\n  url: https://status.example.com\n  approval: " + map[bool]string{true: "true", false: "false"}[approval] + `
  components:
    - name: API
      group: Platform
      services: [checkout]
    - name: Web app
`
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// publicGet reads a URL of the status listener.
func publicGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// messageWith returns the channel's message whose text holds sub.
func messageWith(t *testing.T, fake *slackfake.Server, channel, sub string) slackfake.Message {
	t.Helper()
	var found slackfake.Message
	eventually(t, "a message with "+sub, func() bool {
		for _, m := range fake.Messages(channel) {
			if strings.Contains(m.Text, sub) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// TestPublishWithApproval publishes from Slack with approval on: the form
// is prefilled from the incident, the draft waits in the channel, its
// author cannot approve it, comms can, and only then does the public page
// (on its own listener, apart from Slack's) show it. Resolving then asks
// for the public resolution.
func TestPublishWithApproval(t *testing.T) {
	w := newWorld(t)
	env := testEnv(w.fake, w.db, "SITREP_STATUS_ADDR", "127.0.0.1:0", "SITREP_CONFIG", statusConfig(t, true))
	sitrep := start(t, w.fake, env)
	if sitrep.status == "" {
		t.Fatal("the status listener did not start")
	}
	ch := w.declared(t, sitrep).ID
	w.fake.AddMember(ch, "U2")
	w.fake.AddMember(ch, "U3")
	if a, _ := sitrep.slash(w.fake, "U1", ch, "role comms <@U2|bob>"); a.Text != "" {
		t.Fatalf("role: %q", a.Text)
	}
	// The listener serves the page and nothing of Slack's, the hooks' or
	// the metrics'.
	for _, p := range []string{"/slack/commands", "/hooks/alertmanager", "/metrics", "/healthz"} {
		if code, _ := publicGet(t, sitrep.status+p); code != 404 {
			t.Errorf("status listener GET %s = %d, want 404", p, code)
		}
	}
	if _, body := publicGet(t, sitrep.status+"/"); !strings.Contains(body, "All Systems Operational") || strings.Contains(body, "Checkout failing") {
		t.Fatalf("before publishing, the page shows:\n%s", body)
	}

	// The form, prefilled from the incident.
	if a, _ := sitrep.slash(w.fake, "U1", ch, "publish"); a.Text != "" {
		t.Fatalf("publish answered %q, want the form", a.Text)
	}
	form := nthView(t, w.fake, "publish", 1)
	if initialValues(t, form)["pub_title"] != "Checkout failing" || !strings.Contains(string(form.Raw), "Submit for approval") {
		t.Errorf("the publish form: %s", form.Raw)
	}
	// A bad value is shown next to its input, and nothing is recorded.
	if a := sitrep.interact(submission(t, w.fake, "U1", form, obj{
		"pub_title": obj{"pub_title": textValue("Checkout errors")}, "pub_status": obj{"pub_status": optionValue("investigating")},
		"pub_message": obj{"pub_message": textValue("  ")},
	})); a.ResponseAction != "errors" || a.Errors["pub_message"] == "" {
		t.Fatalf("an empty message answered %+v", a)
	}
	submitForm(t, sitrep, w.fake, "U1", "publish", 1, obj{
		"pub_title":   obj{"pub_title": textValue("Checkout errors <b>")},
		"pub_status":  obj{"pub_status": optionValue("investigating")},
		"pub_c:0":     obj{"pub_c:0": optionValue("major_outage")},
		"pub_message": obj{"pub_message": textValue("We are investigating errors at checkout.")},
	})
	draft := messageWith(t, w.fake, ch, "drafted a public update")
	if _, body := publicGet(t, sitrep.status+"/api/v2/summary.json"); strings.Contains(body, "Checkout errors") {
		t.Fatalf("a draft reached the public page: %s", body)
	}
	// Its author may not approve it; comms may.
	click := func(user, action string) string {
		p, ru := cardAction(t, w.fake, user, ch, draft.TS, button(action, buttonValue(t, draft, action)))
		if a := sitrep.interact(p); a.Status != http.StatusOK {
			t.Fatalf("%s clicking %s: %+v", user, action, a)
		}
		return ru
	}
	ru := click("U1", "public_approve")
	eventually(t, "the author told no", func() bool { return strings.Contains(responses(w.fake, ru), "someone else approves it") })
	ru = click("U3", "public_approve")
	eventually(t, "U3 told no", func() bool { return strings.Contains(responses(w.fake, ru), "Only the commander") })
	click("U2", "public_approve")
	messageWith(t, w.fake, ch, "Published to the status page")

	var summary struct {
		Status     struct{ Indicator string }
		Components []struct{ Name, Status string }
		Incidents  []struct {
			ID, Name, Status, Shortlink string
			IncidentUpdates             []struct{ Body string } `json:"incident_updates"`
		}
	}
	eventually(t, "the public page", func() bool {
		_, body := publicGet(t, sitrep.status+"/api/v2/summary.json")
		return json.Unmarshal([]byte(body), &summary) == nil && len(summary.Incidents) == 1
	})
	inc := summary.Incidents[0]
	if summary.Status.Indicator != "critical" || inc.Name != "Checkout errors <b>" || inc.Status != "investigating" || inc.IncidentUpdates[0].Body != "We are investigating errors at checkout." {
		t.Errorf("summary: %+v", summary)
	}
	_, page := publicGet(t, sitrep.status+"/")
	if !strings.Contains(page, "Checkout errors &lt;b&gt;") || strings.Contains(page, "U1") || strings.Contains(page, "Checkout failing") {
		t.Errorf("the page:\n%s", page)
	}
	// The card shows what customers see, with a link.
	eventually(t, "the card's status page line", func() bool {
		_, text := card(t, w.fake, ch)
		return strings.Contains(text, "https://status.example.com/incidents/"+inc.ID) && strings.Contains(text, "what customers see")
	})

	// Resolving asks for the public resolution: the resolve form becomes
	// the publish form, prefilled.
	if a, _ := sitrep.slash(w.fake, "U1", ch, "resolve"); a.Text != "" {
		t.Fatalf("resolve answered %q", a.Text)
	}
	a := sitrep.interact(submission(t, w.fake, "U1", nthView(t, w.fake, "resolve", 1), obj{"summary": obj{"summary": textValue("Rolled back")}}))
	if a.ResponseAction != "update" {
		t.Fatalf("the resolve form answered %+v, want the publish form", a)
	}
	tl, _ := sitrep.slash(w.fake, "U1", ch, "timeline")
	for _, want := range []string{"Drafted a public update (investigating)", "Published to the status page (investigating, approved by"} {
		if !strings.Contains(tl.All(), want) {
			t.Errorf("the timeline lacks %q:\n%s", want, tl.All())
		}
	}
}

// TestPublishRefusals: a private incident and a drill cannot be
// published, and without a status page publishing says how to get one.
func TestPublishRefusals(t *testing.T) {
	w := newWorld(t)
	sitrep := start(t, w.fake, testEnv(w.fake, w.db, "SITREP_STATUS_ADDR", "127.0.0.1:0", "SITREP_CONFIG", statusConfig(t, false)))
	ch := w.declared(t, sitrep).ID
	if a, _ := sitrep.slash(w.fake, "U1", ch, "publish"); a.Text != "" {
		t.Fatalf("publish answered %q", a.Text)
	}
	// Without approval the update goes out at once.
	submitForm(t, sitrep, w.fake, "U1", "publish", 1, obj{
		"pub_title":   obj{"pub_title": textValue("Checkout errors")},
		"pub_status":  obj{"pub_status": optionValue("identified")},
		"pub_message": obj{"pub_message": textValue("We found the cause.")},
	})
	eventually(t, "the public page", func() bool {
		_, body := publicGet(t, sitrep.status+"/api/v2/incidents.json")
		return strings.Contains(body, "We found the cause.")
	})
	// The update form's checkbox goes on to the publish form.
	if a, ru := sitrep.slash(w.fake, "U1", ch, "update"); a.Text != "" {
		t.Fatalf("update answered %q %s", a.Text, responses(w.fake, ru))
	}
	a := sitrep.interact(submission(t, w.fake, "U1", nthView(t, w.fake, "update", 1), obj{
		"status":   obj{"status": optionValue("monitoring")},
		"know":     obj{"know": textValue("A fix is deployed")},
		"pub_also": obj{"pub_also": checkboxValues("publish")},
	}))
	if a.ResponseAction != "update" {
		t.Errorf("the update form with its checkbox answered %+v, want the publish form", a)
	}

	for i, c := range []struct{ title, flag, channel, says string }{
		{"Secret thing", "private", "inc-2-secret-thing", "private incidents are never published"},
		{"Game day", "drill", "inc-3-game-day", "drills are never published"},
	} {
		if a, _ := sitrep.slash(w.fake, "U1", w.general, "declare"); a.Text != "" {
			t.Fatalf("declare form: %q", a.Text)
		}
		submitForm(t, sitrep, w.fake, "U1", "declare", i+1, obj{
			"title":    obj{"title": textValue(c.title)},
			"severity": obj{"severity": optionValue("sev3")},
			"flags":    obj{"flags": checkboxValues(c.flag)},
		})
		inc := mustChannelEventually(t, w.fake, c.channel)
		var said string
		// Until Sitrep has recorded the channel, it is not an incident's.
		eventually(t, "publish refused in the "+c.flag+" incident", func() bool {
			a, _ := sitrep.slash(w.fake, "U1", inc.ID, "publish")
			said = a.Text
			return !strings.Contains(said, "this channel is not one")
		})
		if !strings.Contains(said, c.says) {
			t.Errorf("publish in the %s incident answered %q", c.flag, said)
		}
	}
	if _, body := publicGet(t, sitrep.status+"/api/v2/incidents.json"); strings.Contains(body, "Secret") || strings.Contains(body, "Game day") {
		t.Errorf("a private incident or drill reached the page: %s", body)
	}
}

func mustChannelEventually(t *testing.T, fake *slackfake.Server, name string) slackfake.Channel {
	t.Helper()
	var ch slackfake.Channel
	eventually(t, "channel "+name, func() bool { var ok bool; ch, ok = fake.ChannelByName(name); return ok })
	return ch
}

// The status_page section and the STATUSPAGE_* settings are read, checked
// with messages that say what to do, and shown by config check with the
// API key masked.
func TestStatusPageSettings(t *testing.T) {
	base := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "s3cret"}
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	s, err := loadSettings(env("SITREP_CONFIG", statusConfig(t, true), "SITREP_STATUS_ADDR", ":8081",
		"STATUSPAGE_API_KEY", "sp-key-0123456789abcdef", "STATUSPAGE_PAGE_ID", "jb7j80lkgqvb"))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Incident.Public.On || !s.Incident.Public.Approval || len(s.Incident.Public.Components) != 2 || s.Incident.Public.URL != "https://status.example.com" {
		t.Errorf("public config: %+v", s.Incident.Public)
	}
	var out strings.Builder
	if err := printSettings(&out, s); err != nil {
		t.Fatal(err)
	}
	squeezed := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{"SITREP_STATUS_ADDR :8081", "STATUSPAGE_API_KEY … (set, 23 characters, masked)", "STATUSPAGE_PAGE_ID jb7j80lkgqvb", "status_page:", "approval: true", "- name: API", "group: Platform"} {
		if !strings.Contains(squeezed, want) {
			t.Errorf("config check lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "sp-key-0123456789abcdef") {
		t.Errorf("config check shows the API key")
	}
	for _, tc := range []struct {
		name string
		env  []string
		says string
	}{
		{"key without page", []string{"STATUSPAGE_API_KEY", "k"}, "STATUSPAGE_PAGE_ID: required with STATUSPAGE_API_KEY"},
		{"page without key", []string{"STATUSPAGE_PAGE_ID", "p"}, "STATUSPAGE_API_KEY: required with STATUSPAGE_PAGE_ID"},
		{"bad API URL", []string{"STATUSPAGE_API_URL", "ftp://x"}, "STATUSPAGE_API_URL"},
		{"same listener", []string{"SITREP_ADDR", ":8080", "SITREP_STATUS_ADDR", ":8080"}, "needs its own listener"},
	} {
		if _, err := loadSettings(env(tc.env...)); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.says)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("status_page:\n  components:\n    - name: API\n    - name: API\n"), 0o644)
	if _, err := loadConfigFile(bad); err == nil || !strings.Contains(err.Error(), `status_page.components[1].name "API": listed twice`) {
		t.Errorf("a repeated component: %v", err)
	}
}

// TestStatuspageMirror: with STATUSPAGE_* set, a publish from Slack is
// mirrored to Atlassian Statuspage (a fake that checks the OAuth key):
// one incident created, then updated; a refused key is told in the
// incident's channel, to its commander, once.
func TestStatuspageMirror(t *testing.T) {
	var (
		mu    sync.Mutex
		calls []string
		key   = "sp-key-e2e-51d0"
	)
	refuse := false
	sp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if refuse || r.Header.Get("Authorization") != "OAuth "+key {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"Could not authenticate"}`)
			return
		}
		var body struct{ Incident map[string]any }
		json.NewDecoder(r.Body).Decode(&body)
		calls = append(calls, r.Method+" "+r.URL.Path+" "+fmt.Sprint(body.Incident["status"]))
		switch {
		case r.Method == http.MethodGet:
			io.WriteString(w, `[{"id":"zvdm6f7gf76j","name":"API","group":false}]`)
		case r.Method == http.MethodPost:
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"id":"p31zjtct2jer"}`)
		default:
			io.WriteString(w, `{"id":"p31zjtct2jer"}`)
		}
	}))
	defer sp.Close()
	got := func() string { mu.Lock(); defer mu.Unlock(); return strings.Join(calls, "\n") }

	w := newWorld(t)
	sitrep := start(t, w.fake, testEnv(w.fake, w.db, "SITREP_CONFIG", statusConfig(t, false),
		"STATUSPAGE_API_KEY", key, "STATUSPAGE_PAGE_ID", "jb7j80lkgqvb", "STATUSPAGE_API_URL", sp.URL+"/v1"))
	ch := w.declared(t, sitrep).ID
	publish := func(n int, status, msg string) {
		t.Helper()
		if a, _ := sitrep.slash(w.fake, "U1", ch, "publish"); a.Text != "" {
			t.Fatalf("publish answered %q", a.Text)
		}
		submitForm(t, sitrep, w.fake, "U1", "publish", n, obj{
			"pub_title":   obj{"pub_title": textValue("Checkout errors")},
			"pub_status":  obj{"pub_status": optionValue(status)},
			"pub_c:0":     obj{"pub_c:0": optionValue("partial_outage")},
			"pub_message": obj{"pub_message": textValue(msg)},
		})
	}
	publish(1, "investigating", "We are investigating.")
	eventually(t, "the incident created on Statuspage", func() bool {
		return strings.Contains(got(), "POST /v1/pages/jb7j80lkgqvb/incidents investigating")
	}, got)
	publish(2, "identified", "We found it.")
	eventually(t, "the incident updated on Statuspage", func() bool {
		return strings.Contains(got(), "PATCH /v1/pages/jb7j80lkgqvb/incidents/p31zjtct2jer identified")
	}, got)
	if n := strings.Count(got(), "POST "); n != 1 {
		t.Errorf("%d creates, want 1:\n%s", n, got())
	}

	mu.Lock()
	refuse = true
	mu.Unlock()
	publish(3, "monitoring", "A fix is out.")
	msg := messageWith(t, w.fake, ch, "mirroring it to Atlassian Statuspage failed")
	if !strings.HasPrefix(msg.Text, "<@U1>") || !strings.Contains(msg.Text, "STATUSPAGE_API_KEY") || strings.Contains(msg.Text, key) {
		t.Errorf("the commander was told %q", msg.Text)
	}
}

// The playground serves the status page too, and says where.
func TestPlaygroundServesTheStatusPage(t *testing.T) {
	r := startPlayground(t)
	const prefix = "The public status page (what /incident publish shows customers): "
	var url string
	eventually(t, "the status page's address", func() bool {
		for _, line := range strings.Split(r.out.String(), "\n") {
			if u, ok := strings.CutPrefix(line, prefix); ok {
				url = strings.TrimSpace(u)
				return true
			}
		}
		return false
	})
	if code, body := publicGet(t, url); code != 200 || !strings.Contains(body, "All Systems Operational") {
		t.Errorf("GET %s = %d\n%.300s", url, code, body)
	}
}

// /incident thirdparty shows a polled third party's open incidents, from
// anywhere, without waiting on the vendor.
func TestThirdPartyCommand(t *testing.T) {
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"status":{"indicator":"major","description":"Partial System Outage"},"incidents":[{"name":"Webhooks delayed","status":"identified","impact":"major","shortlink":"https://stspg.io/wh"}]}`)
	}))
	defer vendor.Close()
	path := filepath.Join(t.TempDir(), "sitrep.yaml")
	os.WriteFile(path, []byte("status_pages:\n  - name: GitHub\n    url: https://www.githubstatus.com\n    summary: "+vendor.URL+"/api/v2/summary.json\n  - name: AWS\n    url: https://health.aws.amazon.com/health/status\n"), 0o644)
	w := newWorld(t)
	sitrep := start(t, w.fake, testEnv(w.fake, w.db, "SITREP_CONFIG", path))
	eventually(t, "the vendor's incident", func() bool {
		a, _ := sitrep.slash(w.fake, "U1", w.general, "thirdparty")
		return strings.Contains(a.All(), "<https://stspg.io/wh|Webhooks delayed>: identified, major impact") && strings.Contains(a.All(), "AWS>*: not polled")
	})
}

// zendeskHeaders signs body as Zendesk does, at at.
func zendeskHeaders(body []byte, at time.Time) []string {
	ts := at.UTC().Format(time.RFC3339)
	m := hmac.New(sha256.New, []byte(hookSecret))
	m.Write([]byte(ts))
	m.Write(body)
	return []string{"X-Zendesk-Webhook-Signature", base64.StdEncoding.EncodeToString(m.Sum(nil)), "X-Zendesk-Webhook-Signature-Timestamp", ts}
}

// TestZendeskTickets: a signed ticket with the routed tag waits in triage;
// one without it is ignored; a forged signature or a stale timestamp is
// 401 with nothing recorded.
func TestZendeskTickets(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	triage := w.fake.AddChannel("alert-triage", false, "U1")
	sitrep := w.startAlerting(t, `
alerts:
  triage_channel: `+triage+`
  routes:
    - name: customer reports
      matchers: ['source="zendesk"', 'tag_checkout="true"']
      action: triage
    - name: other tickets
      matchers: ['source="zendesk"']
      action: ignore
`)
	ticket := recorded(t, "zendesk/trigger-webhook-new-ticket.json")
	if code, _ := sitrep.hook(t, "zendesk", ticket, zendeskHeaders(ticket, time.Now().Add(-time.Hour))...); code != http.StatusUnauthorized {
		t.Errorf("a stale timestamp answered %d, want 401", code)
	}
	forged := zendeskHeaders(ticket, time.Now())
	forged[1] = "c9FkygjAMrMNuE4/+TjLloNJPJCfuYjjn4OHrJKfWok="
	if code, _ := sitrep.hook(t, "zendesk", ticket, forged...); code != http.StatusUnauthorized {
		t.Errorf("a forged signature answered %d, want 401", code)
	}
	other := []byte(strings.Replace(string(ticket), `"checkout payment_failure web_widget"`, `"billing"`, 1))
	other = []byte(strings.Replace(string(other), `"35436"`, `"35437"`, 1))
	sitrep.mustHook(t, "zendesk", other, zendeskHeaders(other, time.Now())...)
	sitrep.mustHook(t, "zendesk", ticket, zendeskHeaders(ticket, time.Now())...)
	eventually(t, "the tagged ticket in triage", func() bool {
		return contains(texts(w.fake, triage), "Zendesk #35436: Checkout keeps failing with error 502")
	}, func() string { return strings.Join(texts(w.fake, triage), "\n") })
	if contains(texts(w.fake, triage), "Zendesk #35437") {
		t.Errorf("an untagged ticket reached triage")
	}
}

// TestCustomerSuccessBrief: a customer-visible incident at or above
// customer_success.at gets one brief in the customer-success channel,
// edited in place with each public update; one below it gets none.
func TestCustomerSuccessBrief(t *testing.T) {
	w := newWorld(t)
	cs := w.fake.AddChannel("customer-success", false, "U2")
	path := statusConfig(t, false)
	b, _ := os.ReadFile(path)
	os.WriteFile(path, append(b, []byte("customer_success:\n  channel: "+cs+"\n  at: sev2\n")...), 0o644)
	sitrep := start(t, w.fake, testEnv(w.fake, w.db, "SITREP_STATUS_ADDR", "127.0.0.1:0", "SITREP_CONFIG", path))
	ch := w.declared(t, sitrep).ID // sev1
	publish := func(n int, channel, msg string) {
		t.Helper()
		if a, _ := sitrep.slash(w.fake, "U1", channel, "publish"); a.Text != "" {
			t.Fatalf("publish answered %q", a.Text)
		}
		submitForm(t, sitrep, w.fake, "U1", "publish", n, obj{
			"pub_title":   obj{"pub_title": textValue("Checkout errors")},
			"pub_status":  obj{"pub_status": optionValue("identified")},
			"pub_c:0":     obj{"pub_c:0": optionValue("major_outage")},
			"pub_message": obj{"pub_message": textValue(msg)},
		})
	}
	publish(1, ch, "We found the cause.")
	brief := messageWith(t, w.fake, cs, "Customer brief · incident #1")
	if !strings.Contains(brief.Text, "We found the cause.") || !strings.Contains(brief.Text, "API: Major outage") || !strings.Contains(brief.Text, "https://status.example.com/incidents/") {
		t.Errorf("the brief: %s", brief.Text)
	}
	// cs is a default role: with no roles in the config, the brief names
	// the customer success lead.
	w.fake.AddMember(ch, "U2")
	if a, _ := sitrep.slash(w.fake, "U1", ch, "role cs <@U2|bob>"); a.Text != "" {
		t.Fatalf("role cs answered %q", a.Text)
	}
	publish(2, ch, "A fix is rolling out.")
	eventually(t, "the brief edited in place", func() bool {
		m, ok := w.fake.Message(cs, brief.TS)
		return ok && strings.Contains(m.Text, "A fix is rolling out.") && strings.Contains(m.Text, "*Customer success lead:* <@U2>")
	})
	// A sev3 incident, published, is below the brief's severity.
	sitrep.slash(w.fake, "U1", w.general, "declare sev3 Slow avatars")
	low := mustChannelEventually(t, w.fake, "inc-2-slow-avatars").ID
	eventually(t, "incident #2 ready", func() bool {
		a, _ := sitrep.slash(w.fake, "U1", low, "publish")
		return a.Text == ""
	})
	opened := 0
	for _, v := range w.fake.Views() {
		if v.CallbackID == "publish" {
			opened++
		}
	}
	submitForm(t, sitrep, w.fake, "U1", "publish", opened, obj{
		"pub_title": obj{"pub_title": textValue("Slow avatars")}, "pub_status": obj{"pub_status": optionValue("investigating")},
		"pub_message": obj{"pub_message": textValue("Avatars load slowly.")},
	})
	eventually(t, "the sev3 publish on the page", func() bool {
		_, body := publicGet(t, sitrep.status+"/api/v2/incidents.json")
		return strings.Contains(body, "Avatars load slowly.")
	})
	n := 0
	for _, m := range w.fake.Messages(cs) {
		if strings.Contains(m.Text, "Customer brief") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d briefs in the channel, want 1 (sev3 is below customer_success.at)", n)
	}
}
