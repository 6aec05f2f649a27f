package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// alertCrashConfig declares an incident for Alertmanager's alerts and sends
// the generic source's to the triage channel.
const alertCrashConfig = `
alerts:
  triage_channel: %s
  routes:
    - name: pages
      source: alertmanager
      action: declare
      severity: sev1
    - name: maybe
      source: generic
      action: triage
      group_by: [service]
`

// newAlertCrashRun is a crash run with every alert source on, routed by
// alertCrashConfig, and the triage channel's ID.
func newAlertCrashRun(t *testing.T, extra ...string) (*crashRun, string) {
	w := newWorld(t)
	triage := w.fake.AddChannel("alert-triage", false, "U1")
	path := filepath.Join(t.TempDir(), "sitrep.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(alertCrashConfig, triage)), 0o600); err != nil {
		t.Fatal(err)
	}
	extra = append(extra, "SITREP_CONFIG", path)
	for _, src := range alertSources {
		extra = append(extra, hookSecretVar(src), hookSecret)
	}
	return newCrashRunIn(t, w, extra...), triage
}

// hook delivers an alert notification as a sender does, and reports
// whether Sitrep acknowledged it (2xx). Senders send again what was not
// acknowledged: a 503, or no answer at all from a program killed mid-request.
func (r *crashRun) hook(source string, body []byte) bool {
	r.t.Helper()
	c := r.alive()
	resp, err := http.DefaultClient.Do(hookRequest(r.t, c.base, source, body))
	if err != nil {
		return false
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusServiceUnavailable:
		return false
	case resp.StatusCode != http.StatusOK:
		r.t.Fatalf("POST /hooks/%s: HTTP %d", source, resp.StatusCode)
	}
	return true
}

