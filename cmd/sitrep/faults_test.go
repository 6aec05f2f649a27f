package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// slackState is what people see in the fake Slack, in a form that two runs
// of the same script can be compared by: channels by name, each with its
// topic, members, pins and messages (text and rendered blocks, in order).
func slackState(fake *slackfake.Server) string {
	var b strings.Builder
	chans := fake.Channels()
	slices.SortFunc(chans, func(a, b slackfake.Channel) int { return strings.Compare(a.Name, b.Name) })
	for _, ch := range chans {
		members := slices.Clone(ch.Members)
		slices.Sort(members)
		fmt.Fprintf(&b, "#%s private=%v archived=%v topic=%q members=%v\n", ch.Name, ch.Private, ch.Archived, ch.Topic, members)
		pinned := map[string]bool{}
		for _, ts := range fake.Pins(ch.ID) {
			pinned[ts] = true
		}
		// Event messages must come in the order of the events; where the
		// card, checklist, follow-ups and topic changes fall among them
		// depends on how passes interleave with commands, so they are
		// compared as a set.
		var kept []string
		for _, m := range fake.Messages(ch.ID) {
			if m.User == "U1" || m.User == "U2" || m.User == "U3" {
				continue // the people's own messages, not Sitrep's
			}
			pin := ""
			if pinned[m.TS] {
				pin = "[pinned] "
			}
			line := fmt.Sprintf("  %s%s | %s\n", pin, m.Text, strings.ReplaceAll(blockText(m.Blocks), "\n", " / "))
			if m.Blocks != nil || m.Subtype == "channel_topic" {
				kept = append(kept, line)
				continue
			}
			b.WriteString(line)
		}
		slices.Sort(kept)
		b.WriteString(strings.Join(kept, ""))
	}
	return b.String()
}

// lostScript runs one incident from declaration to resolution through slash
// commands, waiting after each for Slack to show it, and returns what the
// fake shows at the end.
func lostScript(t *testing.T, fail *slackfake.Failure) (state string, calls int) {
	w := newWorld(t)
	fake := w.fake
	clk := clock.NewFake(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
	sitrep := startAt(t, fake, testEnv(fake, w.db, "SITREP_ANNOUNCE_CHANNEL", w.announce), clk)
	before := apiCalls(fake)
	if fail != nil {
		fake.Fail(slackfake.AnyMethod, *fail)
	}
	sitrep.slash(fake, "U1", w.general, "declare sev1 Checkout failing")
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = fake.ChannelByName("inc-1-checkout-failing"); return ok })
	card(t, fake, ch.ID)
	eventually(t, "the checklist", func() bool { _, ok := checklistMessage(fake, ch.ID); return ok })
	for _, step := range []struct{ command, shows string }{
		{"role comms <@U2|bob>", "is now *comms*"},
		{"update Payments provider timing out; failing over", "Payments provider timing out"},
		{"note Database looks fine", "Database looks fine"},
		{"followup Add a canary stage <@U3|cat>", "added follow-up 1"},
		{"resolve Failed over to the secondary", "resolved incident #1"},
	} {
		clk.Advance(time.Minute)
		sitrep.slash(fake, "U1", ch.ID, step.command)
		eventually(t, step.shows, func() bool { return contains(texts(fake, ch.ID), step.shows) }, func() string { return slackState(fake) })
	}
	eventually(t, "the resolution announced", func() bool { return contains(texts(fake, w.announce), "is resolved") })
	eventually(t, "the card resolved", func() bool { _, c := card(t, fake, ch.ID); return strings.Contains(c, "resolved") })
	settle()
	sitrep.stop()
	return slackState(fake), apiCalls(fake) - before
}

// apiCalls counts the Web API calls made so far (not response_url posts).
func apiCalls(fake *slackfake.Server) int {
	n := 0
	for _, c := range fake.Calls("") {
		if c.Method != slackfake.ResponseURLMethod {
			n++
		}
	}
	return n
}

// TestLostAnswers loses Slack's answer to each call of a scripted incident
// in turn: Slack does the work, Sitrep never hears back, as when it dies
// between Slack's answer and its commit. Every run must end as the run
// without faults does: no second channel, no post twice, nothing missing.
func TestLostAnswers(t *testing.T) {
	want, calls := lostScript(t, nil)
	if calls < 20 {
		t.Fatalf("the script made only %d Slack calls; the test needs more to mean much", calls)
	}
	t.Logf("%d Slack calls in the script; losing the answer to each in turn", calls)
	for k := 1; k <= calls; k++ {
		t.Run(fmt.Sprintf("call %d", k), func(t *testing.T) {
			got, _ := lostScript(t, &slackfake.Failure{Lost: true, Skip: k - 1, Times: 1})
			if got != want {
				t.Errorf("the answer to call %d lost, Slack shows:\n%s\nwant:\n%s", k, got, want)
			}
		})
	}
}

// TestSlackFaults runs the scripted incident while Slack rate-limits, fails
// and stalls in the middle of it: every run must end as the run without
// faults does, complete and in order.
func TestSlackFaults(t *testing.T) {
	want, _ := lostScript(t, nil)
	for _, tc := range []struct {
		name string
		fail slackfake.Failure
	}{
		{"server errors from the channel's creation on", slackfake.Failure{Status: 500, Skip: 0, Times: 3}},
		{"server errors mid-incident", slackfake.Failure{Status: 503, Skip: 9, Times: 3}},
		{"rate limited mid-incident", slackfake.Failure{Status: 429, RetryAfter: time.Second, Skip: 6, Times: 3}},
		{"rate limited at resolve", slackfake.Failure{Status: 429, RetryAfter: time.Second, Skip: 17, Times: 2}},
		{"slow answers", slackfake.Failure{Delay: 1500 * time.Millisecond, Skip: 4, Times: 4}},
		{"errors a retry cannot tell from success", slackfake.Failure{Lost: true, Skip: 3, Times: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fail := tc.fail
			got, _ := lostScript(t, &fail)
			if got != want {
				t.Errorf("with %+v, Slack shows:\n%s\nwant:\n%s", tc.fail, got, want)
			}
		})
	}
}
