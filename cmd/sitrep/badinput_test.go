package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/clock"
)

// TestRejectsUnsignedRequests sends slash commands with missing, wrong and
// stale signatures: each gets 401 and changes nothing.
func TestRejectsUnsignedRequests(t *testing.T) {
	w := newWorld(t)
	sitrep := w.start(t)
	body := slashBody("U1", w.general, "declare sev1 Forged incident", w.fake.NewResponseURL(), w.fake.NewTriggerID())
	now := time.Now()
	tests := []struct {
		name   string
		mutate func(r *http.Request)
		at     time.Time
	}{
		{"no signature", func(r *http.Request) { r.Header.Del("X-Slack-Signature") }, now},
		{"no timestamp", func(r *http.Request) { r.Header.Del("X-Slack-Request-Timestamp") }, now},
		{"wrong secret", func(r *http.Request) {
			r.Header.Set("X-Slack-Signature", slackSignature("not-the-secret", r.Header.Get("X-Slack-Request-Timestamp"), body))
		}, now},
		{"body tampered", func(r *http.Request) {
			r.Header.Set("X-Slack-Signature", slackSignature(testSecret, r.Header.Get("X-Slack-Request-Timestamp"), body+"x"))
		}, now},
		{"older than five minutes", nil, now.Add(-5*time.Minute - 10*time.Second)},
		{"replayed timestamp swapped", func(r *http.Request) {
			r.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix()+1, 10))
		}, now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := signedRequest(t, sitrep.base+"/slack/commands", body, tt.at)
			if tt.mutate != nil {
				tt.mutate(req)
			}
			if a := sitrep.do(req); a.Status != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", a.Status)
			}
		})
	}
	t.Run("oversized body", func(t *testing.T) {
		big := body + "&pad=" + strings.Repeat("x", 2<<20)
		if a := sitrep.do(signedRequest(t, sitrep.base+"/slack/commands", big, now)); a.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", a.Status)
		}
	})
	list, _ := sitrep.slash(w.fake, "U1", w.general, "list")
	if !strings.Contains(list.All(), "No open incidents") {
		t.Errorf("a rejected request made an incident:\n%s", list.All())
	}
	if n := len(w.fake.Calls("conversations.create")); n != 0 {
		t.Errorf("a rejected request created %d channels", n)
	}
	if logs := sitrep.logs.String(); strings.Contains(logs, testSecret) || strings.Contains(logs, w.fake.BotToken()) {
		t.Error("a secret reached the logs")
	}
}

// TestBadInputIsExplained types wrong commands and checks that each answer
// says what was wrong and how to do it right, and that nothing is left
// half-made.
func TestBadInputIsExplained(t *testing.T) {
	w := newWorld(t)
	sitrep := w.start(t)
	_, ru := sitrep.slash(w.fake, "U1", w.general, "declare sev2 Payments delayed")
	eventually(t, "the incident channel", func() bool { return strings.Contains(responses(w.fake, ru), "is open in") })
	inc := mustChannel(t, w.fake, "inc-1-payments-delayed").ID

	tests := []struct {
		name, channel, text string
		want                []string // all must appear in the answer
	}{
		{"unknown subcommand", w.general, "frobnicate", []string{`don't know the subcommand "frobnicate"`, "/incident declare [severity] [title]"}},
		{"misspelt subcommand", w.general, "delcare sev9 Disk full", []string{`don't know the subcommand "delcare"`, "Did you mean `/incident declare sev9 Disk full`?", "`/incident help` lists"}},
		{"unknown severity on declare", w.general, "declare sev9 Disk full", []string{`"sev9" is not a severity`, "sev0, sev1, sev2, sev3", "Usage: `/incident declare"}},
		{"unknown severity on sev", inc, "sev critical", []string{`"critical" is not a severity`, "Usage: `/incident severity <severity>`"}},
		{"unknown status", inc, "status sleeping", []string{`"sleeping" is not a status`, "Usage: `/incident status"}},
		{"status resolved points to resolve", inc, "status resolved", []string{"resolve [summary]"}},
		{"unknown role", inc, "role janitor <@U2>", []string{`"janitor" is not a role`, "commander, comms, scribe, cs", "Usage: `/incident role <role> @user`"}},
		{"user that is not a mention", inc, "lead bob", []string{`"bob" is not a mention`, "Usage: `/incident lead @user`"}},
		{"role to a plain name", inc, "role comms @cat", []string{`"@cat" is not a mention`}},
		{"empty note", inc, "note", []string{"note is empty", "Usage: `/incident note <text>`"}},
		{"status outside an incident channel", w.general, "status identified", []string{"works inside an incident's channel", "/incident list"}},
		{"timeline outside an incident channel", w.general, "timeline", []string{"works inside an incident's channel"}},
		{"resolve outside an incident channel", w.general, "resolve done", []string{"works inside an incident's channel"}},
		{"reopen an open incident", inc, "reopen", []string{"only a resolved incident can be reopened"}},
		{"title too long", w.general, "declare sev1 " + strings.Repeat("Checkout ", 34)[:300], []string{"300 characters long", "keep it to 200"}},
		{"title of only punctuation", w.general, "declare sev1 ?!?! ---", []string{"only punctuation"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := sitrep.slash(w.fake, "U1", tt.channel, tt.text)
			if a.Status != 200 || a.ResponseType != "ephemeral" {
				t.Fatalf("answer %+v, want an ephemeral message", a)
			}
			for _, want := range tt.want {
				if !strings.Contains(a.All(), want) {
					t.Errorf("answer lacks %q:\n%s", want, a.All())
				}
			}
		})
	}
	if a, _ := sitrep.slash(w.fake, "U1", w.general, "stauts identified"); strings.Contains(a.All(), "Subcommands marked") {
		t.Errorf("a misspelt subcommand got the whole help rather than a suggestion:\n%s", a.All())
	}
	list, _ := sitrep.slash(w.fake, "U1", w.general, "list")
	if strings.Contains(list.All(), "#2") {
		t.Errorf("bad input made an incident:\n%s", list.All())
	}
	if n := len(w.fake.Calls("conversations.create")); n != 1 {
		t.Errorf("%d channels created, want only #1's", n)
	}
	if topic, _ := w.fake.Channel(inc); topic.Topic != "sev2 · investigating · Payments delayed" {
		t.Errorf("bad input changed the incident: topic %q", topic.Topic)
	}
}

