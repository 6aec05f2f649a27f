package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/storage/postgres/pgtest"
)

// Two replicas on one PostgreSQL database, each told of the same alerts at
// once (a sender retrying on another replica, or alerts of one group
// arriving at both), show each group's triage message once: one replica at
// a time looks at the triage channel. Slack is slowed in front, so that a
// second look beside the first, were it let in, would find the group
// without its message and post another.
func TestTwoReplicasPostEachTriageMessageOnce(t *testing.T) {
	u := pgtest.Schema(t)
	w := newWorld(t)
	w.db = u
	triage := w.fake.AddChannel("alert-triage", false, "U1")
	target, err := url.Parse(w.fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	slow := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/chat.postMessage") {
			time.Sleep(100 * time.Millisecond)
		}
		proxy.ServeHTTP(rw, r)
	}))
	defer slow.Close()
	conf := fmt.Sprintf("alerts:\n  triage_channel: %s\n  routes:\n    - action: triage\n      group_by: [service]\n", triage)
	replicas := []*instance{
		w.startAlerting(t, conf, "SLACK_API_URL", slow.URL),
		w.startAlerting(t, conf, "SLACK_API_URL", slow.URL),
	}

	const groups = 8
	for i := range groups {
		alert := genericAlert(fmt.Sprint("k", i), "firing", fmt.Sprint("Service ", i, " down"), map[string]string{"service": fmt.Sprint("s", i)})
		var wg sync.WaitGroup
		for _, r := range replicas {
			wg.Go(func() {
				if code, msg := r.hook(t, "generic", alert); code != http.StatusOK {
					t.Errorf("POST /hooks/generic answered %d %s", code, msg)
				}
			})
		}
		wg.Wait()
	}
	show := func() string { return strings.Join(texts(w.fake, triage), "\n") }
	eventually(t, "every group's triage message", func() bool {
		seen := 0
		for i := range groups {
			if contains(texts(w.fake, triage), fmt.Sprint("Service ", i, " down")) {
				seen++
			}
		}
		return seen == groups
	}, show)
	// Stopped, so that nothing is still being posted while Slack is read.
	for _, r := range replicas {
		r.stop()
	}
	msgs := triageMessages(w.fake, triage)
	for i := range groups {
		n := 0
		for _, m := range msgs {
			if strings.Contains(m.Text, fmt.Sprint("Service ", i, " down")) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("group %d has %d triage messages, want one:\n%s", i, n, show())
		}
	}
	if len(msgs) != groups {
		t.Errorf("%d triage messages for %d groups, want one each:\n%s", len(msgs), groups, show())
	}
}
