package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

const (
	dueText     = "a status update on incident #1 is due"
	overdueText = "the status update on incident #1 is overdue"
	pmText      = "has no postmortem yet"
)

// prompts returns the bot's prompt messages in channel that contain text.
func prompts(fake *slackfake.Server, channel, text string) []slackfake.Message {
	var found []slackfake.Message
	for _, m := range fake.Messages(channel) {
		if strings.Contains(m.Text, text) {
			found = append(found, m)
		}
	}
	return found
}

// quiet waits until Sitrep has done what the time on clk asks of it: the
// prompter waits for a moment still to come (moving the clock wakes the
// waits it reaches at once), and Slack shows everything recorded. A check
// after it that a prompt was not sent means something. (A wait the
// prompter gave up for a wake-up also counts, so in rare orders quiet can
// return while the prompter is still working; that can hide a wrong
// prompt, never fail a right one.)
func quiet(t *testing.T, clk *clock.Fake, db string) {
	t.Helper()
	eventually(t, "Sitrep to be done with the time", func() bool { return clk.Waiting() > 0 && len(unsynced(t, db)) == 0 })
}

// dueField is the card's "Next update due" field for t, as slackDate
// renders it.
func dueField(t time.Time) string {
	return "*Next update due*\n<!date^" + strconv.FormatInt(t.Unix(), 10)
}

