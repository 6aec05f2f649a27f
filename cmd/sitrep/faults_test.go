package main

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
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
func slackState(fake *slackfake.Server) string { return slackStateOf(fake, false) }

// slackStateAfterOutage is slackState for runs that had Slack fail for a
// while. Two things rightly differ from a run without the outage: a topic
// that changed twice while Slack was down is set once, to the latest (the
// topic shows state, not history), so only the final topics are compared;
// and each incident catches up on its own retry clock, so the
// announcements are compared incident by incident, each in order.
func slackStateAfterOutage(fake *slackfake.Server) string { return slackStateOf(fake, true) }

// announcedIncident finds the incident an announcement is about.
var announcedIncident = regexp.MustCompile(`\*#(\d+) `)

func slackStateOf(fake *slackfake.Server, outage bool) string {
	var b strings.Builder
	chans := fake.Channels()
	slices.SortFunc(chans, func(a, b slackfake.Channel) int { return strings.Compare(a.Name, b.Name) })
	// Channels are shown by name: their IDs follow the order they were
	// made in, which retries may change.
	var names []string
	for _, ch := range chans {
		names = append(names, "<#"+ch.ID+">", "<#"+ch.Name+">")
	}
	byName := strings.NewReplacer(names...)
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
		byIncident := map[string][]string{}
		for _, m := range fake.Messages(ch.ID) {
			if m.User == "U1" || m.User == "U2" || m.User == "U3" {
				continue // the people's own messages, not Sitrep's
			}
			if outage && m.Subtype == "channel_topic" {
				continue
			}
			pin := ""
			if pinned[m.TS] {
				pin = "[pinned] "
			}
			line := byName.Replace(fmt.Sprintf("  %s%s | %s\n", pin, m.Text, strings.ReplaceAll(blockText(m.Blocks), "\n", " / ")))
			if m.Blocks != nil || m.Subtype == "channel_topic" {
				kept = append(kept, line)
				continue
			}
			if outage && ch.Name == "incidents" {
				n := "?"
				if sm := announcedIncident.FindStringSubmatch(m.Text); sm != nil {
					n = sm[1]
				}
				byIncident[n] = append(byIncident[n], line)
				continue
			}
			b.WriteString(line)
		}
		for _, n := range slices.Sorted(maps.Keys(byIncident)) {
			fmt.Fprintf(&b, "  about #%s:\n", n)
			b.WriteString(strings.Join(byIncident[n], ""))
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
	eventually(t, "Slack caught up", func() bool { return len(unsynced(t, w.db)) == 0 })
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
	t.Parallel() // each run has its own fake Slack and database
	want, calls := lostScript(t, nil)
	if calls < 20 {
		t.Fatalf("the script made only %d Slack calls; the test needs more to mean much", calls)
	}
	t.Logf("%d Slack calls in the script; losing the answer to each in turn", calls)
	var names []string
	for k := 1; k <= calls; k++ {
		names = append(names, fmt.Sprintf("call %d", k))
	}
	runWaiting(t, names, func(t *testing.T, i int) {
		k := i + 1
		got, _ := lostScript(t, &slackfake.Failure{Lost: true, Skip: k - 1, Times: 1})
		if got != want {
			t.Errorf("the answer to call %d lost, Slack shows:\n%s\nwant:\n%s", k, got, want)
		}
	})
}

// TestSlackFaults runs the scripted incident while Slack rate-limits, fails
// and stalls in the middle of it: every run must end as the run without
// faults does, complete and in order.
func TestSlackFaults(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
			fail := tc.fail
			got, _ := lostScript(t, &fail)
			if got != want {
				t.Errorf("with %+v, Slack shows:\n%s\nwant:\n%s", tc.fail, got, want)
			}
		})
	}
}

