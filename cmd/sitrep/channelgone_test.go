package main

import (
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// TestIncidentChannelGone: an admin deletes an open incident's channel.
// The next thing Sitrep has to post there (the update reminder) finds
// Slack answering channel_not_found; instead of retrying that for ever,
// Sitrep makes the incident a new channel, invites its people, shows the
// card there and says what happened, and everything carries on in it.
func TestIncidentChannelGone(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	sitrep := startAt(t, fake, testEnv(fake, w.db, "SITREP_ANNOUNCE_CHANNEL", w.announce), clk)

	sitrep.slash(fake, "U1", w.general, "declare sev1 Checkout failing")
	var old slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; old, ok = fake.ChannelByName("inc-1-checkout-failing"); return ok })
	card(t, fake, old.ID)
	sitrep.slash(fake, "U1", old.ID, "role comms <@U2|bob>")
	eventually(t, "the card naming comms", func() bool { _, c := card(t, fake, old.ID); return strings.Contains(c, "<@U2>") })
	eventually(t, "everything in Slack", func() bool { return len(unsynced(t, w.db)) == 0 })

	if !fake.DeleteChannel(old.ID) {
		t.Fatal("no channel to delete")
	}
	clk.Advance(30 * time.Minute) // the update reminder is due
	var ch slackfake.Channel
	eventually(t, "a new channel for the incident", func() bool {
		var ok bool
		ch, ok = fake.ChannelByName("inc-1-checkout-failing")
		return ok && ch.ID != old.ID
	}, func() string { return sitrep.logs.String() })
	_, c := card(t, fake, ch.ID)
	if !strings.Contains(c, "Checkout failing") || !strings.Contains(c, "<@U2>") {
		t.Errorf("the card in the new channel:\n%s", c)
	}
	eventually(t, "the incident's people in the new channel", func() bool {
		ch, _ = fake.Channel(ch.ID)
		return isMember(ch, "U1") && isMember(ch, "U2")
	}, func() string { return strings.Join(ch.Members, ", ") })
	eventually(t, "why the channel is new, and the reminder", func() bool {
		return contains(texts(fake, ch.ID), "Incident #1's channel #inc-1-checkout-failing is gone from Slack") &&
			len(prompts(fake, ch.ID, dueText)) == 1
	}, func() string { return strings.Join(texts(fake, ch.ID), "\n") })
	eventually(t, "everything in Slack again", func() bool { return len(unsynced(t, w.db)) == 0 })

	// The incident lives on in the new channel: its commands work there,
	// and list links to it with nothing amiss.
	sitrep.slash(fake, "U1", ch.ID, "status identified")
	eventually(t, "the status change in the new channel", func() bool {
		return contains(texts(fake, ch.ID), "set the status to *identified*")
	})
	list, _ := sitrep.slash(fake, "U1", w.general, "list")
	if all := list.All(); !strings.Contains(all, "<#"+ch.ID+">") || strings.Contains(all, old.ID) || strings.Contains(all, "warning") {
		t.Errorf("list after the move:\n%s", all)
	}
	if logs := sitrep.logs.String(); strings.Contains(logs, "work refused") || strings.Contains(logs, "will retry") {
		t.Errorf("Sitrep retried what could not work:\n%s", logs)
	}
}

// TestClosedIncidentChannelGone: the channel of an incident being closed
// is deleted before Sitrep shows the close there. A closed incident needs
// no new channel: Sitrep posts nothing more to the old one and is done,
// instead of retrying for ever.
func TestClosedIncidentChannelGone(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	sitrep := w.start(t)
	sitrep.slash(fake, "U1", w.general, "declare sev2 Search slow")
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = fake.ChannelByName("inc-1-search-slow"); return ok })
	card(t, fake, ch.ID)
	sitrep.slash(fake, "U1", ch.ID, "resolve Reindexed the catalogue")
	sitrep.slash(fake, "U1", ch.ID, "postmortem")
	submitForm(t, sitrep, fake, "U1", "postmortem", 1, obj{})
	eventually(t, "the postmortem in Slack", func() bool { return len(fake.Files(ch.ID)) == 1 && len(unsynced(t, w.db)) == 0 })
	// Recorded as published once Slack shows it: close needs that.
	eventually(t, "the postmortem recorded", func() bool { return onTimeline(sitrep, fake, ch.ID, "Postmortem published") })

	fake.DeleteChannel(ch.ID)
	sitrep.slash(fake, "U1", ch.ID, "close")
	eventually(t, "nothing left to deliver", func() bool { return len(unsynced(t, w.db)) == 0 }, func() string { return sitrep.logs.String() })
	if _, ok := fake.ChannelByName("inc-1-search-slow"); ok {
		t.Error("Sitrep made a new channel for a closed incident")
	}
	logs := sitrep.logs.String()
	if n := strings.Count(logs, "nothing more is posted there"); n != 1 {
		t.Errorf("Sitrep noticed the lost channel %d times, want once:\n%s", n, logs)
	}
	if strings.Contains(logs, "work refused") {
		t.Errorf("Sitrep retried what could not work:\n%s", logs)
	}
}

// TestIncidentChannelArchived: someone archives the channel of an incident
// still going on. Posting there answers is_archived; Sitrep gives the
// incident a new channel (the old name stays the archived one's) instead
// of retrying.
func TestIncidentChannelArchived(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	sitrep := startAt(t, fake, testEnv(fake, w.db, "SITREP_ANNOUNCE_CHANNEL", w.announce), clk)
	sitrep.slash(fake, "U1", w.general, "declare sev1 Checkout failing")
	var old slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; old, ok = fake.ChannelByName("inc-1-checkout-failing"); return ok })
	card(t, fake, old.ID)
	eventually(t, "everything in Slack", func() bool { return len(unsynced(t, w.db)) == 0 })

	fake.ArchiveChannel(old.ID)
	clk.Advance(30 * time.Minute) // the update reminder is due
	var ch slackfake.Channel
	eventually(t, "a new channel for the incident", func() bool {
		var ok bool
		ch, ok = fake.ChannelByName("inc-1-checkout-failing-2")
		return ok
	}, func() string { return sitrep.logs.String() })
	card(t, fake, ch.ID)
	eventually(t, "why the channel is new, and the reminder", func() bool {
		return contains(texts(fake, ch.ID), "Incident #1's channel #inc-1-checkout-failing was archived, so Sitrep made this one") &&
			len(prompts(fake, ch.ID, dueText)) == 1
	}, func() string { return strings.Join(texts(fake, ch.ID), "\n") })
	eventually(t, "everything in Slack again", func() bool { return len(unsynced(t, w.db)) == 0 })
	if c, _ := fake.Channel(ch.ID); !isMember(c, "U1") {
		t.Error("the commander is not in the new channel")
	}
}
