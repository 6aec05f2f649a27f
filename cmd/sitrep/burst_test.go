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

// TestBurstOfNotes (not parallel: it counts the process's goroutines)
// sends 25 notes at once while Slack is slow to take
// posts. Every note is acknowledged and shown in the channel in order,
// and the changes share passes: no goroutine is left waiting per change.
func TestBurstOfNotes(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	sitrep := w.start(t)
	ch := w.declared(t, sitrep)
	before, _ := metricValue(sitrep.scrape(t), "go_goroutines")

	fake.Fail("chat.postMessage", slackfake.Failure{Delay: 50 * time.Millisecond})
	const notes = 25
	var wg sync.WaitGroup
	for i := range notes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a, _ := sitrep.slash(fake, "U1", ch.ID, fmt.Sprintf("note burst %02d", i)); a.Status != http.StatusOK || a.Text != "" {
				t.Errorf("note %d answered %+v", i, a)
			}
		}()
	}
	wg.Wait()
	// While the backlog drains, one pass does the work. Goroutines are
	// counted once the first posts are out: by then the burst's HTTP
	// connections have closed, while a goroutine left waiting per change
	// would still be there, for the backlog is paced at one post a second.
	peak := 0.0
	eventuallyWithin(t, 60*time.Second, "every note in the channel", func() bool {
		n := 0
		for _, s := range texts(fake, ch.ID) {
			if strings.Contains(s, "burst ") {
				n++
			}
		}
		if n < notes/2 {
			return false
		}
		if g, _ := metricValue(sitrep.scrape(t), "go_goroutines"); g > peak && n < notes {
			peak = g
		}
		return n == notes
	})
	// A pass and its Slack call take about eight; a goroutine per change
	// would add one for each of the dozen or more notes still waiting.
	if peak > before+15 {
		t.Errorf("%v goroutines while the notes were posted, %v before: changes wait for passes one goroutine each", peak, before)
	}
	// In the order they were recorded.
	tl, _ := sitrep.slash(fake, "U1", ch.ID, "timeline")
	var recorded, posted []string
	for _, line := range strings.Split(tl.All(), "\n") {
		if i := strings.Index(line, "burst "); i >= 0 {
			recorded = append(recorded, line[i:i+8])
		}
	}
	for _, s := range texts(fake, ch.ID) {
		if i := strings.Index(s, "burst "); i >= 0 {
			posted = append(posted, s[i:i+8])
		}
	}
	if strings.Join(recorded, ",") != strings.Join(posted, ",") {
		t.Errorf("notes posted in another order than recorded:\nrecorded %v\nposted   %v", recorded, posted)
	}
}

// TestPendingToldOncePerPerson has two people change an incident several
// times while Slack refuses posts: each is told that delivery is pending,
// once for their changes rather than once for each.
func TestPendingToldOncePerPerson(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	fake := w.fake
	sitrep := w.start(t)
	ch := w.declared(t, sitrep)

	fake.Fail("chat.postMessage", slackfake.Failure{Status: http.StatusServiceUnavailable})
	urls := map[string][]string{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, user := range []string{"U1", "U2"} {
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, ru := sitrep.slash(fake, user, ch.ID, fmt.Sprintf("note %s says %d", user, i))
				mu.Lock()
				urls[user] = append(urls[user], ru)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	told := func(user string) int {
		n := 0
		for _, ru := range urls[user] {
			n += strings.Count(responses(fake, ru), "posting it in Slack is pending")
		}
		return n
	}
	eventually(t, "both told", func() bool { return told("U1") > 0 && told("U2") > 0 })
	// Retries go on failing, but nobody is told again for the same changes.
	eventually(t, "a retry", func() bool { return strings.Count(sitrep.logs.String(), "delivery failed; will retry") >= 2 })
	for _, user := range []string{"U1", "U2"} {
		if n := told(user); n > 2 {
			t.Errorf("%s was told %d times that delivery is pending, for 4 changes", user, n)
		}
	}
	fake.ClearFailures()
	eventuallyWithin(t, 45*time.Second, "the notes in Slack once Slack is back", func() bool { return len(unsynced(t, w.db)) == 0 })
	if n := strings.Count(strings.Join(texts(fake, ch.ID), "\n"), " says "); n != 8 {
		t.Errorf("%d notes in the channel, want 8", n)
	}
}
