package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/internal/slackpayload"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// The tests in this file send what an attacker would: payloads that name
// another incident's channel, message or number, forms opened by someone
// else, repeated signature headers, and text no person means. Each is
// refused, and the incident it aimed at is left as it was.

// trustWorld has two incidents: #1, private, declared by U1 in a channel
// U3 is not in; #2, public, declared by U3.
type trustWorld struct {
	*world
	sitrep       *instance
	priv, pub    string // channel IDs
	privCard     string // card ts
	pubCard      string
	privVersion0 int64
}

func newTrustWorld(t *testing.T, startSitrep func(*world, *testing.T) *instance) *trustWorld {
	t.Helper()
	w := newWorld(t)
	tw := &trustWorld{world: w, sitrep: startSitrep(w, t)}
	fake := w.fake
	tw.sitrep.slash(fake, "U1", w.general, "declare")
	form := latestView(t, fake, "declare", "U1")
	a := tw.sitrep.interact(submission(t, fake, "U1", form, obj{
		"title": obj{"title": textValue("Payroll data exposed")}, "severity": obj{"severity": optionValue("sev1")}, "flags": obj{"flags": checkboxValues("private")},
	}))
	if a.ResponseAction != "" {
		t.Fatalf("private declare answered %+v", a)
	}
	eventually(t, "the private channel", func() bool { _, ok := fake.ChannelByName("inc-1-payroll-data-exposed"); return ok })
	tw.priv = mustChannel(t, fake, "inc-1-payroll-data-exposed").ID
	tw.privCard, _ = card(t, fake, tw.priv)
	tw.sitrep.slash(fake, "U3", w.general, "declare sev2 Search slow")
	eventually(t, "the public channel", func() bool { _, ok := fake.ChannelByName("inc-2-search-slow"); return ok })
	tw.pub = mustChannel(t, fake, "inc-2-search-slow").ID
	tw.pubCard, _ = card(t, fake, tw.pub)
	eventually(t, "both incidents in Slack", func() bool { return len(unsynced(t, w.db)) == 0 })
	if ch, _ := fake.Channel(tw.priv); isMember(ch, "U3") {
		t.Fatal("U3 is in the private channel; the tests below need them outside it")
	}
	tw.privVersion0 = incidentAt(t, w.db, 1).Version
	return tw
}

// untouched checks that the private incident has not changed and that
// nothing but Sitrep's own setup was posted in its channel.
func (tw *trustWorld) untouched(t *testing.T) {
	t.Helper()
	eventually(t, "Slack in step", func() bool { return len(unsynced(t, tw.db)) == 0 })
	inc := incidentAt(t, tw.db, 1)
	if inc.Version != tw.privVersion0 || inc.Status != incident.Investigating || inc.Severity != "sev1" {
		t.Errorf("the private incident changed: version %d → %d, %s, %s", tw.privVersion0, inc.Version, inc.Status, inc.Severity)
	}
	for _, m := range texts(tw.fake, tw.priv) {
		if strings.Contains(m, "U3") {
			t.Errorf("posted in the private channel on U3's behalf: %q", m)
		}
	}
}

