package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	twhook "github.com/sitrep-dev/sitrep/intake/twilio"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/pagerdutyfake"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/internal/twiliofake"
)

// pagingConfig is a config file with one schedule (bob, then cat, who is
// provisional with dave as backup; weekly from Monday 2026-11-30 00:00
// UTC) and a default policy: the schedule, then its backup after 5m.
const pagingConfig = `oncall:
  page_at: sev1
  schedules:
    - name: primary
      time_zone: UTC
      start: 2026-11-30
      handoff: monday 00:00
      rotation: [U2, U3]
      provisional: [U3]
      backup: [U4]
  policies:
    - name: default
      steps:
        - {notify: "schedule:primary", after: 5m}
        - {notify: "backup:primary", after: 10m}
`

func pagingWorld(t *testing.T) (*world, map[string]string) {
	t.Helper()
	w := newWorld(t)
	w.fake.AddUser(slackfake.User{ID: "U4", Name: "dave"})
	cfg := filepath.Join(t.TempDir(), "sitrep.yaml")
	if err := os.WriteFile(cfg, []byte(pagingConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return w, testEnv(w.fake, w.db, "SITREP_ANNOUNCE_CHANNEL", w.announce, "SITREP_CONFIG", cfg)
}

// dms returns the bot's direct messages to user.
func dms(fake *slackfake.Server, user string) []slackfake.Message {
	dm, ok := fake.DM(user)
	if !ok {
		return nil
	}
	return fake.Messages(dm)
}

// pageAck clicks Acknowledge on a page's direct message to user.
func pageAck(t *testing.T, in *instance, fake *slackfake.Server, user string, m slackfake.Message, value string) string {
	t.Helper()
	p, ru := cardAction(t, fake, user, m.Channel, m.TS, button("page_ack", value))
	p["actions"].([]any)[0].(obj)["block_id"] = "page"
	in.interact(p)
	return ru
}

// TestPagingEscalation walks a page through Slack on a fake clock: a sev1
// declared pages whoever is on call by direct message; nobody answers, so
// the backup is paged; the backup acknowledges, which stops the escalation
// and goes on the timeline, the card and the postmortem's facts; a second
// click is told it was already acknowledged; resolving leaves nothing to
// page; and a sev2 pages nobody.
func TestPagingEscalation(t *testing.T) {
	w, env := pagingWorld(t)
	fake := w.fake
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	sitrep := startAt(t, fake, env, clk)

	sitrep.slash(fake, "U1", w.general, "declare sev1 Checkout failing")
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = fake.ChannelByName("inc-1-checkout-failing"); return ok })
	eventually(t, "bob paged by direct message", func() bool { return len(dms(fake, "U2")) == 1 })
	page := dms(fake, "U2")[0]
	if !strings.Contains(blockText(page.Blocks), "#1 Checkout failing") || !strings.Contains(blockText(page.Blocks), "sev1") ||
		!strings.Contains(string(page.Blocks), `"action_id":"page_ack"`) || !strings.Contains(blockText(page.Blocks), "<#"+ch.ID+">") &&
		!strings.Contains(blockText(page.Blocks), "list` finds it") {
		t.Fatalf("page DM: %s", page.Blocks)
	}
	eventually(t, "the page in the channel", func() bool { return contains(texts(fake, ch.ID), "Paged <@U2> (default, step 1)") },
		func() string { return strings.Join(texts(fake, ch.ID), "\n") })
	quiet(t, clk, w.db)
	if n := len(dms(fake, "U4")); n != 0 {
		t.Fatalf("the backup was paged before the step's wait: %d", n)
	}

	// Nobody acknowledges within 5 minutes: the backup is paged.
	clk.Advance(5 * time.Minute)
	eventually(t, "dave paged", func() bool { return len(dms(fake, "U4")) == 1 })
	eventually(t, "the escalation in the channel", func() bool {
		return contains(texts(fake, ch.ID), "Escalated: Paged <@U4> (default, step 2)")
	}, func() string { return strings.Join(texts(fake, ch.ID), "\n") })
	if n := len(dms(fake, "U2")); n != 1 {
		t.Errorf("bob was paged %d times", n)
	}

	// Dave acknowledges: the page's message says so, and escalation stops.
	clk.Advance(time.Minute)
	pageAck(t, sitrep, fake, "U4", dms(fake, "U4")[0], "1:1")
	eventually(t, "the acknowledgement in the channel", func() bool {
		return contains(texts(fake, ch.ID), "Page acknowledged by <@U4> after 6m")
	}, func() string { return strings.Join(texts(fake, ch.ID), "\n") })
	eventually(t, "the DM marked acknowledged", func() bool {
		m, _ := fake.Message(dms(fake, "U4")[0].Channel, dms(fake, "U4")[0].TS)
		return strings.Contains(m.Text, "You acknowledged the page") && !strings.Contains(string(m.Blocks), "page_ack")
	})
	var c string
	eventually(t, "the card with the time to acknowledge", func() bool {
		_, c = card(t, fake, ch.ID)
		return strings.Contains(c, "acknowledged in 6m")
	}, func() string { return c })

	// Bob's button now says who answered, and changes nothing.
	ru := pageAck(t, sitrep, fake, "U2", dms(fake, "U2")[0], "1:1")
	eventually(t, "bob told it was answered", func() bool { return strings.Contains(responses(fake, ru), "already acknowledged by <@U4>") },
		func() string { return responses(fake, ru) })

	clk.Advance(time.Hour)
	quiet(t, clk, w.db)
	if a, b := len(dms(fake, "U2")), len(dms(fake, "U4")); a != 1 || b != 1 {
		t.Errorf("after the acknowledgement: bob has %d pages, dave %d", a, b)
	}

	// A sev2 pages nobody.
	sitrep.slash(fake, "U1", w.general, "declare sev2 Search slow")
	eventually(t, "the second channel", func() bool { _, ok := fake.ChannelByName("inc-2-search-slow"); return ok })
	quiet(t, clk, w.db)
	if a := len(dms(fake, "U2")); a != 1 {
		t.Errorf("a sev2 paged bob: %d pages", a)
	}
}

