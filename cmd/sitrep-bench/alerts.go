package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// hookSecret is the bearer token both servers take on /hooks/alertmanager.
const hookSecret = "bench-hook-secret-2d7be41c"

// alertConfig is the program's config file in the alert runs: critical
// alerts declare an incident per Alertmanager group, as the README's
// example routes do; the cap on declarations and everything else keep
// their defaults.
const alertConfig = `alerts:
  routes:
    - name: pages
      matchers: ['severity="critical"']
      action: declare
`

// alertRun compares the servers on Alertmanager notifications.
type alertRun struct {
	servers [2]serverStats
	// alertsSent is how many alerts the measured notifications to Sitrep
	// carried; committed how many of them the database holds after the
	// run (counted there, not from the answers).
	alertsSent, committed int
	// answered is the alerts Sitrep acknowledged with a 2xx, warm-up
	// included, and inDB every alert row in its database at the end: the
	// two must agree, or an acknowledged alert was lost.
	answered, inDB int
	incidents      int // incidents the alerts declared
	groups         int // alert groups in the database
}

// committedRate is the alerts committed a second of Sitrep's measured
// rounds.
func (r alertRun) committedRate() float64 {
	if r.servers[srvSitrep].wall <= 0 {
		return 0
	}
	return float64(r.committed) / r.servers[srvSitrep].wall.Seconds()
}

// ratio is Sitrep's p99 over the minimal server's.
func (r alertRun) ratio() float64 {
	m := r.servers[srvMinimal].percentile(0.99)
	if m == 0 {
		return 0
	}
	return float64(r.servers[srvSitrep].percentile(0.99)) / float64(m)
}

// stormRun is what a storm of one group's alerts made Sitrep do in Slack.
type stormRun struct {
	alerts     int            // alerts sent, all of one Alertmanager group
	bodies     int            // notifications they came in
	took       time.Duration  // from the first notification sent to the last answered
	errors     int            // notifications not answered 2xx
	firstErr   string         // the first such answer
	inDB       int            // alerts in the database afterwards
	incidents  int            // incidents in the database afterwards
	calls      map[string]int // Web API calls the fake Slack answered, by method
	quietAfter time.Duration  // from the last answer until Slack went quiet
	summary    string         // the incident's alert summary, as last shown
}