// TestStatusUpdatePrompts runs the status-update prompts on a fake clock:
// the first prompt at the severity's cadence naming the commander, the
// second at twice the cadence naming comms too, silence after that, an
// update resetting the clock, a severity change moving it, a restart that
// neither loses nor repeats a prompt, daily postmortem prompts after
// resolve, and nothing after close.
func TestStatusUpdatePrompts(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	env := testEnv(fake, w.db, "SITREP_ANNOUNCE_CHANNEL", w.announce)
	sitrep := startAt(t, fake, env, clk)

	sitrep.slash(fake, "U1", w.general, "declare sev1 Checkout failing")
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = fake.ChannelByName("inc-1-checkout-failing"); return ok })
	card(t, fake, ch.ID)
	sitrep.slash(fake, "U1", ch.ID, "role comms <@U2|bob>")
	var c string
	eventually(t, "the card with the first due time", func() bool {
		_, c = card(t, fake, ch.ID)
		return strings.Contains(c, dueField(t0.Add(30*time.Minute))) && strings.Contains(c, "<@U2>")
	}, func() string { return c })

	// Nothing before the cadence; the first prompt at it, naming the
	// commander, with a Post update button.
	clk.Advance(29 * time.Minute)
	quiet(t, clk, w.db)
	if n := len(prompts(fake, ch.ID, dueText)); n != 0 {
		t.Fatalf("%d prompts before the cadence was up", n)
	}
	clk.Advance(time.Minute)
	eventually(t, "the first prompt", func() bool { return len(prompts(fake, ch.ID, dueText)) == 1 })
	first := prompts(fake, ch.ID, dueText)[0]
	if !strings.HasPrefix(first.Text, ":alarm_clock: <@U1>,") || strings.Contains(first.Text, "<@U2>") {
		t.Errorf("the first prompt should name the commander alone: %q", first.Text)
	}
	if !strings.Contains(string(first.Blocks), `"action_id":"card_update"`) {
		t.Errorf("the prompt has no Post update button: %s", first.Blocks)
	}
	eventually(t, "the card to say the update is overdue", func() bool { _, c := card(t, fake, ch.ID); return strings.Contains(c, "overdue") })

	// The button opens the update form, as the card's does.
	views := len(fake.Views())
	p, _ := cardAction(t, fake, "U1", ch.ID, first.TS, button("card_update", "1"))
	if a := sitrep.interact(p); a.Status != http.StatusOK {
		t.Fatalf("Post update acknowledged with %d", a.Status)
	}
	eventually(t, "the update form", func() bool { return len(fake.Views()) == views+1 })

	// Twice the cadence overdue: again, naming comms too. Then silence
	// until someone posts an update, however long that takes.
	clk.Advance(30 * time.Minute)
	eventually(t, "the second prompt", func() bool { return len(prompts(fake, ch.ID, overdueText)) == 1 })
	second := prompts(fake, ch.ID, overdueText)[0]
	if !strings.Contains(second.Text, "<@U1> and <@U2>") {
		t.Errorf("the second prompt should name the commander and comms: %q", second.Text)
	}
	clk.Advance(3 * time.Hour)
	quiet(t, clk, w.db)

	// An update resets the clock.
	updatedAt := clk.Now()
	sitrep.slash(fake, "U1", ch.ID, "update Payments provider is timing out; failing over")
	eventually(t, "the card's new due time", func() bool {
		_, c := card(t, fake, ch.ID)
		return strings.Contains(c, dueField(updatedAt.Add(30*time.Minute))) && !strings.Contains(c, "overdue")
	})
	clk.Advance(29 * time.Minute)
	quiet(t, clk, w.db)
	if n := len(prompts(fake, ch.ID, dueText)); n != 1 {
		t.Fatalf("%d first prompts before the reset cadence was up, want the one from before", n)
	}
	if n := len(prompts(fake, ch.ID, overdueText)); n != 1 {
		t.Fatalf("%d overdue prompts during the silence, want one", n)
	}

	// Raising to sev0 moves the due time to its 15-minute cadence: already
	// past, so the prompt comes at once.
	sitrep.slash(fake, "U1", ch.ID, "sev sev0")
	eventually(t, "the card at sev0's cadence", func() bool {
		_, c := card(t, fake, ch.ID)
		return strings.Contains(c, dueField(updatedAt.Add(15*time.Minute)))
	})
	eventually(t, "the prompt after the severity change", func() bool { return len(prompts(fake, ch.ID, dueText)) == 2 })
	if got := prompts(fake, ch.ID, dueText)[1].Text; !strings.Contains(got, "every 15m at sev0") {
		t.Errorf("the prompt does not give the new cadence: %q", got)
	}

	// Update, stop, and let both the due time and the overdue time pass
	// while Sitrep is down; start again: one catch-up prompt (the overdue
	// one), not one per missed level, and none repeated.
	updatedAt = clk.Now()
	sitrep.slash(fake, "U1", ch.ID, "update Failover done; watching error rates")
	eventually(t, "the card's due time after the second update", func() bool {
		_, c := card(t, fake, ch.ID)
		return strings.Contains(c, dueField(updatedAt.Add(15*time.Minute)))
	})
	sitrep.stop()
	clk.Advance(time.Hour)
	sitrep = startAt(t, fake, env, clk)
	eventually(t, "the catch-up prompt", func() bool { return len(prompts(fake, ch.ID, overdueText)) == 2 })
	quiet(t, clk, w.db)
	if n := len(prompts(fake, ch.ID, dueText)); n != 2 {
		t.Errorf("%d due prompts after the restart, want the 2 from before it", n)
	}
	sitrep.stop()
	sitrep = startAt(t, fake, env, clk)
	sitrep.slash(fake, "U1", ch.ID, "note restarted again")
	eventually(t, "the note", func() bool { return contains(texts(fake, ch.ID), "restarted again") })
	quiet(t, clk, w.db)
	if n, m := len(prompts(fake, ch.ID, dueText)), len(prompts(fake, ch.ID, overdueText)); n != 2 || m != 2 {
		t.Errorf("a second restart repeated prompts: %d due, %d overdue, want 2 and 2", n, m)
	}

	// Resolved: a daily postmortem prompt until the postmortem exists.
	resolvedAt := clk.Now()
	sitrep.slash(fake, "U1", ch.ID, "resolve Failed over to the secondary provider")
	eventually(t, "the resolution", func() bool { _, c := card(t, fake, ch.ID); return strings.Contains(c, "resolved") })
	clk.Advance(23 * time.Hour)
	quiet(t, clk, w.db)
	if n := len(prompts(fake, ch.ID, pmText)); n != 0 {
		t.Fatalf("%d postmortem prompts within a day of resolving", n)
	}
	clk.Advance(time.Hour)
	eventually(t, "the first postmortem prompt", func() bool { return len(prompts(fake, ch.ID, pmText)) == 1 })
	clk.Advance(24 * time.Hour)
	eventually(t, "the second postmortem prompt", func() bool { return len(prompts(fake, ch.ID, pmText)) == 2 })
	pm := prompts(fake, ch.ID, pmText)[1]
	if !strings.Contains(pm.Text, "<@U1>") || !strings.Contains(pm.Text, "<!date^"+strconv.FormatInt(resolvedAt.Unix(), 10)) {
		t.Errorf("the postmortem prompt should name the commander and when it was resolved: %q", pm.Text)
	}
	if n := len(prompts(fake, ch.ID, "status update on incident #1")); n != 4 {
		t.Errorf("%d status-update prompts after resolve, want the 4 from before it", n)
	}
	p, _ = cardAction(t, fake, "U1", ch.ID, pm.TS, button("prompt_postmortem", "1"))
	if a := sitrep.interact(p); a.Status != http.StatusOK {
		t.Fatalf("Write postmortem acknowledged with %d", a.Status)
	}
	// It opens the review form, as /incident postmortem does.
	if a := sitrep.interact(submission(t, fake, "U1", openView(t, fake, "postmortem"), obj{})); a.ResponseAction != "" {
		t.Fatalf("the postmortem form answered %+v", a)
	}
	eventually(t, "the postmortem", func() bool { return len(fake.Files(ch.ID)) == 1 })
	eventually(t, "the postmortem on the timeline", func() bool {
		tl, _ := sitrep.slash(fake, "U1", ch.ID, "timeline")
		return strings.Contains(tl.All(), "Postmortem published")
	})
	clk.Advance(72 * time.Hour)
	quiet(t, clk, w.db)
	if n := len(prompts(fake, ch.ID, pmText)); n != 2 {
		t.Errorf("%d postmortem prompts after it was written, want the 2 from before", n)
	}

	// Closed: nothing more, ever.
	sitrep.slash(fake, "U1", ch.ID, "close")
	eventually(t, "the close", func() bool { _, c := card(t, fake, ch.ID); return strings.Contains(c, "closed") })
	quiet(t, clk, w.db)
	before := len(fake.Messages(ch.ID))
	clk.Advance(30 * 24 * time.Hour)
	quiet(t, clk, w.db)
	if after := fake.Messages(ch.ID); len(after) != before {
		t.Errorf("%d messages after close, want none; the last: %q", len(after)-before, after[len(after)-1].Text)
	}
}

