package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// The servers compared, as indexes into latencyRun.servers.
const (
	srvSitrep = iota
	srvMinimal
)

var serverNames = [2]string{"Sitrep", "minimal"}

// serverStats is one server's side of a latency comparison.
type serverStats struct {
	durs     []time.Duration // one per measured request, in no particular order
	wall     time.Duration   // time spent sending the measured requests
	errors   int
	firstErr string
}

// percentile returns the q-quantile (0 < q <= 1) by the nearest-rank method.
func (s serverStats) percentile(q float64) time.Duration {
	d := slices.Clone(s.durs)
	slices.Sort(d)
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d))*q+0.999999) - 1
	return d[min(max(i, 0), len(d)-1)]
}

// record adds a round's requests: durs[i] is request i's latency, and
// failed[i] what was wrong with its answer ("" if nothing). It returns how
// many succeeded.
func (s *serverStats) record(failed []string, durs []time.Duration) int {
	ok := 0
	for i, f := range failed {
		if f != "" {
			if s.errors == 0 {
				s.firstErr = f
			}
			s.errors++
			continue
		}
		ok++
		s.durs = append(s.durs, durs[i])
	}
	return ok
}

func (s serverStats) rate() float64 {
	if s.wall <= 0 {
		return 0
	}
	return float64(len(s.durs)) / s.wall.Seconds()
}

// latencyRun compares the servers on one kind of command.
type latencyRun struct {
	command string // as typed, "/incident help"
	writes  bool   // each request writes to the timeline
	servers [2]serverStats
}

// ratio is Sitrep's p99 over the minimal server's.
func (r latencyRun) ratio() float64 {
	m := r.servers[srvMinimal].percentile(0.99)
	if m == 0 {
		return 0
	}
	return float64(r.servers[srvSitrep].percentile(0.99)) / float64(m)
}

// background is what Slack work the note run left behind.
type background struct {
	notes        int            // notes acknowledged (warm-up included)
	postedByEnd  int            // of them posted to the channel when the run ended
	postedByIdle int            // ... and after idling
	calls        map[string]int // Web API calls during the run, by method
	stopTook     time.Duration  // from SIGTERM to exit after idling
	stopKilled   bool           // it had not exited within -stop-grace
	warnLines    int            // WARN lines in the program's log
	errorLines   int            // ERROR lines in the program's log
}

// latency runs the program and the minimal server side by side, measures
// both on each command kind, and reads the program's memory before and
// after.
func (e *environment) latency(ctx context.Context, res *results, logf func(string, ...any)) error {
	var env []string
	if e.cfg.sitrepCPU != "" {
		abs, err := filepath.Abs(e.cfg.sitrepCPU)
		if err != nil {
			return err
		}
		env = append(env, "SITREP_CPUPROFILE="+abs)
	}
	sitrep, err := e.startSitrep("", env...)
	if err != nil {
		return err
	}
	defer sitrep.kill()
	e.latencyDB = filepath.Join(filepath.Dir(sitrep.log), "sitrep.db")
	if _, err := sitrep.waitReady(ctx, readyLimit); err != nil {
		return err
	}
	minimal, err := e.startBaseline(ctx)
	if err != nil {
		return err
	}
	defer minimal.kill()

	if err := sleep(ctx, e.cfg.idle); err != nil {
		return err
	}
	if res.memIdle, err = sitrep.memory(); err != nil {
		return err
	}

	l := newLoad(e, [2]string{sitrep.base, minimal.base})
	channel, err := l.declare(ctx)
	if err != nil {
		return fmt.Errorf("declare the benchmark's incident: %w\n%s", err, sitrep.logTail())
	}

	logf("latency: /incident help")
	help, err := l.compare(ctx, "help", false, e.general, func(int) string { return "help" }, func(body []byte) error {
		if !strings.Contains(string(body), "declare") {
			return fmt.Errorf("answer is not the help: %.200s", body)
		}
		return nil
	})
	if err != nil {
		return err
	}

	logf("latency: /incident note, in the incident's channel")
	callsBefore := len(e.fake.Calls(""))
	postsBefore := e.posts(channel)
	note, err := l.compare(ctx, "note", true, channel, func(i int) string {
		return fmt.Sprintf("note Rolled back build %d; error rate is falling", i)
	}, func(body []byte) error {
		if len(body) != 0 {
			return fmt.Errorf("note answered with a message: %.200s", body)
		}
		return nil
	})
	if err != nil {
		return err
	}
	res.latency = []latencyRun{help, note}
	bg := background{notes: e.cfg.warmup + e.cfg.requests, calls: map[string]int{}}
	bg.postedByEnd = e.posts(channel) - postsBefore
	for _, c := range e.fake.Calls("")[callsBefore:] {
		bg.calls[c.Method]++
	}
	if res.memAfterLoad, err = sitrep.memory(); err != nil {
		return err
	}

	if err := sleep(ctx, e.cfg.idle); err != nil {
		return err
	}
	if res.memAfterIdle, err = sitrep.memory(); err != nil {
		return err
	}
	bg.postedByIdle = e.posts(channel) - postsBefore
	logf("latency: stopping the program (it may finish acknowledged work for up to %s)", e.cfg.stopGrace)
	if bg.stopTook, bg.stopKilled, err = sitrep.stop(e.cfg.stopGrace); err != nil {
		return err
	}
	bg.warnLines = countInFile(sitrep.log, `"level":"WARN"`)
	bg.errorLines = countInFile(sitrep.log, `"level":"ERROR"`)
	res.background = bg
	if _, _, err := minimal.stop(e.cfg.stopGrace); err != nil {
		return err
	}
	return nil
}