// TestPagingByHandAndResolve pages a person by hand, resolves before they
// answer, and checks that the page is cancelled and their late click is
// told so; and that /incident oncall and its override answer.
func TestPagingByHandAndResolve(t *testing.T) {
	w, env := pagingWorld(t)
	fake := w.fake
	clk := clock.NewFake(time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)) // cat's week: provisional
	sitrep := startAt(t, fake, env, clk)

	a, _ := sitrep.slash(fake, "U1", w.general, "oncall")
	if got := a.All(); !strings.Contains(got, "<@U3>") || !strings.Contains(got, "provisional") || !strings.Contains(got, "<@U4> as backup") || !strings.Contains(got, "*Next:* <@U2>") {
		t.Fatalf("oncall: %s", got)
	}
	a, _ = sitrep.slash(fake, "U1", w.general, "oncall override primary <@U1|ann> 2h")
	if got := a.All(); !strings.Contains(got, "<@U1> is on call for *primary*") {
		t.Fatalf("override: %s", got)
	}
	a, _ = sitrep.slash(fake, "U1", w.general, "oncall override primary <@U1|ann> 400d")
	if got := a.All(); !strings.Contains(got, "An override lasts from 1m0s to 14 days") {
		t.Fatalf("absurd override: %s", got)
	}
	a, _ = sitrep.slash(fake, "U1", w.general, "oncall override nope <@U1|ann> 2h")
	if got := a.All(); !strings.Contains(got, `no on-call schedule called "nope"`) {
		t.Fatalf("unknown schedule: %s", got)
	}
	a, _ = sitrep.slash(fake, "U1", w.general, "oncall")
	if got := a.All(); !strings.Contains(got, "*Now:* <@U1>") || !strings.Contains(got, "override set by <@U1>") {
		t.Fatalf("oncall after the override: %s", got)
	}

	// The Home tab shows who is on call, the override included.
	sitrep.sendEvent(homeOpened(t, fake, "EvH-oncall", "U2"), 0)
	var home string
	eventually(t, "the Home tab with who is on call", func() bool {
		v, _ := fake.HomeView("U2")
		home = blockText(v.Blocks)
		return strings.Contains(home, "On call") && strings.Contains(home, "*Now:* <@U1>")
	}, func() string { return home })

	sitrep.slash(fake, "U1", w.general, "declare sev3 Odd graphs")
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = fake.ChannelByName("inc-1-odd-graphs"); return ok })
	card(t, fake, ch.ID) // Sitrep knows the channel as the incident's
	// Someone Slack cannot reach: the commander is told, and paging goes on.
	sitrep.slash(fake, "U1", ch.ID, "page <@U9GONE|gone>")
	eventually(t, "the unreachable person told", func() bool {
		return contains(texts(fake, ch.ID), "<@U1>: The page could not reach <@U9GONE> in Slack")
	}, func() string { return strings.Join(texts(fake, ch.ID), "\n") })
	a, _ = sitrep.slash(fake, "U1", ch.ID, "page <@U3|cat> can you look at the graphs?")
	if a.All() != "" {
		t.Fatalf("page answered: %s", a.All())
	}
	eventually(t, "cat paged", func() bool { return len(dms(fake, "U3")) == 1 })
	if got := blockText(dms(fake, "U3")[0].Blocks); !strings.Contains(got, "<@U1> paged you.") || !strings.Contains(got, "can you look at the graphs?") {
		t.Fatalf("page DM: %s", got)
	}
	a, _ = sitrep.slash(fake, "U1", ch.ID, "page nope")
	if got := a.All(); !strings.Contains(got, `no on-call schedule called "nope"`) {
		t.Fatalf("page unknown schedule: %s", got)
	}
	sitrep.slash(fake, "U1", ch.ID, "resolve false alarm")
	eventually(t, "the page cancelled", func() bool { return contains(texts(fake, ch.ID), "Open pages cancelled") },
		func() string { return strings.Join(texts(fake, ch.ID), "\n") })
	ru := pageAck(t, sitrep, fake, "U3", dms(fake, "U3")[0], "1:2")
	eventually(t, "cat told it was cancelled", func() bool { return strings.Contains(responses(fake, ru), "This page was cancelled") },
		func() string { return responses(fake, ru) })
}

