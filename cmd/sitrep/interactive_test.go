package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/internal/slackpayload"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// openView waits for the modal with callbackID to be open, and returns it.
func openView(t *testing.T, fake *slackfake.Server, callbackID string) slackfake.View {
	t.Helper()
	var view slackfake.View
	eventually(t, "the "+callbackID+" form to open", func() bool {
		for _, v := range fake.Views() {
			if v.CallbackID == callbackID {
				view = v
				return true
			}
		}
		return false
	})
	return view
}

// card returns the incident card's ts and text.
func card(t *testing.T, fake *slackfake.Server, channel string) (string, string) {
	t.Helper()
	var pins []string
	eventually(t, "the pinned card", func() bool { pins = fake.Pins(channel); return len(pins) == 1 })
	m, _ := fake.Message(channel, pins[0])
	return pins[0], blockText(m.Blocks)
}

// TestInteractiveWalk runs an incident through forms, card controls, the
// message shortcut, reactions and the Home tab, with payloads shaped like
// Slack's, over HTTP and over Socket Mode.
func TestInteractiveWalk(t *testing.T) {
	t.Run("http", func(t *testing.T) { interactiveWalk(t, (*world).start) })
	t.Run("socket mode", func(t *testing.T) { interactiveWalk(t, (*world).startSocket) })
}