// posts counts the messages the bot posted to a channel, thread replies
// included.
func (e *environment) posts(channel string) int {
	n := 0
	for _, m := range e.fake.Messages(channel) {
		if m.User == e.fake.BotUserID() && m.Subtype == "" {
			n++
		}
	}
	return n
}

// load sends signed slash commands to both servers.
type load struct {
	e       *environment
	bases   [2]string
	client  *http.Client
	counter atomic.Int64 // numbers the texts, so that every note differs
}

func newLoad(e *environment, bases [2]string) *load {
	// One transport for every client, keeping a connection per client to
	// each server, as a busy Slack would.
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4 * e.cfg.clients,
		MaxIdleConnsPerHost: 2 * e.cfg.clients,
		IdleConnTimeout:     90 * time.Second,
	}
	return &load{e: e, bases: bases, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// declare declares the incident the note commands go to and waits until
// the program has set it up in Slack and gone quiet. It returns the
// incident's channel.
func (l *load) declare(ctx context.Context) (string, error) {
	status, body, _, err := l.send(ctx, l.bases[srvSitrep], l.e.general, "declare sev2 Bench incident")
	switch {
	case err != nil:
		return "", err
	case status != http.StatusOK || !strings.Contains(string(body), "Declared incident #1"):
		return "", fmt.Errorf("declare answered %d: %.200s", status, body)
	}
	const name = "inc-1-bench-incident"
	var ch slackfake.Channel
	if err := waitFor(ctx, 30*time.Second, func() bool {
		var ok bool
		ch, ok = l.e.fake.ChannelByName(name)
		return ok
	}); err != nil {
		return "", fmt.Errorf("channel %s not created: %w", name, err)
	}
	// The declaration's own Slack work (card, pin, topic, checklist) must
	// not overlap the measurements.
	last, quietSince := -1, time.Now()
	if err := waitFor(ctx, 30*time.Second, func() bool {
		if n := len(l.e.fake.Calls("")); n != last {
			last, quietSince = n, time.Now()
		}
		return time.Since(quietSince) > time.Second
	}); err != nil {
		return "", fmt.Errorf("the program did not go quiet after the declaration: %w", err)
	}
	return ch.ID, nil
}

// compare measures both servers on one command: warm-up requests first,
// then the measured ones, in rounds of cfg.round requests that alternate
// between the servers (ABBA order), so that noise on the machine hits both
// alike. check judges the program's answers; the minimal server's must be
// empty 200s.
func (l *load) compare(ctx context.Context, sub string, writes bool, channel string, text func(int) string, check func(body []byte) error) (latencyRun, error) {
	cfg := l.e.cfg
	run := latencyRun{command: "/incident " + sub, writes: writes}
	checks := [2]func([]byte) error{check, func(body []byte) error {
		if len(body) != 0 {
			return fmt.Errorf("minimal server answered %.200s", body)
		}
		return nil
	}}
	var discard [2]serverStats
	for done := 0; done < cfg.warmup; done += cfg.round {
		for s := range 2 {
			if err := l.round(ctx, s, channel, text, checks[s], min(cfg.round, cfg.warmup-done), &discard[s]); err != nil {
				return run, err
			}
		}
	}
	for s := range discard {
		if discard[s].errors > 0 {
			return run, fmt.Errorf("%s warm-up: %d of %d requests failed; first: %s", serverNames[s], discard[s].errors, cfg.warmup, discard[s].firstErr)
		}
	}
	for s := range run.servers {
		run.servers[s].durs = make([]time.Duration, 0, cfg.requests)
	}
	for r, done := 0, 0; done < cfg.requests; r, done = r+1, done+cfg.round {
		order := []int{srvSitrep, srvMinimal}
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, s := range order {
			if err := l.round(ctx, s, channel, text, checks[s], min(cfg.round, cfg.requests-done), &run.servers[s]); err != nil {
				return run, err
			}
		}
	}
	return run, nil
}

// round sends n requests to one server from cfg.clients concurrent
// clients, adding the latencies to st.
func (l *load) round(ctx context.Context, server int, channel string, text func(int) string, check func([]byte) error, n int, st *serverStats) error {
	durs := make([]time.Duration, n)
	failed := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range min(l.e.cfg.clients, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				status, body, took, err := l.send(ctx, l.bases[server], channel, text(int(l.counter.Add(1))))
				switch {
				case err != nil:
					failed[i] = err.Error()
				case status != http.StatusOK:
					failed[i] = fmt.Sprintf("HTTP %d: %.200s", status, body)
				default:
					if err := check(body); err != nil {
						failed[i] = err.Error()
					}
				}
				durs[i] = took
			}
		})
	}
	wg.Wait()
	st.wall += time.Since(start)
	if err := ctx.Err(); err != nil {
		return err
	}
	st.record(failed, durs)
	return nil
}