// TestTitlesInAnyScript declares incidents whose titles give no usable
// slug, and two with the same title, and one whose name Slack says is taken.
func TestTitlesInAnyScript(t *testing.T) {
	w := newWorld(t)
	w.fake.AddChannel("inc-5-db-down", false) // someone made it by hand
	sitrep := w.start(t)
	for i, tt := range []struct{ text, channel string }{
		{"declare sev1 決済が失敗しています", "inc-1"},
		{"declare 🔥🔥🔥", "inc-2"},
		{"declare sev3 Same title", "inc-3-same-title"},
		{"declare sev3 Same title", "inc-4-same-title"},
		{"declare DB down", "inc-5-db-down-2"},
	} {
		user := []string{"U1", "U2", "U3"}[i%3] // three a minute each
		a, ru := sitrep.slash(w.fake, user, w.general, tt.text)
		if !strings.Contains(a.Text, "Declared incident #"+strconv.Itoa(i+1)) {
			t.Fatalf("%q answered %+v", tt.text, a)
		}
		eventually(t, "the channel of "+tt.text, func() bool { return strings.Contains(responses(w.fake, ru), "is open in") })
		ch := mustChannel(t, w.fake, tt.channel)
		if !isMember(ch, user) || len(w.fake.Pins(ch.ID)) != 1 {
			t.Errorf("%s: members %v, pins %v", tt.channel, ch.Members, w.fake.Pins(ch.ID))
		}
	}
	ch := mustChannel(t, w.fake, "inc-1")
	if card, _ := w.fake.Message(ch.ID, w.fake.Pins(ch.ID)[0]); !strings.Contains(blockText(card.Blocks), "決済が失敗しています") {
		t.Errorf("the card lost the Japanese title:\n%s", blockText(card.Blocks))
	}
}

// TestDeclareLimit lets one person declare three incidents a minute and
// tells them, on the fourth, why not and when they can; others are not
// held up, and a failed declaration does not count.
func TestDeclareLimit(t *testing.T) {
	w := newWorld(t)
	clk := clock.NewFake(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
	sitrep := startAt(t, w.fake, testEnv(w.fake, w.db), clk)
	if a, _ := sitrep.slash(w.fake, "U1", w.general, "declare sev9 Not a severity"); !strings.Contains(a.Text, "sev9") {
		t.Fatalf("a bad severity answered %q", a.Text)
	}
	for i := 1; i <= 3; i++ {
		clk.Advance(10 * time.Second)
		if a, _ := sitrep.slash(w.fake, "U1", w.general, fmt.Sprintf("declare sev2 Queue backlog %d", i)); !strings.Contains(a.Text, "Declared incident #") {
			t.Fatalf("declaration %d answered %q", i, a.Text)
		}
	}
	a, _ := sitrep.slash(w.fake, "U1", w.general, "declare sev2 Queue backlog 4")
	if !strings.Contains(a.Text, "declared 3 incidents in the last minute") || !strings.Contains(a.Text, "Try again in 40 seconds") {
		t.Errorf("the fourth declaration in a minute answered %q", a.Text)
	}
	if a, _ := sitrep.slash(w.fake, "U2", w.general, "declare sev2 Queue backlog by Bob"); !strings.Contains(a.Text, "Declared incident #4") {
		t.Errorf("someone else's declaration answered %q", a.Text)
	}
	clk.Advance(40 * time.Second)
	if a, _ := sitrep.slash(w.fake, "U1", w.general, "declare sev2 Queue backlog 4"); !strings.Contains(a.Text, "Declared incident #5") {
		t.Errorf("a declaration once the minute passed answered %q", a.Text)
	}
}
