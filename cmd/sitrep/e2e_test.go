package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// world is a fake Slack workspace with people, a channel to type in, and an
// announcement channel Sitrep has not joined yet.
type world struct {
	fake     *slackfake.Server
	general  string
	announce string
	db       string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	fake := slackfake.New()
	t.Cleanup(fake.Close)
	for _, u := range []slackfake.User{{ID: "U1", Name: "ann"}, {ID: "U2", Name: "bob"}, {ID: "U3", Name: "cat"}} {
		fake.AddUser(u)
	}
	return &world{
		fake:     fake,
		general:  fake.AddChannel("general", false, "U1", "U2", "U3"),
		announce: fake.AddChannel("incidents", false, "U1", "U2"),
		db:       filepath.Join(t.TempDir(), "sitrep.db"),
	}
}

func (w *world) start(t *testing.T) *instance {
	return start(t, w.fake, testEnv(w.fake, w.db, "SITREP_ANNOUNCE_CHANNEL", w.announce))
}

// startSocket runs the program in Socket Mode alone: an app token and no
// signing secret, so nothing reaches it over HTTP.
func (w *world) startSocket(t *testing.T) *instance {
	env := testEnv(w.fake, w.db, "SITREP_ANNOUNCE_CHANNEL", w.announce, "SLACK_APP_TOKEN", w.fake.AppToken())
	delete(env, "SLACK_SIGNING_SECRET")
	return start(t, w.fake, env)
}

// TestCoreLoop walks an incident from declaration to resolution through
// slash commands, checking what Slack shows at each step, then restarts the
// program on the same database: over HTTP, signed as Slack signs, and over
// Socket Mode.
func TestCoreLoop(t *testing.T) {
	t.Run("http", func(t *testing.T) { coreLoop(t, (*world).start) })
	t.Run("socket mode", func(t *testing.T) { coreLoop(t, (*world).startSocket) })
}