func (s stormRun) totalCalls() int {
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// alertBody is one Alertmanager webhook notification (payload version 4),
// shaped as testdata/shared/integrations/alertmanager/v4-firing-first-notification.json
// is: the alerts of one group that changed, each with its own fingerprint.
type alertBody struct {
	Receiver           string            `json:"receiver"`
	Status             string            `json:"status"`
	Alerts             []alertEntry      `json:"alerts"`
	NotificationReason string            `json:"notification_reason"`
	GroupLabels        map[string]string `json:"groupLabels"`
	CommonLabels       map[string]string `json:"commonLabels"`
	CommonAnnotations  map[string]string `json:"commonAnnotations"`
	RouteLabels        map[string]string `json:"routeLabels"`
	ExternalURL        string            `json:"externalURL"`
	Version            string            `json:"version"`
	GroupKey           string            `json:"groupKey"`
	TruncatedAlerts    int               `json:"truncatedAlerts"`
}

type alertEntry struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// notification builds the body of one notification of group (a service
// name): count firing alerts numbered from first, each on its own
// instance with its own fingerprint, so that every one is new to Sitrep.
func notification(group string, first, count int, now time.Time) []byte {
	common := map[string]string{"alertname": "HighErrorRate", "job": group + "-api", "service": group, "severity": "critical"}
	m := alertBody{
		Receiver: "sitrep", Status: "firing", NotificationReason: "first notification",
		GroupLabels:       map[string]string{"alertname": "HighErrorRate", "service": group},
		CommonLabels:      common,
		CommonAnnotations: map[string]string{"runbook_url": "https://runbooks.example.internal/" + group + "/high-error-rate"},
		RouteLabels:       map[string]string{},
		ExternalURL:       "http://alertmanager.example.internal:9093",
		Version:           "4",
		GroupKey:          fmt.Sprintf(`{}:{alertname="HighErrorRate", service=%q}`, group),
	}
	starts := now.Add(-90 * time.Second).UTC().Format("2006-01-02T15:04:05.000Z")
	for n := first; n < first+count; n++ {
		instance := fmt.Sprintf("web-%d", n)
		labels := maps.Clone(common)
		labels["instance"] = instance
		m.Alerts = append(m.Alerts, alertEntry{
			Status: "firing",
			Labels: labels,
			Annotations: map[string]string{
				"description": fmt.Sprintf("Error ratio is %.1f%% (threshold 5%%).", 5+float64(n%50)/10),
				"runbook_url": "https://runbooks.example.internal/" + group + "/high-error-rate",
				"summary":     "5xx ratio above 5% on " + instance,
			},
			StartsAt: starts, EndsAt: "0001-01-01T00:00:00Z",
			GeneratorURL: "http://prometheus.example.internal:9090/graph?g0.expr=job%3Ahttp_5xx_ratio%3Arate5m+%3E+0.05&g0.tab=1",
			// Distinct numbers make distinct fingerprints: multiplying by
			// an odd constant is a bijection on 64 bits.
			Fingerprint: fmt.Sprintf("%016x", uint64(n)*0x9e3779b97f4a7c15),
		})
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	return b
}

// startAlerting starts the program with Alertmanager's source on and the
// alert routes, on a new database, and waits until it is ready.
func (e *environment) startAlerting(ctx context.Context) (*process, string, error) {
	cfgPath := filepath.Join(e.dir, "alerts.yaml")
	if err := os.WriteFile(cfgPath, []byte(alertConfig), 0o644); err != nil {
		return nil, "", err
	}
	p, err := e.startSitrep("", "SITREP_CONFIG="+cfgPath, "SITREP_HOOK_SECRET_ALERTMANAGER="+hookSecret, "SITREP_ANNOUNCE_CHANNEL="+e.general)
	if err != nil {
		return nil, "", err
	}
	if _, err := p.waitReady(ctx, readyLimit); err != nil {
		p.kill()
		return nil, "", err
	}
	return p, filepath.Join(filepath.Dir(p.log), "sitrep.db"), nil
}

// alertSender posts notifications to both servers.
type alertSender struct {
	e      *environment
	client *http.Client
}

func newAlertSender(e *environment, senders int) *alertSender {
	tr := &http.Transport{MaxIdleConns: 4 * senders, MaxIdleConnsPerHost: 2 * senders, IdleConnTimeout: 90 * time.Second}
	return &alertSender{e: e, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// post sends one notification as Alertmanager does (JSON, the bearer
// token of its http_config) and returns the answer and how long it took,
// from sending to reading the whole answer.
func (s *alertSender) post(ctx context.Context, base string, body []byte) (status int, answer []byte, took time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/hooks/alertmanager", bytes.NewReader(body))
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Alertmanager/0.28.1")
	req.Header.Set("Authorization", "Bearer "+hookSecret)
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, time.Since(start), err
	}
	answer, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	took = time.Since(start)
	if err != nil {
		return resp.StatusCode, answer, took, fmt.Errorf("read answer: %w", err)
	}
	return resp.StatusCode, answer, took, nil
}

// send posts bodies from senders concurrent senders, each as soon as its
// previous one is answered, adding the latencies to st. It returns how
// many were answered 2xx.
func (s *alertSender) send(ctx context.Context, base string, bodies [][]byte, senders int, st *serverStats) (int, error) {
	n := len(bodies)
	durs := make([]time.Duration, n)
	failed := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range min(senders, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				status, answer, took, err := s.post(ctx, base, bodies[i])
				switch {
				case err != nil:
					failed[i] = err.Error()
				case status != http.StatusOK:
					failed[i] = fmt.Sprintf("HTTP %d: %.200s", status, answer)
				}
				durs[i] = took
			}
		})
	}
	wg.Wait()
	st.wall += time.Since(start)
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return st.record(failed, durs), nil
}