// alertScript sends monitoring's side of an incident: Alertmanager's group
// of two firing alerts declares it, a generic alert waits in triage, and
// Alertmanager's two resolved notifications end it. Each notification is
// sent until acknowledged, as Alertmanager and the others retry, and Sitrep
// is left to settle before the next.
func (r *crashRun) alertScript(triage string) {
	r.t.Helper()
	fake := r.fake
	// inc1 is incident #1's channel, "" before there is one.
	inc1 := func() string {
		for _, c := range fake.Channels() {
			if strings.HasPrefix(c.Name, "inc-1-") {
				return c.ID
			}
		}
		return ""
	}
	summary := func(want string) func() bool {
		return func() bool {
			ms := summaries(fake, inc1())
			return len(ms) == 1 && strings.Contains(ms[0].Text, want)
		}
	}
	asked := func() bool { return contains(texts(fake, inc1()), "have resolved") }
	steps := []struct {
		source string
		body   []byte
		done   func() bool
	}{
		{"alertmanager", recorded(r.t, "alertmanager/v4-firing-first-notification.json"), summary("2 firing, 0 resolved")},
		{"generic", genericAlert("disk-1", "firing", "Disk filling on db-2", map[string]string{"service": "db"}), func() bool {
			ms := triageMessages(fake, triage)
			return len(ms) == 1 && strings.Contains(ms[0].Text, "1 firing")
		}},
		{"alertmanager", recorded(r.t, "alertmanager/v4-firing-one-resolved.json"), summary("1 firing, 1 resolved")},
		{"alertmanager", recorded(r.t, "alertmanager/v4-resolved-all.json"), asked},
	}
	for _, s := range steps {
		r.quiet()
		for tries := 0; !r.hook(s.source, s.body); tries++ {
			if tries == 10 {
				r.t.Fatalf("POST /hooks/%s was not acknowledged in 10 tries; logs:\n%s", s.source, r.logs)
			}
			r.quiet()
		}
		deadline := time.Now().Add(30 * time.Second)
		for !s.done() {
			r.alive()
			if time.Now().After(deadline) {
				r.t.Fatalf("the %s notification did not show in Slack within 30s; Slack shows:\n%s\nlogs:\n%s", s.source, slackState(fake), r.logs)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	r.quiet()
}

// alertRecord is every alert and group as recorded, one a line.
func (r *crashRun) alertRecord() string {
	r.t.Helper()
	alerts, err := r.db.RecordedAlerts(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	var b strings.Builder
	for _, a := range alerts {
		fmt.Fprintf(&b, "%s/%s %s group=%q incident=%v\n", a.Source, a.Key, a.Status, a.Group, a.IncidentID != "")
	}
	incs, err := r.db.List(context.Background(), incident.ListFilter{})
	if err != nil {
		r.t.Fatal(err)
	}
	fmt.Fprintf(&b, "%d incidents\n", len(incs))
	return b.String()
}

// TestAlertCrashes kills the program with SIGKILL at every Slack call that
// alerts cause, once just before Slack does the work and once just after,
// restarts it on the same database, and lets the senders resend what was
// not acknowledged. Every run must end as the run without crashes does: no
// acknowledged alert lost, no group declared twice, no summary or triage
// message posted twice, the same timeline.
func TestAlertCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dozens of subprocesses")
	}
	t.Parallel()
	clean, triage := newAlertCrashRun(t)
	before := apiCalls(clean.fake)
	clean.alertScript(triage)
	calls := apiCalls(clean.fake) - before
	wantSlack, wantTimeline, wantAlerts := slackState(clean.fake), clean.timeline(), clean.alertRecord()
	if calls < 8 {
		t.Fatalf("the script made only %d Slack calls; the test needs more to mean much", calls)
	}
	t.Logf("%d Slack calls in the alert script; killing the program before and after each: %d kill points", calls, 2*calls)
	var names []string
	for k := 1; k <= calls; k++ {
		names = append(names, fmt.Sprintf("before call %d", k), fmt.Sprintf("after call %d", k))
	}
	runWaiting(t, names, func(t *testing.T, i int) {
		k, after := i/2+1, i%2 == 1
		r, triage := newAlertCrashRun(t)
		var killed atomic.Bool
		crash := func() { killed.Store(true); r.kill() }
		fail := slackfake.Failure{Status: http.StatusInternalServerError, Skip: k - 1, Times: 1, Then: crash}
		if after {
			fail = slackfake.Failure{Lost: true, Skip: k - 1, Times: 1, Then: crash}
		}
		r.fake.Fail(slackfake.AnyMethod, fail)
		r.alertScript(triage)
		if !killed.Load() || r.restarts != 1 {
			t.Fatalf("killed %v, restarted %d times; want one kill and one restart", killed.Load(), r.restarts)
		}
		if got := slackState(r.fake); got != wantSlack {
			t.Errorf("Slack shows:\n%s\nwant:\n%s", got, wantSlack)
		}
		if got := r.timeline(); got != wantTimeline {
			t.Errorf("timeline:\n%s\nwant:\n%s", got, wantTimeline)
		}
		if got := r.alertRecord(); got != wantAlerts {
			t.Errorf("alerts recorded:\n%s\nwant:\n%s", got, wantAlerts)
		}
	})
	// And between the commit of each notification and its answer: the
	// sender, not hearing back, sends it again.
	var between []string
	for n := 1; n <= 4; n++ {
		between = append(between, fmt.Sprintf("after notification %d is committed", n))
	}
	runWaiting(t, between, func(t *testing.T, i int) {
		r, triage := newAlertCrashRun(t, crashAfterAlertsEnv, strconv.Itoa(i+1), crashMarkEnv, filepath.Join(t.TempDir(), "killed"))
		r.alertScript(triage)
		if r.restarts != 1 {
			t.Fatalf("restarted %d times; want one kill and one restart", r.restarts)
		}
		if got := slackState(r.fake); got != wantSlack {
			t.Errorf("Slack shows:\n%s\nwant:\n%s", got, wantSlack)
		}
		if got := r.timeline(); got != wantTimeline {
			t.Errorf("timeline:\n%s\nwant:\n%s", got, wantTimeline)
		}
		if got := r.alertRecord(); got != wantAlerts {
			t.Errorf("alerts recorded:\n%s\nwant:\n%s", got, wantAlerts)
		}
	})
}