// TestPagingAcrossRestart stops Sitrep during an escalation's wait and
// starts it again after the step fell due: the step is sent once, at once,
// marked late.
func TestPagingAcrossRestart(t *testing.T) {
	w, env := pagingWorld(t)
	fake := w.fake
	clk := clock.NewFake(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
	sitrep := startAt(t, fake, env, clk)
	sitrep.slash(fake, "U1", w.general, "declare sev0 Everything is down")
	eventually(t, "bob paged", func() bool { return len(dms(fake, "U2")) == 1 })
	quiet(t, clk, w.db)
	sitrep.stop()

	clk.Advance(30 * time.Minute) // down through the backup's step
	startAt(t, fake, env, clk)    // stopped by its cleanup
	eventually(t, "dave paged late", func() bool { return len(dms(fake, "U4")) == 1 })
	if got := blockText(dms(fake, "U4")[0].Blocks); !strings.Contains(got, "This page is late") {
		t.Errorf("late page: %s", got)
	}
	quiet(t, clk, w.db)
	if a, b := len(dms(fake, "U2")), len(dms(fake, "U4")); a != 1 || b != 1 {
		t.Errorf("after the restart: bob has %d pages, dave %d", a, b)
	}
}

// TestPagingWithPagerDuty runs the whole path with PagerDuty on: a sev1
// declared pages the on-call by DM and triggers PagerDuty (after a 429
// and a 503); nobody answers, so the backup is paged (PagerDuty is not
// triggered twice); PagerDuty's signed webhook says a responder
// acknowledged, which stops Sitrep's escalation and goes in the channel;
// resolving sends PagerDuty's resolve with the same dedup_key.
func TestPagingWithPagerDuty(t *testing.T) {
	w, env := pagingWorld(t)
	fake := w.fake
	pd := pagerdutyfake.New()
	t.Cleanup(pd.Close)
	pd.Fail(http.StatusTooManyRequests, http.StatusServiceUnavailable)
	const routingKey = "R0123456789ABCDEF0123456789ABCDE"
	const hookSecret = "pd-hook-secret-for-e2e"
	env["PAGERDUTY_ROUTING_KEY"] = routingKey
	env["PAGERDUTY_EVENTS_URL"] = pd.URL()
	env["SITREP_HOOK_SECRET_PAGERDUTY"] = hookSecret
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	sitrep := startAt(t, fake, env, clk)

	sitrep.slash(fake, "U1", w.general, "declare sev1 Checkout failing")
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = fake.ChannelByName("inc-1-checkout-failing"); return ok })
	eventually(t, "bob paged by direct message", func() bool { return len(dms(fake, "U2")) == 1 })
	eventually(t, "PagerDuty triggered", func() bool { return len(pd.Events()) == 1 })
	trig := pd.Events()[0]
	if trig.Action != "trigger" || !strings.HasPrefix(trig.DedupKey, "sitrep-") || trig.RoutingKey != routingKey || trig.Payload["summary"] != "Sitrep #1 (sev1): Checkout failing" {
		t.Fatalf("trigger: %+v", trig)
	}

	clk.Advance(5 * time.Minute)
	eventually(t, "dave paged", func() bool { return len(dms(fake, "U4")) == 1 })
	quiet(t, clk, w.db)

	// A responder acknowledges in PagerDuty.
	raw, err := os.ReadFile("../../testdata/shared/integrations/pagerduty/webhook-v3-incident-acknowledged.json")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(raw), `"title": "Test Incident"`, `"title": "Sitrep #1 (sev1): Checkout failing"`, 1)
	body = strings.Replace(body, `"occurred_at": "2021-06-04T13:55:30.394Z"`, `"occurred_at": "`+clk.Now().Format("2006-01-02T15:04:05.000Z")+`"`, 1)
	hook := func(sig string) int {
		req, err := http.NewRequest(http.MethodPost, sitrep.base+"/hooks/pagerduty", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-PagerDuty-Signature", sig)
		req.Header.Set("X-Webhook-Id", "01BZYK8N47N5JG55J1EEEHPEJI")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	mac := hmac.New(sha256.New, []byte(hookSecret))
	mac.Write([]byte(body))
	sig := "v1=" + hex.EncodeToString(mac.Sum(nil))
	if code := hook("v1=deadbeef"); code != http.StatusUnauthorized {
		t.Fatalf("wrong signature: %d", code)
	}
	if code := hook("v1=0000," + sig); code != http.StatusNoContent {
		t.Fatalf("signed webhook: %d", code)
	}
	if code := hook(sig); code != http.StatusNoContent {
		t.Fatalf("redelivered webhook: %d", code)
	}
	eventually(t, "the acknowledgement in the channel", func() bool {
		return contains(texts(fake, ch.ID), "Page acknowledged by PIG 208 in PagerDuty after 5m")
	}, func() string { return strings.Join(texts(fake, ch.ID), "\n") })
	clk.Advance(time.Hour)
	quiet(t, clk, w.db)
	if contains(texts(fake, ch.ID), "Nobody acknowledged") || len(dms(fake, "U4")) != 1 || len(dms(fake, "U2")) != 1 {
		t.Errorf("escalation went on after PagerDuty's acknowledgement:\n%s", strings.Join(texts(fake, ch.ID), "\n"))
	}
	n := 0
	for _, m := range texts(fake, ch.ID) {
		if strings.Contains(m, "PagerDuty: acknowledged by PIG 208") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the webhook was recorded %d times", n)
	}

	sitrep.slash(fake, "U1", ch.ID, "resolve fixed")
	eventually(t, "PagerDuty resolved", func() bool { return !pd.Open(trig.DedupKey) && len(pd.Events()) == 2 })
	if r := pd.Events()[1]; r.Action != "resolve" || r.DedupKey != trig.DedupKey || r.RoutingKey != routingKey {
		t.Errorf("resolve: %+v", r)
	}
}

// TestPagingKill9 kills the program with SIGKILL while a page waits for
// its next step, and starts it again on the same database after the step
// fell due: the backup is paged once, at once, marked late, and the
// on-call is not paged again.
func TestPagingKill9(t *testing.T) {
	r := newCrashRun(t)
	r.fake.AddUser(slackfake.User{ID: "U4", Name: "dave"})
	cfg := filepath.Join(t.TempDir(), "sitrep.yaml")
	if err := os.WriteFile(cfg, []byte(pagingConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	r.kill()
	r.env = append(r.env, "SITREP_CONFIG="+cfg)
	r.alive()
	if !r.slash("U1", r.w.general, "declare sev1 Checkout failing") {
		t.Fatal("declare was not answered")
	}
	eventually(t, "bob paged", func() bool { return len(dms(r.fake, "U2")) == 1 })
	r.quiet()
	r.kill() // SIGKILL during the five minutes' wait

	r.env = append(r.env, crashOffsetEnv+"=30m")
	r.alive()
	eventually(t, "dave paged late", func() bool { return len(dms(r.fake, "U4")) == 1 }, func() string { return r.logs.String() })
	if got := blockText(dms(r.fake, "U4")[0].Blocks); !strings.Contains(got, "This page is late") {
		t.Errorf("late page: %s", got)
	}
	r.quiet()
	if a, b := len(dms(r.fake, "U2")), len(dms(r.fake, "U4")); a != 1 || b != 1 {
		t.Errorf("after the kill: bob has %d pages, dave %d", a, b)
	}
}

// TestPagingByPhone texts and calls the on-call through a fake Twilio, and
// acknowledges by pressing 1 on the call: Twilio's signed gather callback,
// signed over the public URL while it reaches Sitrep at another address
// (as behind a proxy).
func TestPagingByPhone(t *testing.T) {
	w, env := pagingWorld(t)
	fake := w.fake
	cfg := strings.Replace(pagingConfig, "        - {notify: \"schedule:primary\", after: 5m}", "        - {notify: \"schedule:primary\", after: 5m, sms: true, call: true}", 1)
	cfg += "  phones: {U2: \"+15558675310\", U3: \"+15558675311\", U4: \"+15558675312\"}\n"
	if err := os.WriteFile(env["SITREP_CONFIG"], []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	const sid, token = "ACf0e1d2c3b4a5968778695a4b3c2d1e0f", "0f8c6b1d2e3a4f5b6c7d8e9fa0b1c2d3"
	tw := twiliofake.New(sid, token)
	t.Cleanup(tw.Close)
	const public = "https://sitrep.example.com"
	env["TWILIO_ACCOUNT_SID"], env["TWILIO_AUTH_TOKEN"], env["TWILIO_FROM"], env["TWILIO_API_URL"] = sid, token, "+15017122661", tw.URL()
	env["SITREP_PUBLIC_URL"] = public
	clk := clock.NewFake(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
	sitrep := startAt(t, fake, env, clk)

	sitrep.slash(fake, "U1", w.general, "declare sev1 Checkout failing")
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = fake.ChannelByName("inc-1-checkout-failing"); return ok })
	eventually(t, "bob texted and called", func() bool { return len(tw.Requests()) == 2 })
	reqs := tw.Requests()
	if reqs[0].Kind != "sms" || reqs[0].Form.Get("To") != "+15558675310" || reqs[1].Kind != "call" {
		t.Fatalf("twilio: %+v", reqs)
	}
	twiml := reqs[1].Form.Get("Twiml")
	i := strings.Index(twiml, `action="`)
	if i < 0 {
		t.Fatalf("no gather action: %s", twiml)
	}
	action := html.UnescapeString(twiml[i+len(`action="`) : i+strings.Index(twiml[i:], `" `)])
	path := strings.TrimPrefix(action, public)
	form := url.Values{"CallSid": {"CA9d2b7e4f1a3c5e8b0d6f2a4c7e9b1d3f"}, "Digits": {"1"}, "From": {"+15017122661"}, "To": {"+15558675310"}, "msg": {"Gather End"}, "FinishedOnKey": {""}}
	post := func(sig string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, sitrep.base+path, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Signed over the address Sitrep sees rather than the public one.
	if code, _ := post(twhook.Signature(token, sitrep.base+path, form)); code != http.StatusForbidden {
		t.Fatalf("signature over the wrong URL: %d", code)
	}
	code, body := post(twhook.Signature(token, public+path, form))
	if code != http.StatusOK || !strings.Contains(body, "<Say>Acknowledged.") {
		t.Fatalf("key press: %d %s", code, body)
	}
	eventually(t, "the acknowledgement in the channel", func() bool { return contains(texts(fake, ch.ID), "Page acknowledged by <@U2>") },
		func() string { return strings.Join(texts(fake, ch.ID), "\n") })
	clk.Advance(time.Hour)
	quiet(t, clk, w.db)
	if len(dms(fake, "U4")) != 0 || len(tw.Requests()) != 2 {
		t.Errorf("escalation went on after the key press: dave %d DMs, twilio %d", len(dms(fake, "U4")), len(tw.Requests()))
	}
}