// alertGroups is how many Alertmanager groups the intake load spreads
// over: more than the default cap on declarations a minute (5), so that
// some groups declare and the rest wait in triage, as in a bad hour.
const alertGroups = 8

// alertIntake measures POST /hooks/alertmanager on the program and on the
// minimal server, in alternating rounds, and counts in the program's
// database what it committed.
func (e *environment) alertIntake(ctx context.Context, logf func(string, ...any)) (alertRun, error) {
	cfg := e.cfg
	var run alertRun
	sitrep, db, err := e.startAlerting(ctx)
	if err != nil {
		return run, err
	}
	defer sitrep.kill()
	minimal, err := e.startBaseline(ctx)
	if err != nil {
		return run, err
	}
	defer minimal.kill()

	sender := newAlertSender(e, cfg.alertSenders)
	bases := [2]string{sitrep.base, minimal.base}
	number := 0
	// batch builds n notifications, the groups taking turns.
	batch := func(n int) [][]byte {
		out := make([][]byte, n)
		now := time.Now()
		for i := range out {
			out[i] = notification(fmt.Sprintf("svc-%d", number%alertGroups), number*cfg.alertsPerBody, cfg.alertsPerBody, now)
			number++
		}
		return out
	}
	answered := 0
	var discard [2]serverStats
	for done := 0; done < cfg.alertWarmup; done += cfg.alertRound {
		count := min(cfg.alertRound, cfg.alertWarmup-done)
		for s := range 2 {
			ok, err := sender.send(ctx, bases[s], batch(count), cfg.alertSenders, &discard[s])
			if err != nil {
				return run, err
			}
			if s == srvSitrep {
				answered += ok * cfg.alertsPerBody
			}
		}
	}
	for s := range discard {
		if discard[s].errors > 0 {
			return run, fmt.Errorf("alert intake warm-up, %s: %d notifications failed; first: %s\n%s", serverNames[s], discard[s].errors, discard[s].firstErr, sitrep.logTail())
		}
	}
	before, err := countRows(ctx, db, "alerts")
	if err != nil {
		return run, err
	}
	for s := range run.servers {
		run.servers[s].durs = make([]time.Duration, 0, cfg.alertBodies)
	}
	for r, done := 0, 0; done < cfg.alertBodies; r, done = r+1, done+cfg.alertRound {
		order := []int{srvSitrep, srvMinimal}
		if r%2 == 1 {
			slices.Reverse(order)
		}
		count := min(cfg.alertRound, cfg.alertBodies-done)
		for _, s := range order {
			ok, err := sender.send(ctx, bases[s], batch(count), cfg.alertSenders, &run.servers[s])
			if err != nil {
				return run, err
			}
			if s == srvSitrep {
				run.alertsSent += count * cfg.alertsPerBody
				answered += ok * cfg.alertsPerBody
			}
		}
	}
	after, err := countRows(ctx, db, "alerts")
	if err != nil {
		return run, err
	}
	run.committed, run.answered, run.inDB = after-before, answered, after
	if run.incidents, err = countRows(ctx, db, "incidents"); err != nil {
		return run, err
	}
	if run.groups, err = countRows(ctx, db, "alert_groups"); err != nil {
		return run, err
	}
	logf("alerts: %d alerts answered 2xx, %d in the database", run.answered, run.inDB)
	if _, _, err := sitrep.stop(cfg.stopGrace); err != nil {
		return run, err
	}
	if _, _, err := minimal.stop(cfg.stopGrace); err != nil {
		return run, err
	}
	return run, nil
}