// send posts one slash command, signed, to base and returns the answer and
// how long it took, from sending the request to reading the whole answer.
// The body is built and signed before the clock starts.
func (l *load) send(ctx context.Context, base, channel, text string) (status int, body []byte, took time.Duration, err error) {
	fake := l.e.fake
	form := slashBody(l.e.user, channel, text, fake.NewResponseURL(), fake.NewTriggerIDFor(l.e.user))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/slack/commands", strings.NewReader(form))
	if err != nil {
		return 0, nil, 0, err
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", slackSignature(signingSecret, ts, form))
	start := time.Now()
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, nil, time.Since(start), err
	}
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	took = time.Since(start)
	if err != nil {
		return resp.StatusCode, body, took, fmt.Errorf("read answer: %w", err)
	}
	return resp.StatusCode, body, took, nil
}

// slashBody builds a slash command's body as Slack sends it: its fields in
// Slack's order, form-encoded ("/" as %2F, spaces as "+"). See
// testdata/shared/slack-payloads/slash-command.body.txt.
func slashBody(user, channel, text, responseURL, triggerID string) string {
	fields := [][2]string{
		{"token", "verification-token-0000"}, {"team_id", "T0FAKETEAM"}, {"team_domain", "fake"},
		{"channel_id", channel}, {"channel_name", "whatever"}, {"user_id", user}, {"user_name", "bench"},
		{"command", "/incident"}, {"text", text}, {"api_app_id", "A0FAKEAPP"}, {"is_enterprise_install", "false"},
		{"response_url", responseURL}, {"trigger_id", triggerID},
	}
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(f[0] + "=" + url.QueryEscape(f[1]))
	}
	return b.String()
}

// slackSignature signs as Slack does: v0=hex(HMAC-SHA256(secret, "v0:ts:body")).
func slackSignature(secret, ts, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":" + body))
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// waitFor polls cond every 10 ms until it holds or limit passes.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