// outageScript declares three incidents, then, while Slack may be failing,
// works in their channels and declares two more; it waits until every
// incident shows in Slack as it should and returns what Slack shows, with
// the announcements put in incident order (after an outage each incident's
// catch-up runs on its own clock, so they interleave differently).
func outageScript(t *testing.T, outage func(fake *slackfake.Server) (done <-chan struct{})) string {
	w := newWorld(t)
	fake := w.fake
	clk := clock.NewFake(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
	sitrep := startAt(t, fake, testEnv(fake, w.db, "SITREP_ANNOUNCE_CHANNEL", w.announce), clk)
	titles := []string{"Checkout failing", "Search slow", "Login errors", "Queue backlog", "Payments timing out"}
	names := []string{"inc-1-checkout-failing", "inc-2-search-slow", "inc-3-login-errors", "inc-4-queue-backlog", "inc-5-payments-timing-out"}
	declare := func(i int) {
		sitrep.slash(fake, "U1", w.general, "declare sev1 "+titles[i])
	}
	for i := range 3 {
		declare(i)
		eventually(t, names[i], func() bool { ch, ok := fake.ChannelByName(names[i]); return ok && len(fake.Pins(ch.ID)) == 1 })
	}
	eventually(t, "the declarations caught up", func() bool { return len(unsynced(t, w.db)) == 0 })
	done := outage(fake)
	for i := range 3 {
		ch := mustChannel(t, fake, names[i]).ID
		for _, cmd := range []string{"status identified", "update Failing over to the secondary", "note Database looks fine", "sev sev0", "resolve Failed over"} {
			clk.Advance(time.Minute)
			a, _ := sitrep.slash(fake, "U1", ch, cmd)
			t.Log(cmd, a.Status, a.Text)
			if strings.HasPrefix(a.Text, ":warning:") || strings.HasPrefix(a.Text, ":x:") {
				t.Fatalf("/incident %s in %s answered %q", cmd, names[i], a.Text)
			}
		}
	}
	declare(3)
	declare(4)
	<-done
	back := time.Now()
	// Slack is back. Incidents backing off retry within 30 seconds, and
	// the first pass to go through wakes the others.
	for i := range 5 {
		eventuallyWithin(t, 45*time.Second, names[i]+" complete", func() bool {
			ch, ok := fake.ChannelByName(names[i])
			if !ok {
				return false
			}
			_, c := card(t, fake, ch.ID)
			return len(fake.Pins(ch.ID)) == 1 && (i >= 3 || contains(texts(fake, ch.ID), "resolved incident") && strings.Contains(c, "resolved"))
		}, func() string { return slackState(fake) + "\nlogs:\n" + sitrep.logs.String() })
	}
	eventually(t, "the resolutions announced", func() bool {
		n := 0
		for _, s := range texts(fake, w.announce) {
			if strings.Contains(s, "is resolved") {
				n++
			}
		}
		return n == 3
	}, func() string { return strings.Join(texts(fake, w.announce), "\n") })
	eventually(t, "every incident caught up", func() bool { return len(unsynced(t, w.db)) == 0 })
	t.Logf("every incident complete in Slack %s after the outage ended", time.Since(back).Round(time.Millisecond))
	sitrep.stop()
	return slackStateAfterOutage(fake)
}

// TestSlackOutage has Slack fail for 30 seconds in the middle of incidents
// (ten seconds each of rate limits with Retry-After, server errors, and
// answers slow enough to time out), while people keep working in three
// incident channels and declare two more incidents. Afterwards every
// incident must show in Slack exactly as in a run without the outage:
// channels, pins, topics, every message once and in order.
func TestSlackOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 30-second Slack outage")
	}
	t.Parallel()
	// The run without the outage and the run with it are independent,
	// so they go side by side.
	var want, got string
	t.Run("runs", func(t *testing.T) {
		t.Run("without the outage", func(t *testing.T) {
			t.Parallel()
			want = outageScript(t, func(*slackfake.Server) <-chan struct{} {
				done := make(chan struct{})
				close(done)
				return done
			})
		})
		t.Run("with the outage", func(t *testing.T) {
			t.Parallel()
			got = outageRun(t)
		})
	})
	if !t.Failed() && got != want {
		t.Errorf("after the outage Slack shows:\n%s\nwant:\n%s", got, want)
	}
}

// outageRun is outageScript with Slack failing for 30 seconds in the middle:
// ten seconds each of rate limits, server errors and answers too slow.
func outageRun(t *testing.T) string {
	return outageScript(t, func(fake *slackfake.Server) <-chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, f := range []slackfake.Failure{
				{Status: http.StatusTooManyRequests, RetryAfter: 3 * time.Second},
				{Status: http.StatusInternalServerError},
				{Delay: 20 * time.Second}, // past the client's 15 s timeout
			} {
				fake.ClearFailures()
				fake.Fail(slackfake.AnyMethod, f)
				time.Sleep(10 * time.Second)
			}
			fake.ClearFailures()
		}()
		return done
	})
}
