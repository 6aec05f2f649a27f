package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// TestThirtyDeclarationsInAMinute declares 30 incidents at once, as an
// alert storm will, against a fake Slack that enforces Slack's rate limits
// per method (conversations.create, setTopic and pins.add are 20 a
// minute). Every incident gets its channel, its pinned card and its
// announcement, once each and in order, and Sitrep keeps to Slack's pace
// rather than drawing 429s.
func TestThirtyDeclarationsInAMinute(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	fake := w.fake
	const people, each = 10, 3 // one person may declare 3 a minute
	var users []string
	for i := range people {
		u := fmt.Sprintf("U%02d", 10+i)
		fake.AddUser(slackfake.User{ID: u, Name: fmt.Sprintf("oncall%d", i)})
		fake.AddMember(w.general, u)
		users = append(users, u)
	}
	sitrep := w.start(t)

	var wg sync.WaitGroup
	for i, u := range users {
		for j := range each {
			wg.Go(func() {
				title := fmt.Sprintf("storm %02d", i*each+j+1)
				if a, _ := sitrep.slash(fake, u, w.general, "declare sev2 "+title); a.Status != http.StatusOK {
					t.Errorf("declare %s: %+v", title, a)
				}
			})
		}
	}
	wg.Wait()

	n := people * each
	channelOf := func(i int) (slackfake.Channel, bool) {
		for _, ch := range fake.Channels() {
			if strings.HasPrefix(ch.Name, fmt.Sprintf("inc-%d-storm-", i)) {
				return ch, true
			}
		}
		return slackfake.Channel{}, false
	}
	announced := func() []string {
		var out []string
		for _, s := range texts(fake, w.announce) {
			if strings.Contains(s, "storm") {
				out = append(out, s)
			}
		}
		return out
	}
	eventuallyWithin(t, 3*time.Minute, "every incident's channel, pinned card, topic and announcement", func() bool {
		for i := 1; i <= n; i++ {
			ch, ok := channelOf(i)
			if !ok || len(fake.Pins(ch.ID)) != 1 || ch.Topic == "" {
				return false
			}
		}
		return len(announced()) >= n
	}, func() string {
		done := 0
		for i := 1; i <= n; i++ {
			if ch, ok := channelOf(i); ok && len(fake.Pins(ch.ID)) == 1 && ch.Topic != "" {
				done++
			}
		}
		return fmt.Sprintf("%d of %d incidents shown, %d announcements", done, n, len(announced()))
	})

	// Once each: one channel per incident, one card, one announcement;
	// and in order: the card before anything else in the channel, and the
	// announcement (which links to the channel) after the card.
	announcedAt := map[string]string{} // channel ID → the announcement's ts
	for _, m := range fake.Messages(w.announce) {
		if i := strings.Index(m.Text, "<#"); i >= 0 && strings.Contains(m.Text, "storm") {
			announcedAt[strings.FieldsFunc(m.Text[i+2:], func(r rune) bool { return r == '>' || r == '|' })[0]] = m.TS
		}
	}
	for i := 1; i <= n; i++ {
		ch, _ := channelOf(i)
		msgs := fake.Messages(ch.ID)
		cards := 0
		for _, m := range msgs {
			if strings.Contains(blockText(m.Blocks), "Commander") {
				cards++
			}
		}
		if cards != 1 || !strings.Contains(blockText(msgs[0].Blocks), "Commander") {
			t.Errorf("incident %d's channel has %d cards, the first message %q; want one card, first", i, cards, msgs[0].Text)
		}
		if at := announcedAt[ch.ID]; at == "" || at < msgs[0].TS {
			t.Errorf("incident %d announced at %q, before its card at %s", i, at, msgs[0].TS)
		}
	}
	if got := len(fake.Channels()); got != n+2 {
		t.Errorf("%d channels, want %d incident channels and the two there were", got, n)
	}
	seen := map[string]int{}
	for _, a := range announced() {
		seen[a]++
	}
	for a, k := range seen {
		if k > 1 {
			t.Errorf("announced %d times: %s", k, a)
		}
	}
	if len(seen) != n {
		t.Errorf("%d announcements, want %d", len(seen), n)
	}

	// Sitrep kept to Slack's pace: the fake refused nothing.
	limited := 0.0
	for _, m := range sitrep.scrape(t)["sitrep_slack_api_calls_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "result" && l.GetValue() == "ratelimited" {
				limited += m.GetCounter().GetValue()
			}
		}
	}
	if limited > 0 {
		t.Errorf("Slack answered 429 to %v calls: Sitrep did not keep to its pace", limited)
	}
	if creates := len(fake.Calls("conversations.create")); creates != n {
		t.Errorf("%d conversations.create calls for %d channels", creates, n)
	}
}
