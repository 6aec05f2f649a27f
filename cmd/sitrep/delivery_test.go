package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// TestRemovedFromTheIncidentChannel: someone removes Sitrep from a public
// incident channel; the next change brings it back and nothing is missed.
func TestRemovedFromTheIncidentChannel(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	sitrep := w.start(t)
	sitrep.slash(fake, "U1", w.general, "declare sev1 Checkout failing")
	eventually(t, "the channel", func() bool { _, ok := fake.ChannelByName("inc-1-checkout-failing"); return ok })
	ch := mustChannel(t, fake, "inc-1-checkout-failing").ID
	card(t, fake, ch)
	eventually(t, "the declaration in Slack", func() bool { return len(unsynced(t, w.db)) == 0 })

	fake.RemoveMember(ch, fake.BotUserID())
	sitrep.slash(fake, "U1", ch, "status identified")
	eventually(t, "the status change posted", func() bool { return contains(texts(fake, ch), "set the status to *identified*") })
	eventually(t, "the topic", func() bool { c, _ := fake.Channel(ch); return strings.HasPrefix(c.Topic, "sev1 · identified") })
	if c, _ := fake.Channel(ch); !isMember(c, fake.BotUserID()) {
		t.Error("Sitrep is not back in the channel")
	}
}

// TestDeliveryProblemIsShown: with an announcement channel Slack will not
// let Sitrep post to, the incident goes ahead and the trouble is shown on
// the card and to the commander; once the channel is fixed, the next
// announcement goes out and the card drops the warning.
func TestDeliveryProblemIsShown(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	hidden := fake.AddChannel("incidents-private", true, "U1")
	sitrep := start(t, fake, testEnv(fake, w.db, "SITREP_ANNOUNCE_CHANNEL", hidden))
	sitrep.slash(fake, "U1", w.general, "declare sev1 Checkout failing")
	eventually(t, "the channel", func() bool { _, ok := fake.ChannelByName("inc-1-checkout-failing"); return ok })
	ch := mustChannel(t, fake, "inc-1-checkout-failing").ID
	const warning = "Not all of this is in Slack yet.* the announcement channel: Slack answered `channel_not_found` (invite Sitrep to the channel"
	eventually(t, "the warning on the card", func() bool { _, text := card(t, fake, ch); return strings.Contains(text, warning) },
		func() string { _, text := card(t, fake, ch); return text + sitrep.logs.String() })
	eventually(t, "the commander told", func() bool {
		for _, e := range fake.Ephemerals(ch) {
			if e.User == "U1" && strings.Contains(e.Text, "Incident #1 is not all in Slack: the announcement channel: Slack answered `channel_not_found`") {
				return true
			}
		}
		return false
	})
	list, _ := sitrep.slash(fake, "U1", w.general, "list")
	if !strings.Contains(list.All(), "channel_not_found") {
		t.Errorf("list does not show the problem:\n%s", list.All())
	}

	fake.AddMember(hidden, fake.BotUserID()) // someone invites Sitrep
	sitrep.slash(fake, "U1", ch, "update Failing over to the secondary")
	eventually(t, "the update announced", func() bool { return contains(texts(fake, hidden), "Failing over to the secondary") })
	eventually(t, "the warning gone", func() bool { _, text := card(t, fake, ch); return !strings.Contains(text, "Not all of this") })
	n := 0
	for _, e := range fake.Ephemerals(ch) {
		if strings.Contains(e.Text, "is not all in Slack") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the commander was told %d times, want once", n)
	}
}

// TestChannelNameTaken: the names Sitrep would give the channel are held
// by someone's channel and by an archived one (Slack keeps those names
// taken). Sitrep takes the next free name, without searching the
// workspace: it never asked for the taken names before, so neither can be
// its own.
func TestChannelNameTaken(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	fake := w.fake
	fake.AddChannel("inc-1-checkout-failing", false, "U2")
	fake.ArchiveChannel(fake.AddChannel("inc-1-checkout-failing-2", false, "U2"))
	sitrep := w.start(t)
	sitrep.slash(fake, "U1", w.general, "declare sev1 Checkout failing")
	eventually(t, "the channel", func() bool { _, ok := fake.ChannelByName("inc-1-checkout-failing-3"); return ok })
	card(t, fake, mustChannel(t, fake, "inc-1-checkout-failing-3").ID)
	if n := len(fake.Calls("conversations.list")); n != 0 {
		t.Errorf("searched the workspace %d times for names Sitrep never asked for", n)
	}
}

// TestChannelSearchResumes: Slack made the channel but its answer was
// lost, so the next pass meets name_taken for the name Sitrep itself asked
// for and searches a large workspace for it. The search fails part way;
// the next pass carries on from the page it reached rather than from the
// start, and adopts the channel instead of making a second.
func TestChannelSearchResumes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	fake := w.fake
	for i := range 2100 {
		fake.AddChannel(fmt.Sprintf("team-%04d", i), false, "U2")
	}
	fake.Fail("conversations.create", slackfake.Failure{Lost: true, Times: 1})
	fake.Fail("conversations.list", slackfake.Failure{Status: http.StatusInternalServerError, Skip: 1, Times: 1})
	sitrep := w.start(t)
	sitrep.slash(fake, "U1", w.general, "declare sev1 Checkout failing")
	eventually(t, "the channel", func() bool { _, ok := fake.ChannelByName("inc-1-checkout-failing"); return ok })
	ch := mustChannel(t, fake, "inc-1-checkout-failing")
	card(t, fake, ch.ID)
	if _, ok := fake.ChannelByName("inc-1-checkout-failing-2"); ok {
		t.Error("a second channel was made instead of adopting the first")
	}
	if c, _ := fake.Channel(ch.ID); c.Creator != fake.BotUserID() {
		t.Errorf("adopted a channel Sitrep did not make")
	}
	calls := fake.Calls("conversations.list")
	if len(calls) != 4 {
		t.Fatalf("%d conversations.list calls, want 4 (page 1, page 2 failing, page 2 again, page 3)", len(calls))
	}
	if c1, c2 := calls[1].Params["cursor"], calls[2].Params["cursor"]; c1 == "" || c2 != c1 {
		t.Errorf("after the failure the search asked for cursor %q, want %q: it started over", c2, c1)
	}
}