// TestNoPromptsWithoutCadence declares a sev3, whose cadence is zero: no
// prompts and no due time on the card.
func TestNoPromptsWithoutCadence(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	clk := clock.NewFake(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
	sitrep := startAt(t, fake, testEnv(fake, w.db), clk)
	sitrep.slash(fake, "U1", w.general, "declare sev3 Typo on the pricing page")
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = fake.ChannelByName("inc-1-typo-on-the-pricing-page"); return ok })
	if _, c := card(t, fake, ch.ID); strings.Contains(c, "Next update due") {
		t.Errorf("a sev3 card shows a due time:\n%s", c)
	}
	clk.Advance(48 * time.Hour)
	quiet(t, clk, w.db)
	if n := len(prompts(fake, ch.ID, "status update on incident")); n != 0 {
		t.Errorf("%d prompts for a severity without a cadence", n)
	}
}

// TestUpdateFormSetsNextPrompt posts an update through the form promising
// the next in two hours: the card shows that time, no prompt comes at the
// severity's 30 minutes, a restart keeps the promise, and the prompt comes
// when promised.
func TestUpdateFormSetsNextPrompt(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	env := testEnv(fake, w.db)
	sitrep := startAt(t, fake, env, clk)
	sitrep.slash(fake, "U1", w.general, "declare sev1 Checkout failing")
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = fake.ChannelByName("inc-1-checkout-failing"); return ok })
	cardTS, _ := card(t, fake, ch.ID)

	clk.Advance(10 * time.Minute)
	updatedAt := clk.Now()
	p, _ := cardAction(t, fake, "U1", ch.ID, cardTS, button("card_update", "1"))
	sitrep.interact(p)
	a := sitrep.interact(submission(t, fake, "U1", openView(t, fake, "update"), obj{
		"status": obj{"status": optionValue("investigating")},
		"know":   obj{"know": textValue("Payments provider times out")},
		"next":   obj{"next": optionValue("2h")},
	}))
	if a.ResponseAction != "" {
		t.Fatalf("the update form answered %+v", a)
	}
	var c string
	eventually(t, "the card with the promised time", func() bool {
		_, c = card(t, fake, ch.ID)
		return strings.Contains(c, dueField(updatedAt.Add(2*time.Hour)))
	}, func() string { return c })

	clk.Advance(time.Hour) // past sev1's 30 minutes
	quiet(t, clk, w.db)
	if n := len(prompts(fake, ch.ID, dueText)); n != 0 {
		t.Fatalf("%d prompts before the promised time", n)
	}
	sitrep.stop()
	sitrep = startAt(t, fake, env, clk)
	quiet(t, clk, w.db)
	if n := len(prompts(fake, ch.ID, dueText)); n != 0 {
		t.Fatalf("%d prompts after a restart, before the promised time", n)
	}
	clk.Advance(updatedAt.Add(2 * time.Hour).Sub(clk.Now()))
	eventually(t, "the prompt at the promised time", func() bool { return len(prompts(fake, ch.ID, dueText)) == 1 })
	if got := prompts(fake, ch.ID, dueText)[0].Text; !strings.Contains(got, "the last update promised the next within 2h") {
		t.Errorf("the prompt does not say what was promised: %q", got)
	}

	// An update that promises nothing: the severity's cadence again.
	updatedAt = clk.Now()
	sitrep.slash(fake, "U1", ch.ID, "update Failed over; watching")
	eventually(t, "the card back at sev1's cadence", func() bool {
		_, c = card(t, fake, ch.ID)
		return strings.Contains(c, dueField(updatedAt.Add(30*time.Minute)))
	}, func() string { return c })
}