// incidentAt reads incident n from the database beside the running
// program.
func incidentAt(t *testing.T, path string, n int64) *incident.Incident {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	inc, err := db.Get(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// latestView waits for a modal with callbackID opened for user, and
// returns the newest.
func latestView(t *testing.T, fake *slackfake.Server, callbackID, user string) slackfake.View {
	t.Helper()
	var view slackfake.View
	eventually(t, "a "+callbackID+" form for "+user, func() bool {
		vs := fake.Views()
		for i := len(vs) - 1; i >= 0; i-- {
			if vs[i].CallbackID == callbackID && vs[i].User == user {
				view = vs[i]
				return true
			}
		}
		return false
	})
	return view
}

// TestClickBoundToItsMessage clicks controls with payloads that name the
// private incident's channel: from the public incident's card, and from
// the private card itself by someone outside its channel. Neither changes
// it; each is told why.
func TestClickBoundToItsMessage(t *testing.T) {
	t.Run("http", func(t *testing.T) { clickBound(t, (*world).start) })
	t.Run("socket mode", func(t *testing.T) { clickBound(t, (*world).startSocket) })
}

func clickBound(t *testing.T, startSitrep func(*world, *testing.T) *instance) {
	tw := newTrustWorld(t, startSitrep)
	fake := tw.fake
	for _, tt := range []struct {
		name, channel, ts, want string
		action                  obj
	}{
		{"another card, the private channel", tw.priv, tw.pubCard, "not on one of this incident's messages", staticSelect("card_status", "identified")},
		{"a message that is not Sitrep's", tw.priv, fake.AddMessage(tw.priv, "U1", "hello"), "not on one of this incident's messages", staticSelect("card_severity", "sev0")},
		{"the private card, by a non-member", tw.priv, tw.privCard, "only the people in its channel", staticSelect("card_status", "identified")},
		{"the private card's update button, by a non-member", tw.priv, tw.privCard, "only the people in its channel", button("card_update", "1")},
		{"the private card's role picker, by a non-member", tw.priv, tw.privCard, "only the people in its channel", usersSelect("card_role:commander", "U3")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, ru := cardAction(t, fake, "U3", tt.channel, tt.ts, tt.action)
			if a := tw.sitrep.interact(p); a.Status != http.StatusOK {
				t.Fatalf("answered %+v", a)
			}
			eventually(t, "the refusal", func() bool { return strings.Contains(responses(fake, ru), tt.want) }, func() string { return responses(fake, ru) })
		})
	}
	// Two channels in one payload: the card's, and the one it claims.
	p, ru := cardAction(t, fake, "U3", tw.pub, tw.pubCard, staticSelect("card_status", "identified"))
	slackpayload.Set(p, "channel.id", tw.priv)
	tw.sitrep.interact(p)
	eventually(t, "the refusal of two channels", func() bool { return strings.Contains(responses(fake, ru), "not on one of this incident's messages") })
	tw.untouched(t)
	for _, v := range fake.Views() {
		if v.CallbackID == "update" && v.User == "U3" {
			t.Error("an update form for the private incident was opened for a non-member")
		}
	}
	// The public incident's own card still works for U3.
	p, _ = cardAction(t, fake, "U3", tw.pub, tw.pubCard, staticSelect("card_status", "identified"))
	tw.sitrep.interact(p)
	eventually(t, "the public status change", func() bool { return contains(texts(fake, tw.pub), "<@U3> set the status to *identified*") })
}

// TestFormBoundToItsIncidentAndPerson submits update forms whose metadata
// was edited to name the private incident, forms opened by someone else,
// and forms from before metadata was sealed. None changes the incident.
func TestFormBoundToItsIncidentAndPerson(t *testing.T) {
	t.Run("http", func(t *testing.T) { formBound(t, (*world).start) })
	t.Run("socket mode", func(t *testing.T) { formBound(t, (*world).startSocket) })
}

func formBound(t *testing.T, startSitrep func(*world, *testing.T) *instance) {
	tw := newTrustWorld(t, startSitrep)
	fake := tw.fake
	values := obj{"status": obj{"status": optionValue("monitoring")}, "know": obj{"know": textValue("Forged update")}}

	// U3 opens an update form on their own incident and edits it to name
	// the private one.
	p, _ := cardAction(t, fake, "U3", tw.pub, tw.pubCard, button("card_update", "2"))
	tw.sitrep.interact(p)
	own := latestView(t, fake, "update", "U3")
	var meta map[string]any
	if err := json.Unmarshal([]byte(own.PrivateMetadata), &meta); err != nil {
		t.Fatalf("the form's metadata is not JSON: %v", err)
	}
	edited := func(change map[string]any) slackfake.View {
		m := map[string]any{}
		for k, v := range meta {
			m[k] = v
		}
		for k, v := range change {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		v := own
		v.PrivateMetadata = string(b)
		return v
	}
	// U1 opens an update form on the private incident; U3 submits it.
	p, _ = cardAction(t, fake, "U1", tw.priv, tw.privCard, button("card_update", "1"))
	tw.sitrep.interact(p)
	theirs := latestView(t, fake, "update", "U1")

	for _, tt := range []struct {
		name string
		view slackfake.View
	}{
		{"number and channel edited", edited(map[string]any{"n": 1, "c": tw.priv})},
		{"number, channel and user edited", edited(map[string]any{"n": 1, "c": tw.priv, "u": "U1"})},
		{"seal removed", edited(map[string]any{"n": 1, "c": tw.priv, "s": nil})},
		{"metadata from before seals", func() slackfake.View {
			v := own
			v.PrivateMetadata = `{"c":"` + tw.priv + `","n":1}`
			return v
		}()},
		{"another person's form", theirs},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := tw.sitrep.interact(submission(t, fake, "U3", tt.view, values))
			if a.ResponseAction != "errors" || !strings.Contains(a.Errors["know"], "Close it and open it again") {
				t.Errorf("answered %+v, want the form refused", a)
			}
		})
	}
	// A declare form's metadata submitted as an update form.
	tw.sitrep.slash(fake, "U3", tw.general, "declare")
	decl := latestView(t, fake, "declare", "U3")
	v := own
	v.PrivateMetadata = decl.PrivateMetadata
	if a := tw.sitrep.interact(submission(t, fake, "U3", v, values)); a.ResponseAction != "errors" {
		t.Errorf("a declare form's metadata in an update form answered %+v", a)
	}
	// A declare form submitted by someone else.
	if a := tw.sitrep.interact(submission(t, fake, "U2", decl, obj{"title": obj{"title": textValue("Not mine")}, "severity": obj{"severity": optionValue("sev2")}})); a.ResponseAction != "errors" || !strings.Contains(a.Errors["title"], "open it again") {
		t.Errorf("someone else's declare form answered %+v", a)
	}
	tw.untouched(t)

	// U1 leaves nothing behind: their own form still works, and U3's own
	// form on their own incident too.
	if a := tw.sitrep.interact(submission(t, fake, "U1", theirs, values)); a.ResponseAction != "" {
		t.Fatalf("the member's own form answered %+v", a)
	}
	eventually(t, "the member's update", func() bool { return contains(texts(fake, tw.priv), "Forged update") })
	if a := tw.sitrep.interact(submission(t, fake, "U3", own, values)); a.ResponseAction != "" {
		t.Fatalf("U3's own form answered %+v", a)
	}
	eventually(t, "U3's update on their incident", func() bool { return contains(texts(fake, tw.pub), "Forged update") })
}