// alertStorm sends cfg.storm alerts of one group to a new program, from
// the same number of senders, and counts the Slack calls it makes
// because of them until it has shown them all and gone quiet.
func (e *environment) alertStorm(ctx context.Context, logf func(string, ...any)) (stormRun, error) {
	cfg := e.cfg
	run := stormRun{alerts: cfg.storm, calls: map[string]int{}}
	sitrep, db, err := e.startAlerting(ctx)
	if err != nil {
		return run, err
	}
	defer sitrep.kill()
	// The program's start-up calls (auth.test and the like) are not the
	// storm's.
	if err := e.quiet(ctx, time.Second); err != nil {
		return run, fmt.Errorf("the program did not go quiet after starting: %w", err)
	}
	callsBefore := len(e.fake.Calls(""))
	known := map[string]bool{}
	for _, ch := range e.fake.Channels() {
		known[ch.ID] = true
	}
	var bodies [][]byte
	now := time.Now()
	for first := 0; first < cfg.storm; first += cfg.stormPerBody {
		// The storm's alerts are numbered apart from the intake run's.
		bodies = append(bodies, notification("storm", 1_000_000_000+first, min(cfg.stormPerBody, cfg.storm-first), now))
	}
	run.bodies = len(bodies)
	sender := newAlertSender(e, cfg.alertSenders)
	var st serverStats
	if _, err := sender.send(ctx, sitrep.base, bodies, cfg.alertSenders, &st); err != nil {
		return run, err
	}
	answeredAt := time.Now()
	run.took, run.errors, run.firstErr = st.wall, st.errors, st.firstErr

	// Slack has seen the whole storm once the summary counts every alert
	// and no call has been made for a while.
	want := fmt.Sprintf("%d firing", cfg.storm)
	err = waitFor(ctx, 2*time.Minute, func() bool {
		// The storm's incident channel is the one the program made since
		// the storm began.
		for _, ch := range e.fake.Channels() {
			if known[ch.ID] || ch.Creator != e.fake.BotUserID() {
				continue
			}
			for _, m := range e.fake.Messages(ch.ID) {
				if strings.HasPrefix(m.Text, "Alerts of incident") {
					run.summary = m.Text
				}
			}
		}
		return strings.Contains(run.summary, want)
	})
	if err != nil {
		var names []string
		for _, ch := range e.fake.Channels() {
			names = append(names, ch.Name)
		}
		return run, fmt.Errorf("the storm's alert summary never said %q (last: %q; channels %s)\n%s", want, run.summary, strings.Join(names, ", "), sitrep.logTail())
	}
	if err := e.quiet(ctx, 3*time.Second); err != nil {
		return run, fmt.Errorf("the program did not go quiet after the storm: %w", err)
	}
	run.quietAfter = time.Since(answeredAt) - 3*time.Second
	for _, c := range e.fake.Calls("")[callsBefore:] {
		run.calls[c.Method]++
	}
	if run.inDB, err = countRows(ctx, db, "alerts"); err != nil {
		return run, err
	}
	if run.incidents, err = countRows(ctx, db, "incidents"); err != nil {
		return run, err
	}
	logf("storm: %d alerts in the database, %d incidents, %d Slack calls", run.inDB, run.incidents, run.totalCalls())
	if _, _, err := sitrep.stop(cfg.stopGrace); err != nil {
		return run, err
	}
	return run, nil
}

// quiet waits until the fake Slack has answered no call for d.
func (e *environment) quiet(ctx context.Context, d time.Duration) error {
	last, since := -1, time.Now()
	return waitFor(ctx, time.Minute, func() bool {
		if n := len(e.fake.Calls("")); n != last {
			last, since = n, time.Now()
		}
		return time.Since(since) > d
	})
}

// countRows counts a table's rows in the program's database, opened
// beside the running program as any reader would: what was acknowledged
// is committed, so it is there.
func countRows(ctx context.Context, path, table string) (int, error) {
	db, err := sql.Open("sqlite3", plainDSN(path))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s in %s: %w", table, path, err)
	}
	return n, nil
}
