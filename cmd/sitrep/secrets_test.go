package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// TestSecretsStayOut runs an incident over HTTP and over Socket Mode, with
// Slack refusing calls and a forged request along the way, capturing every
// log line, and then looks for the bot token, the signing secret and the
// app token in the logs, in everything posted to Slack, in what users
// were told, in /metrics and in what config check prints.
func TestSecretsStayOut(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	secrets := map[string]string{"bot token": fake.BotToken(), "signing secret": testSecret, "app token": fake.AppToken()}

	var logs, told, scraped []string
	for _, socket := range []bool{false, true} {
		env := testEnv(fake, w.db, "SITREP_ANNOUNCE_CHANNEL", w.announce)
		if socket {
			env["SLACK_APP_TOKEN"] = fake.AppToken()
		}
		sitrep := start(t, fake, env)
		title := "Checkout failing"
		if socket {
			title = "Search failing"
		}
		a, _ := sitrep.slash(fake, "U1", w.general, "declare sev1 "+title)
		told = append(told, a.All())
		var ch slackfake.Channel
		name := "inc-1-checkout-failing"
		if socket {
			name = "inc-2-search-failing"
		}
		eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = fake.ChannelByName(name); return ok })
		card(t, fake, ch.ID)

		// Slack refuses and fails some calls: errors get logged and
		// shown.
		fake.Fail("chat.postMessage", slackfake.Failure{Error: "invalid_auth", Times: 1})
		fake.Fail("chat.update", slackfake.Failure{Status: 500, Times: 2})
		for _, cmd := range []string{"update Payments timing out", "note Token rotation is not the cause", "timeline", "sev sev9", "resolve Payments back"} {
			a, ru := sitrep.slash(fake, "U1", ch.ID, cmd)
			told = append(told, a.All(), responses(fake, ru))
		}
		eventually(t, "the resolution", func() bool { _, c := card(t, fake, ch.ID); return strings.Contains(c, "resolved") })

		if !socket {
			// A forged request: signed with the wrong secret.
			body := slashBody("U1", ch.ID, "/incident note forged", fake.NewResponseURL(), fake.NewTriggerID())
			req := signedRequest(t, sitrep.base+"/slack/commands", body, time.Now())
			req.Header.Set("X-Slack-Signature", "v0="+strings.Repeat("0", 64))
			if a := sitrep.do(req); a.Status != http.StatusUnauthorized {
				t.Errorf("a forged request was answered %d", a.Status)
			}
		}
		resp, err := http.Get(sitrep.base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		scraped = append(scraped, string(body))
		checked, _, err := runCmd(t, env, "config", "check")
		if err != nil {
			t.Fatalf("config check: %v", err)
		}
		told = append(told, checked)
		sitrep.stop()
		logs = append(logs, sitrep.logs.String())
	}

	var slackSide []string
	for _, c := range fake.Channels() {
		slackSide = append(slackSide, c.Topic)
		for _, m := range fake.Messages(c.ID) {
			slackSide = append(slackSide, m.Text, string(m.Blocks), string(m.Metadata))
		}
		for _, e := range fake.Ephemerals(c.ID) {
			slackSide = append(slackSide, e.Text, string(e.Blocks))
		}
	}
	all := map[string]string{
		"logs":    strings.Join(logs, "\n"),
		"Slack":   strings.Join(slackSide, "\n"),
		"replies": strings.Join(told, "\n"),
		"metrics": strings.Join(scraped, "\n"),
	}
	if !strings.Contains(all["logs"], "invalid_auth") {
		t.Fatalf("the refused call was not logged; the test would prove little:\n%s", all["logs"])
	}
	for where, text := range all {
		for what, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("the %s appears in the %s", what, where)
			}
			// Half of it is as bad.
			if half := secret[:len(secret)/2]; strings.Contains(text, half) {
				t.Errorf("part of the %s appears in the %s", what, where)
			}
		}
	}
}