// TestPrivateIncidentOnEveryPath sends, as someone outside the private
// incident's channel, a slash command that names its channel, the message
// shortcut on one of its messages and a reaction there. Each is refused
// and the incident is left as it was.
func TestPrivateIncidentOnEveryPath(t *testing.T) {
	tw := newTrustWorld(t, (*world).start)
	fake := tw.fake
	for _, text := range []string{"status identified", "note forged", "update forged", "lead <@U3|cat>", "resolve", "timeline", "postmortem", "checklist"} {
		a, _ := tw.sitrep.slash(fake, "U3", tw.priv, text)
		if !strings.Contains(a.Text, "only the people in its channel") {
			t.Errorf("%q by a non-member answered %q", text, a.Text)
		}
		if strings.Contains(a.All(), "Payroll") {
			t.Errorf("%q by a non-member showed the incident: %q", text, a.All())
		}
	}
	msgTS := fake.AddMessage(tw.priv, "U1", "Salaries table was public for 2h")
	msg, _ := fake.Message(tw.priv, msgTS)
	sc, ru := shortcut(t, fake, "U3", tw.priv, msg)
	tw.sitrep.interact(sc)
	eventually(t, "the shortcut's refusal", func() bool { return strings.Contains(responses(fake, ru), "only the people in its channel") })
	tw.sitrep.sendEvent(reaction(t, fake, "EvPRIV1", "U3", "pushpin", tw.priv, msgTS), 0)
	tw.sitrep.stop()
	tw.untouched(t)
	if tl := timeline2(t, tw.world); strings.Contains(tl, "Salaries") || strings.Contains(tl, "forged") {
		t.Errorf("a non-member reached the private timeline:\n%s", tl)
	}
}

// TestShortcutRecordsTheMessageSlackHas uses the message shortcut with a
// payload whose copy of the message was changed: the timeline gets the
// message as Slack has it, by its real author.
func TestShortcutRecordsTheMessageSlackHas(t *testing.T) {
	tw := newTrustWorld(t, (*world).start)
	fake := tw.fake
	ts := fake.AddMessage(tw.pub, "U2", "Index rebuild started")
	msg, _ := fake.Message(tw.pub, ts)
	forged := msg
	forged.User, forged.Text = "U1", "I, U1, approve deleting the database"
	sc, ru := shortcut(t, fake, "U3", tw.pub, forged)
	tw.sitrep.interact(sc)
	eventually(t, "the shortcut's answer", func() bool { return strings.Contains(responses(fake, ru), "Added to the timeline of incident #2") })
	a, _ := tw.sitrep.slash(fake, "U3", tw.pub, "timeline")
	if tl := a.All(); !strings.Contains(tl, "<@U2> wrote: Index rebuild started") || strings.Contains(tl, "approve deleting") {
		t.Errorf("the timeline does not hold Slack's message:\n%s", tl)
	}
	// A message that is not in the channel is not recorded.
	forged.TS = "1700000000.000001"
	sc, ru = shortcut(t, fake, "U3", tw.pub, forged)
	tw.sitrep.interact(sc)
	eventually(t, "the refusal of a message Slack does not have", func() bool { return strings.Contains(responses(fake, ru), "Could not read that message") })
}