func interactiveWalk(t *testing.T, startSitrep func(*world, *testing.T) *instance) {
	w := newWorld(t)
	fake := w.fake
	sitrep := startSitrep(w, t)

	// /incident declare with no title opens the form.
	a, declareRU := sitrep.slash(fake, "U1", w.general, "declare sev1")
	if a.Status != http.StatusOK || a.Text != "" {
		t.Fatalf("declare without title answered %+v, want an empty acknowledgement", a)
	}
	form := openView(t, fake, "declare")
	if !strings.Contains(string(form.Blocks), "Major: a core feature is broken") {
		t.Errorf("the severity options do not carry their descriptions: %s", form.Blocks)
	}

	// Invalid input is shown in the form, and nothing is recorded.
	bad := sitrep.interact(submission(t, fake, "U1", form, obj{
		"title":    obj{"title": textValue("  ")},
		"severity": obj{"severity": optionValue("sev1")},
	}))
	if bad.ResponseAction != "errors" || !strings.Contains(bad.Errors["title"], "needs a title") {
		t.Fatalf("an empty title answered %+v, want an error on the title", bad)
	}
	if n := len(fake.Calls("conversations.create")); n != 0 {
		t.Fatalf("an invalid form created %d channels", n)
	}

	// A valid form declares, as the slash command does.
	ok := sitrep.interact(submission(t, fake, "U1", form, obj{
		"title":    obj{"title": textValue("Search is down <for> R&D")},
		"severity": obj{"severity": optionValue("sev1")},
		"impact":   obj{"impact": textValue("All searches answer 500")},
		"services": obj{"services": textValue("search, api")},
		"flags":    obj{"flags": checkboxValues()},
	}))
	if ok.Status != http.StatusOK || ok.ResponseAction != "" {
		t.Fatalf("a valid form answered %+v", ok)
	}
	eventually(t, "the channel", func() bool { _, ok := fake.ChannelByName("inc-1-search-is-down-for-r-d"); return ok })
	ch := mustChannel(t, fake, "inc-1-search-is-down-for-r-d").ID
	eventually(t, "the declarer to be told", func() bool { return strings.Contains(responses(fake, declareRU), "Incident #1 is open in") })
	cardTS, text := card(t, fake, ch)
	if !strings.Contains(text, "#1 Search is down <for> R&D") {
		t.Errorf("the card header does not show the title as typed:\n%s", text)
	}

	// Card controls, clicked by people other than the declarer.
	steps := []struct {
		user    string
		action  obj
		message string
	}{
		{"U2", staticSelect("card_status", "identified"), "<@U2> set the status to *identified*"},
		{"U2", staticSelect("card_severity", "sev0"), "<@U2> raised the severity to *sev0*"},
		{"U2", usersSelect("card_role:comms", "U3"), "<@U3> is now *comms*, named by <@U2>"},
		{"U3", usersSelect("card_role:commander", "U2"), "<@U2> is now *commander*, named by <@U3>"},
	}
	for _, s := range steps {
		p, _ := cardAction(t, fake, s.user, ch, cardTS, s.action)
		if a := sitrep.interact(p); a.Status != http.StatusOK || a.Text != "" {
			t.Fatalf("%v answered %+v", s.action["action_id"], a)
		}
		eventually(t, s.message, func() bool { return contains(texts(fake, ch), s.message) })
	}
	eventually(t, "the topic", func() bool { c, _ := fake.Channel(ch); return strings.HasPrefix(c.Topic, "sev0 · identified · ") })
	_, text = card(t, fake, ch)
	for _, want := range []string{"Commander*\n<@U2>", "Comms*\n<@U3>", "sev0", "identified"} {
		if !strings.Contains(text, want) {
			t.Errorf("card lacks %q after the clicks:\n%s", want, text)
		}
	}

	// Post update: the button opens the form; the form posts the update.
	p, _ := cardAction(t, fake, "U2", ch, cardTS, button("card_update", "1"))
	sitrep.interact(p)
	update := openView(t, fake, "update")
	a = sitrep.interact(submission(t, fake, "U2", update, obj{
		"status": obj{"status": optionValue("monitoring")},
		"know":   obj{"know": textValue("Index rebuilt; errors < 1%")},
		"doing":  obj{"doing": textValue("Watching latency")},
		"next":   obj{"next": optionValue("30m")},
	}))
	if a.ResponseAction != "" {
		t.Fatalf("the update form answered %+v", a)
	}
	eventually(t, "the update in the channel", func() bool {
		return contains(texts(fake, ch), "*What we know:* Index rebuilt; errors &lt; 1%\n*What we are doing:* Watching latency\n*Next update:* in 30 minutes")
	})
	eventually(t, "the status from the form", func() bool { c, _ := fake.Channel(ch); return strings.HasPrefix(c.Topic, "sev0 · monitoring · ") })
	eventually(t, "the update announced", func() bool { return contains(texts(fake, w.announce), "What we know") })

	// The message shortcut, twice on the same message.
	msgTS := fake.AddMessage(ch, "U3", "Rebuild started by <@U2> see <https://runbook.example.com|runbook>")
	msg, _ := fake.Message(ch, msgTS)
	sc, ru := shortcut(t, fake, "U1", ch, msg)
	sitrep.interact(sc)
	eventually(t, "the shortcut's confirmation", func() bool { return strings.Contains(responses(fake, ru), "Added to the timeline of incident #1") })
	sc2, ru2 := shortcut(t, fake, "U2", ch, msg)
	sitrep.interact(sc2)
	eventually(t, "the second shortcut's answer", func() bool { return strings.Contains(responses(fake, ru2), "already on the timeline") })

	// A :pushpin: reaction, retried by Slack, and a second person's.
	pinned := fake.AddMessage(ch, "U2", "Latency is back to normal")
	sitrep.sendEvent(reaction(t, fake, "EvPIN1", "U3", "pushpin", ch, pinned), 0)
	sitrep.sendEvent(reaction(t, fake, "EvPIN1", "U3", "pushpin", ch, pinned), 1)
	// The first reaction to be handled is the one recorded; wait for it so
	// that the test knows whose it is.
	eventually(t, "the reactor to be told", func() bool { return contains(ephemeralTexts(fake, ch), "Added to the timeline of incident #1") })
	// Slack's retry was dropped by its event_id before any work: the message
	// was read once.
	if n := historyReads(fake, pinned); n != 1 {
		t.Errorf("the pinned message was read %d times for one event and its retry, want once", n)
	}
	sitrep.sendEvent(reaction(t, fake, "EvPIN2", "U1", "pushpin", ch, pinned), 0)
	sitrep.sendEvent(reaction(t, fake, "EvTHUMB", "U1", "thumbsup", ch, pinned), 0)
	sitrep.sendEvent(reaction(t, fake, "EvELSE", "U1", "pushpin", w.general, fake.AddMessage(w.general, "U1", "unrelated")), 0)

	// A reaction on a reply in a thread.
	reply := fake.AddReply(ch, pinned, "U3", "Thread detail: p99 back under 200 ms")
	sitrep.sendEvent(reaction(t, fake, "EvPIN3", "U2", "pushpin", ch, reply), 0)

	// The Home tab.
	sitrep.sendEvent(homeOpened(t, fake, "EvHOME1", "U3"), 0)
	eventually(t, "the Home tab", func() bool {
		v, ok := fake.HomeView("U3")
		return ok && strings.Contains(blockText(v.Blocks), "#1 Search is down")
	})

	timeline := func() string { a, _ := sitrep.slash(fake, "U1", ch, "timeline"); return a.All() }
	eventually(t, "the pinned messages on the timeline", func() bool {
		tl := timeline()
		return strings.Contains(tl, "Latency is back to normal") && strings.Contains(tl, "Thread detail")
	})
	tl := timeline()
	checkTimeline(t, tl, []string{
		"Declared as sev1 · <@U1>",
		"Status investigating → identified · <@U2>",
		"Severity sev1 → sev0 · <@U2>",
		"<@U3> is now comms · <@U2>",
		"<@U2> is now commander (was <@U1>) · <@U3>",
		"Status identified → monitoring · <@U2>",
		"Status update: *What we know:* Index rebuilt",
		"<@U3> wrote: Rebuild started by <@U2> see <https://runbook.example.com|runbook> · <@U1>",
		"<@U2> wrote: Latency is back to normal · <@U3>",
	})
	if n := strings.Count(tl, "Latency is back to normal"); n != 1 {
		t.Errorf("the pinned message is on the timeline %d times, want once", n)
	}

	// A form submitted after the incident was resolved meanwhile.
	p, _ = cardAction(t, fake, "U2", ch, cardTS, button("card_update", "1"))
	sitrep.interact(p)
	var late slackfake.View
	eventually(t, "a second update form", func() bool {
		n := 0
		for _, v := range fake.Views() {
			if v.CallbackID == "update" {
				n++
				late = v
			}
		}
		return n == 2
	})
	sitrep.slash(fake, "U2", ch, "resolve Index rebuilt")
	a = sitrep.interact(submission(t, fake, "U2", late, obj{"status": obj{"status": optionValue("monitoring")}, "know": obj{"know": textValue("late")}}))
	if a.ResponseAction != "errors" || !strings.Contains(a.Errors["status"], "was resolved meanwhile") {
		t.Errorf("a late update answered %+v, want an error in the form", a)
	}

	// A control Sitrep does not know.
	p, ru = cardAction(t, fake, "U2", ch, cardTS, button("frobnicate", "1"))
	if a := sitrep.interact(p); a.Status != http.StatusOK {
		t.Errorf("an unknown action answered %+v", a)
	}
	eventually(t, "the unknown action to be explained", func() bool { return strings.Contains(responses(fake, ru), "does not know that control") })

	// A form and a shortcut Sitrep does not know.
	a = sitrep.interact(submission(t, fake, "U2", slackfake.View{ID: "V404", CallbackID: "survey", Hash: "h"}, obj{}))
	if a.ResponseAction != "update" {
		t.Errorf("an unknown form answered %+v, want the form replaced by an explanation", a)
	}
	sc3, ru3 := shortcut(t, fake, "U2", ch, msg)
	slackpayload.Set(sc3, "callback_id", "translate_message")
	sitrep.interact(sc3)
	eventually(t, "the unknown shortcut to be explained", func() bool { return strings.Contains(responses(fake, ru3), "does not know that control") })

	// Stopping waits for all acknowledged work, so what follows sees every
	// event above fully handled.
	sitrep.stop()
	tl = timeline2(t, w)
	if strings.Contains(tl, "unrelated") {
		t.Error("a reaction outside the incident channel reached the timeline")
	}
	if n := strings.Count(tl, "Latency is back to normal"); n != 1 {
		t.Errorf("the pinned message is on the timeline %d times, want once", n)
	}

	// The claims survive a restart: Slack retrying an old event does nothing.
	reads := historyReads(fake, pinned)
	sitrep = startSitrep(w, t)
	sitrep.sendEvent(reaction(t, fake, "EvPIN1", "U3", "pushpin", ch, pinned), 2)
	sitrep.stop()
	if n := historyReads(fake, pinned); n != reads {
		t.Errorf("a retry of an event handled before the restart read the message again (%d reads, want %d)", n, reads)
	}
}