func coreLoop(t *testing.T, startSitrep func(*world, *testing.T) *instance) {
	w := newWorld(t)
	fake := w.fake
	sitrep := startSitrep(w, t)

	// Declare.
	ans, ru := sitrep.slash(fake, "U1", w.general, "declare sev1 Checkout failing for EU users")
	if ans.Status != 200 || ans.ResponseType != "ephemeral" || !strings.Contains(ans.Text, "Declared incident #1") {
		t.Fatalf("declare answered %+v", ans)
	}
	eventually(t, "the channel to be reported ready", func() bool { return strings.Contains(responses(fake, ru), "is open in <#") })
	ch := mustChannel(t, fake, "inc-1-checkout-failing-for-eu-users")
	if !strings.Contains(responses(fake, ru), "<#"+ch.ID+">") {
		t.Errorf("the declarer was told %q, want a link to %s", responses(fake, ru), ch.ID)
	}
	if !isMember(ch, "U1") {
		t.Errorf("declarer is not in the channel: members %v", ch.Members)
	}
	if ch.Private {
		t.Error("incident channel is private")
	}
	pins := fake.Pins(ch.ID)
	if len(pins) != 1 {
		t.Fatalf("pins = %v, want the card", pins)
	}
	card := func() string {
		m, ok := fake.Message(ch.ID, pins[0])
		if !ok {
			t.Fatal("the pinned card is gone")
		}
		return blockText(m.Blocks)
	}
	for _, want := range []string{"#1 Checkout failing for EU users", "sev1", "investigating", "<@U1>"} {
		if !strings.Contains(card(), want) {
			t.Errorf("card lacks %q:\n%s", want, card())
		}
	}
	topic := func() string { c, _ := fake.Channel(ch.ID); return c.Topic }
	if want := "sev1 · investigating · Checkout failing for EU users"; topic() != want {
		t.Errorf("topic = %q, want %q", topic(), want)
	}
	eventually(t, "the announcement", func() bool { return contains(texts(fake, w.announce), "declared as *sev1*") })
	if a := texts(fake, w.announce); !strings.Contains(a[0], "<#"+ch.ID+">") {
		t.Errorf("announcement %q does not link the incident channel", a[0])
	}

	// Every later change, typed in the incident channel.
	steps := []struct {
		user, text string
		channel    string // message expected in the incident channel
		announced  string // expected in the announcement channel, "" for none
		topic      string
	}{
		{"U1", "lead <@U2|bob>", "<@U2> is now *commander*, named by <@U1>", "", ""},
		{"U2", "status identified", "<@U2> set the status to *identified*", "is now *identified*", "sev1 · identified · "},
		{"U2", "role comms <@U3|cat>", "<@U3> is now *comms*", "", ""},
		{"U3", "note Rolled back deploy 1234", "Note from <@U3>: Rolled back deploy 1234", "", ""},
		{"U3", "update Error rate back under 1% after the rollback", "*Status update* from <@U3>", "Error rate back under 1% after the rollback", ""},
		{"U2", "sev sev0", "<@U2> raised the severity to *sev0*", "severity raised to *sev0*", "sev0 · identified · "},
		{"U2", "resolve Bad config reverted", "<@U2> resolved incident #1", "is resolved. Bad config reverted", "sev0 · resolved · "},
	}
	for _, s := range steps {
		updates := len(fake.Calls("chat.update"))
		ans, _ := sitrep.slash(fake, s.user, ch.ID, s.text)
		if ans.Status != 200 || ans.Text != "" {
			t.Fatalf("%q answered %+v, want an empty acknowledgement", s.text, ans)
		}
		eventually(t, "the channel message for "+s.text, func() bool { return contains(texts(fake, ch.ID), s.channel) })
		if strings.HasPrefix(s.text, "note ") && len(fake.Calls("chat.update")) != updates {
			t.Errorf("a note, which the card does not show, updated the card")
		}
		if s.announced != "" {
			eventually(t, "the announcement for "+s.text, func() bool { return contains(texts(fake, w.announce), s.announced) })
		}
		if s.topic != "" {
			eventually(t, "the topic after "+s.text, func() bool { return strings.HasPrefix(topic(), s.topic) })
		}
	}
	ch, _ = fake.Channel(ch.ID)
	for _, u := range []string{"U2", "U3"} {
		if !isMember(ch, u) {
			t.Errorf("%s was given a role but not invited", u)
		}
	}
	for _, want := range []string{"sev0", "resolved", "Commander*\n<@U2>", "Comms*\n<@U3>", "Bad config reverted"} {
		if !strings.Contains(card(), want) {
			t.Errorf("card was not updated in place: lacks %q:\n%s", want, card())
		}
	}
	if n := len(fake.Pins(ch.ID)); n != 1 {
		t.Errorf("%d pins, want only the card", n)
	}
	if n := len(fake.Calls("conversations.join")); n != 1 {
		t.Errorf("joined the announcement channel %d times, want once", n)
	}
	for _, a := range texts(fake, w.announce) {
		if strings.Contains(a, "Rolled back deploy") || strings.Contains(a, "comms") {
			t.Errorf("notes and roles stay in the incident channel; announced %q", a)
		}
	}

	// A second, open incident, so that list has something to show.
	sitrep.slash(fake, "U3", w.general, "declare Search is slow")
	eventually(t, "the second announcement", func() bool { return contains(texts(fake, w.announce), "#2 Search is slow") })

	timeline, _ := sitrep.slash(fake, "U1", ch.ID, "timeline")
	list, _ := sitrep.slash(fake, "U1", w.general, "list")
	wantTimeline := []string{
		"Declared as sev1 · <@U1>",
		"<@U2> is now commander (was <@U1>) · <@U1>",
		"Status investigating → identified · <@U2>",
		"<@U3> is now comms · <@U2>",
		"Note: Rolled back deploy 1234 · <@U3>",
		"Status update: Error rate back under 1% after the rollback · <@U3>",
		"Severity sev1 → sev0 · <@U2>",
		"Resolved: Bad config reverted · <@U2>",
	}
	checkTimeline(t, timeline.All(), wantTimeline)
	if !strings.Contains(list.All(), "#2 Search is slow") || strings.Contains(list.All(), "#1 ") {
		t.Errorf("list shows:\n%s\nwant only the open #2", list.All())
	}

	// Restart on the same database: nothing changes and nothing is redone.
	// Everything must be delivered before the restart, or the restart's
	// first pass could not show that it redoes nothing.
	eventually(t, "every incident to be in sync", func() bool { return len(unsynced(t, w.db)) == 0 })
	posts := len(fake.Calls("chat.postMessage"))
	sitrep.stop()
	sitrep = startSitrep(w, t)
	timeline2, _ := sitrep.slash(fake, "U1", ch.ID, "timeline")
	list2, _ := sitrep.slash(fake, "U1", w.general, "list")
	if diff := cmp.Diff(timeline.All(), timeline2.All()); diff != "" {
		t.Errorf("timeline changed across a restart (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(list.All(), list2.All()); diff != "" {
		t.Errorf("list changed across a restart (-before +after):\n%s", diff)
	}
	if n := len(fake.Calls("chat.postMessage")); n != posts {
		for _, c := range w.fake.Calls("chat.postMessage")[posts:] {
			t.Logf("posted again: %v", c.Params)
		}
		t.Errorf("the restart posted %d messages again", n-posts)
	}
	announced := 0
	for _, a := range texts(fake, w.announce) {
		if strings.Contains(a, "#2 Search is slow") {
			announced++
		}
	}
	if announced != 1 {
		t.Errorf("#2 was announced %d times, want once", announced)
	}
	if n := len(fake.Calls("conversations.create")); n != 2 {
		t.Errorf("%d conversations.create calls, want 2", n)
	}
}

// unsynced opens the database beside the running program, as a second
// process would, and asks which incidents Slack lags behind on.
func unsynced(t *testing.T, path string) []int64 {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ns, err := db.Behind(context.Background(), "slack")
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// checkTimeline checks that the rendered timeline holds the entries in
// order, each with a time.
func checkTimeline(t *testing.T, got string, want []string) {
	t.Helper()
	lines := strings.Split(got, "\n")
	i := 0
	for _, l := range lines {
		if i < len(want) && strings.Contains(l, want[i]) {
			if !regexp.MustCompile(`<!date\^\d+\^`).MatchString(l) {
				t.Errorf("timeline entry %q has no time", l)
			}
			i++
		}
	}
	if i < len(want) {
		t.Errorf("timeline lacks %q (or has it out of order):\n%s", want[i], got)
	}
}

// TestDeclareWhileSlackRateLimits shows that a declaration is recorded at
// once and completed when Slack lets it, with the user told what is pending.
func TestDeclareWhileSlackRateLimits(t *testing.T) {
	w := newWorld(t)
	// Twice: on a loaded machine the first pass may start before the
	// declarer's reply waits for one, and the reply tells of the next.
	w.fake.Fail("conversations.create", slackfake.Failure{Status: 429, RetryAfter: time.Second, Times: 2})
	sitrep := w.start(t)
	ans, ru := sitrep.slash(w.fake, "U1", w.general, "declare sev2 Login slow")
	if !strings.Contains(ans.Text, "#1") {
		t.Fatalf("declare answered %+v", ans)
	}
	eventually(t, "the user to be told the channel is pending", func() bool { return strings.Contains(responses(w.fake, ru), "rate limiting") })
	eventually(t, "the retried channel", func() bool { _, ok := w.fake.ChannelByName("inc-1-login-slow"); return ok })
	ch := mustChannel(t, w.fake, "inc-1-login-slow")
	eventually(t, "the card", func() bool { return len(w.fake.Pins(ch.ID)) == 1 })
	eventually(t, "the announcement", func() bool { return contains(texts(w.fake, w.announce), "Login slow") })
	if n := len(w.fake.Channels()); n != 3 {
		t.Errorf("%d channels, want general, incidents and one incident channel", n)
	}
}

// TestFailedAnnouncementIsNotRepostedInTheChannel rate-limits the
// announcement of a status change: the announcement is retried, and the
// incident channel's message, already posted, is not posted again.
func TestFailedAnnouncementIsNotRepostedInTheChannel(t *testing.T) {
	w := newWorld(t)
	sitrep := w.start(t)
	_, ru := sitrep.slash(w.fake, "U1", w.general, "declare sev1 Queue backlog")
	eventually(t, "the channel", func() bool { return strings.Contains(responses(w.fake, ru), "is open in") })
	eventually(t, "the declaration to be announced", func() bool { return contains(texts(w.fake, w.announce), "Queue backlog") })
	ch := mustChannel(t, w.fake, "inc-1-queue-backlog")

	// A pass posts the channel message first, then the announcement: let
	// the first post through (a delay-only failure) and rate-limit the next.
	w.fake.Fail("chat.postMessage", slackfake.Failure{Delay: time.Millisecond, Times: 1})
	w.fake.Fail("chat.postMessage", slackfake.Failure{Status: 429, RetryAfter: time.Second, Times: 1})
	sitrep.slash(w.fake, "U1", ch.ID, "status identified")
	eventually(t, "the announcement after the rate limit", func() bool { return contains(texts(w.fake, w.announce), "is now *identified*") })
	count := func(list []string, sub string) (n int) {
		for _, s := range list {
			if strings.Contains(s, sub) {
				n++
			}
		}
		return n
	}
	if n := count(texts(w.fake, ch.ID), "set the status to *identified*"); n != 1 {
		t.Errorf("the channel message was posted %d times, want once", n)
	}
	if n := count(texts(w.fake, w.announce), "is now *identified*"); n != 1 {
		t.Errorf("the announcement was posted %d times, want once", n)
	}
	tries := 0
	for _, c := range w.fake.Calls("chat.postMessage") {
		if c.Params["channel"] == w.announce && strings.Contains(c.Params["text"], "is now *identified*") {
			tries++
		}
	}
	if tries != 2 {
		t.Errorf("the announcement was tried %d times; the test wants the rate limit to hit it once", tries)
	}
}

// TestRefusedChannelIsExplained has Slack refuse to create channels, as it
// does when the app lacks a scope: the incident is recorded, the declarer
// is told that an admin must act, and list shows the problem.
func TestRefusedChannelIsExplained(t *testing.T) {
	w := newWorld(t)
	w.fake.Fail("conversations.create", slackfake.Failure{Error: "missing_scope"})
	sitrep := w.start(t)
	a, ru := sitrep.slash(w.fake, "U1", w.general, "declare sev1 Checkout failing")
	if !strings.Contains(a.Text, "Declared incident #1") {
		t.Fatalf("declare answered %+v", a)
	}
	eventually(t, "the declarer to be told", func() bool { return strings.Contains(responses(w.fake, ru), "not made yet") })
	for _, want := range []string{"missing_scope", "a Slack admin needs to fix", "the record itself is safe"} {
		if !strings.Contains(responses(w.fake, ru), want) {
			t.Errorf("the declarer was told %q, want it to mention %q", responses(w.fake, ru), want)
		}
	}
	list, _ := sitrep.slash(w.fake, "U1", w.general, "list")
	for _, want := range []string{"#1 Checkout failing", "channel pending", "missing_scope"} {
		if !strings.Contains(list.All(), want) {
			t.Errorf("list lacks %q:\n%s", want, list.All())
		}
	}
}