// TestRepeatedSignatureHeaders sends requests with two signatures or two
// timestamps, the valid one first or last: each is refused with 401.
func TestRepeatedSignatureHeaders(t *testing.T) {
	w := newWorld(t)
	sitrep := w.start(t)
	body := slashBody("U1", w.general, "declare sev1 Forged incident", w.fake.NewResponseURL(), w.fake.NewTriggerID())
	for _, tt := range []struct {
		name   string
		mutate func(r *http.Request)
	}{
		{"valid then wrong signature", func(r *http.Request) { r.Header.Add("X-Slack-Signature", "v0=00") }},
		{"wrong then valid signature", func(r *http.Request) {
			good := r.Header.Get("X-Slack-Signature")
			r.Header.Set("X-Slack-Signature", "v0=00")
			r.Header.Add("X-Slack-Signature", good)
		}},
		{"the valid signature twice", func(r *http.Request) { r.Header.Add("X-Slack-Signature", r.Header.Get("X-Slack-Signature")) }},
		{"two timestamps", func(r *http.Request) { r.Header.Add("X-Slack-Request-Timestamp", "1") }},
		{"two timestamps, the valid one last", func(r *http.Request) {
			good := r.Header.Get("X-Slack-Request-Timestamp")
			r.Header.Set("X-Slack-Request-Timestamp", "1")
			r.Header.Add("X-Slack-Request-Timestamp", good)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/slack/commands", "/slack/interactions", "/slack/events"} {
				req := signedRequest(t, sitrep.base+path, body, sitrep.signTime())
				tt.mutate(req)
				if a := sitrep.do(req); a.Status != http.StatusUnauthorized {
					t.Errorf("%s answered %d, want 401", path, a.Status)
				}
			}
		})
	}
	if n := len(w.fake.Calls("conversations.create")); n != 0 {
		t.Errorf("a refused request created %d channels", n)
	}
	if !strings.Contains(sitrep.logs.String(), "2 X-Slack-Signature headers") {
		t.Error("the log does not say why the request was refused")
	}
}

// TestTextNobodyMeans types titles, notes and form fields with NUL,
// escape sequences and invalid UTF-8: each is refused with what was wrong
// and what to do, and nothing reaches Slack.
func TestTextNobodyMeans(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	sitrep := w.start(t)
	for _, tt := range []struct{ text, want string }{
		{"declare sev1 DB\x00down", "The title has a control character (NUL, U+0000) in it"},
		{"declare sev1 DB \x1b[31mdown", "The title has a control character (escape, U+001B) in it"},
		{"declare sev1 DB \xff\xfe down", "The title has bytes that are not text (invalid UTF-8)"},
	} {
		a, _ := sitrep.slash(fake, "U1", w.general, tt.text)
		if !strings.Contains(a.Text, tt.want) || !strings.Contains(a.Text, "Type it again") {
			t.Errorf("%q answered %q, want %q and what to do", tt.text, a.Text, tt.want)
		}
	}
	if n := len(fake.Calls("conversations.create")); n != 0 {
		t.Fatalf("refused titles created %d channels", n)
	}
	// The declare form: a control character in the title or a service.
	sitrep.slash(fake, "U1", w.general, "declare")
	form := latestView(t, fake, "declare", "U1")
	for field, values := range map[string]obj{
		"title":    {"title": obj{"title": textValue("Search\u0007 down")}, "severity": obj{"severity": optionValue("sev1")}},
		"services": {"title": obj{"title": textValue("Search down")}, "severity": obj{"severity": optionValue("sev1")}, "services": obj{"services": textValue("api, se\u0000arch")}},
		"impact":   {"title": obj{"title": textValue("Search down")}, "severity": obj{"severity": optionValue("sev1")}, "impact": obj{"impact": textValue("All\u009b down")}},
	} {
		a := sitrep.interact(submission(t, fake, "U1", form, values))
		if a.ResponseAction != "errors" || !strings.Contains(a.Errors[field], "control character") {
			t.Errorf("a control character in the form's %s answered %+v", field, a)
		}
	}
	if n := len(fake.Calls("conversations.create")); n != 0 {
		t.Fatalf("refused forms created %d channels", n)
	}
	// In an incident: a note and an update.
	ch := w.declared(t, sitrep)
	for _, text := range []string{"note DB\x00down", "update \x1b]0;pwned\x07", "followup fix \xc3\x28 it"} {
		a, _ := sitrep.slash(fake, "U1", ch.ID, text)
		if !strings.Contains(a.Text, "Type it again") {
			t.Errorf("%q answered %q", text, a.Text)
		}
	}
	// What is typed with & < > still counts as typed: a 200-character
	// title of ampersands is not too long.
	body := slashBody("U2", w.general, "declare sev2 "+strings.Repeat("&amp;", 100)+strings.Repeat("x", 100), fake.NewResponseURL(), fake.NewTriggerID())
	if a := sitrep.do(signedRequest(t, sitrep.base+"/slack/commands", body, sitrep.signTime())); !strings.Contains(a.Text, "Declared incident #2") {
		t.Errorf("a 200-character title with ampersands answered %q", a.Text)
	}
}