// historyReads counts how often Sitrep read the message at ts.
func historyReads(fake *slackfake.Server, ts string) int {
	n := 0
	for _, c := range fake.Calls("conversations.history") {
		if c.Params["latest"] == ts {
			n++
		}
	}
	return n
}

// timeline2 reads incident #1's timeline straight from the database, as the
// program is stopped.
func timeline2(t *testing.T, w *world) string {
	t.Helper()
	var b strings.Builder
	db, err := sqlite.Open(context.Background(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	inc, err := db.Get(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := db.Events(context.Background(), inc.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		b.WriteString(ev.Text + "\n")
	}
	return b.String()
}

// TestEventsEndpoint checks the handshake and signatures of /slack/events.
func TestEventsEndpoint(t *testing.T) {
	w := newWorld(t)
	sitrep := w.start(t)
	hs := slackpayload.Load("event-url-verification.json")
	a := sitrep.sendEvent(hs, 0)
	if a.Challenge != hs["challenge"] {
		t.Errorf("url_verification answered %+v, want the challenge %v", a, hs["challenge"])
	}
	body := `{"type":"url_verification","challenge":"forged"}`
	for name, at := range map[string]time.Time{"replayed": time.Now().Add(-10 * time.Minute), "from the future": time.Now().Add(10 * time.Minute)} {
		req := signedRequest(t, sitrep.base+"/slack/events", body, at)
		if a := sitrep.do(req); a.Status != http.StatusUnauthorized {
			t.Errorf("%s event answered %d, want 401", name, a.Status)
		}
	}
	req := signedRequest(t, sitrep.base+"/slack/events", body, time.Now())
	req.Header.Set("X-Slack-Signature", slackSignature("wrong", req.Header.Get("X-Slack-Request-Timestamp"), body))
	if a := sitrep.do(req); a.Status != http.StatusUnauthorized {
		t.Errorf("forged event answered %d, want 401", a.Status)
	}
	req = signedRequest(t, sitrep.base+"/slack/interactions", "payload=%7B%7D", time.Now().Add(-6*time.Minute))
	if a := sitrep.do(req); a.Status != http.StatusUnauthorized {
		t.Errorf("stale interaction answered %d, want 401", a.Status)
	}
}

// TestPrivateAndDrillIncidents declares from the form: a private incident
// gets a private channel, no announcement, and is hidden from non-members;
// a drill is marked and not announced.
func TestPrivateAndDrillIncidents(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	sitrep := w.start(t)
	declareForm := func(title string, flags ...string) {
		t.Helper()
		sitrep.slash(fake, "U1", w.general, "declare")
		var form slackfake.View
		eventually(t, "a fresh declare form", func() bool {
			vs := fake.Views()
			for i := len(vs) - 1; i >= 0; i-- {
				if vs[i].CallbackID == "declare" {
					form = vs[i]
					return true
				}
			}
			return false
		})
		a := sitrep.interact(submission(t, fake, "U1", form, obj{
			"title": obj{"title": textValue(title)}, "severity": obj{"severity": optionValue("sev2")}, "flags": obj{"flags": checkboxValues(flags...)},
		}))
		if a.ResponseAction != "" {
			t.Fatalf("declare form answered %+v", a)
		}
	}
	declareForm("Payroll data exposed", "private")
	eventually(t, "the private channel", func() bool {
		c, ok := fake.ChannelByName("inc-1-payroll-data-exposed")
		return ok && len(fake.Pins(c.ID)) == 1
	})
	priv := mustChannel(t, fake, "inc-1-payroll-data-exposed")
	if !priv.Private {
		t.Error("a private incident got a public channel")
	}
	declareForm("Failover rehearsal", "drill")
	eventually(t, "the drill channel", func() bool {
		c, ok := fake.ChannelByName("inc-2-failover-rehearsal")
		return ok && len(fake.Pins(c.ID)) == 1
	})
	drill := mustChannel(t, fake, "inc-2-failover-rehearsal")
	if _, text := card(t, fake, drill.ID); !strings.Contains(text, "[DRILL] #2") || !strings.Contains(text, "drill, not a real incident") {
		t.Errorf("the drill card is not marked:\n%s", text)
	}
	eventually(t, "the drill's topic", func() bool {
		c, _ := fake.Channel(drill.ID)
		return strings.HasPrefix(c.Topic, "DRILL · sev2 · investigating · ")
	})
	// Both have run their course in Slack; neither was announced.
	eventually(t, "both incidents in sync", func() bool { return len(unsynced(t, w.db)) == 0 })
	for _, a := range texts(fake, w.announce) {
		if strings.Contains(a, "Payroll") || strings.Contains(a, "Failover") {
			t.Errorf("announced %q", a)
		}
	}
	for user, want := range map[string]bool{"U1": true, "U3": false} {
		a, _ := sitrep.slash(fake, user, w.general, "list")
		if got := strings.Contains(a.All(), "Payroll"); got != want {
			t.Errorf("list for %s shows the private incident: %v, want %v\n%s", user, got, want, a.All())
		}
		if !strings.Contains(a.All(), "[DRILL] #2 Failover rehearsal") {
			t.Errorf("list for %s does not mark the drill:\n%s", user, a.All())
		}
		sitrep.sendEvent(homeOpened(t, fake, "EvH-"+user, user), 0)
		eventually(t, "the Home tab of "+user, func() bool { _, ok := fake.HomeView(user); return ok })
		v, _ := fake.HomeView(user)
		if got := strings.Contains(blockText(v.Blocks), "Payroll"); got != want {
			t.Errorf("Home tab of %s shows the private incident: %v, want %v", user, got, want)
		}
	}
}

// ephemeralTexts lists the ephemeral messages sent in a channel.
func ephemeralTexts(fake *slackfake.Server, channel string) []string {
	var out []string
	for _, e := range fake.Ephemerals(channel) {
		out = append(out, e.Text)
	}
	return out
}
