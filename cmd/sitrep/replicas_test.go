package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/storage/postgres/pgtest"
)

// The replica tests run the crash tests' scripted incident through three
// replicas of the program on one PostgreSQL schema, reached through one
// tcpProxy so the database can be cut off, and one fake Slack, with
// requests spread round-robin over the replicas as a load balancer does.
// A replica that dies is started again, as a supervisor would.

var replicasSeed = flag.Uint64("replicas.seed", 0, "seed of TestReplicasKilled's kill points; 0 picks one from the time (the test logs it)")

const replicaCount = 3

// replicaRunsAtOnce bounds the runs of TestReplicasKilled at once. Each
// replica holds up to replicaPool connections and one more for its
// claims, and the test server's max_connections (100 by default) is
// shared with every other test using it.
const replicaRunsAtOnce = 3

// replicaPool is the most connections a replica's pool opens
// (pgx's pool_max_conns; its default is the number of CPUs, at least 4).
const replicaPool = 2

// slackRelay stands between each replica and the fake Slack, one address a
// replica, so that a kill point can kill the replica that made the call.
// It counts the Web API calls that change Slack, of all replicas together.
type slackRelay struct {
	calls atomic.Int64 // in all
	// step is the script's step now, and stepCalls the calls made since
	// it began.
	step, stepCalls atomic.Int64
	// kills are the calls at which the replica making the call is
	// killed: before the call reaches Slack, or after Slack did it and
	// before its answer reaches the replica.
	kills map[killPoint]bool // → after
	kill  func(replica int)

	mu     sync.Mutex
	killed []string    // what was killed where, in order
	fired  []killPoint // the kill points reached
}

// reached reports whether the kill point k was reached.
func (rl *slackRelay) reached(k killPoint) bool {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return slices.Contains(rl.fired, k)
}

var errKilled = errors.New("the replica was killed during this call")

// relayTransport forwards replica i's calls to Slack.
type relayTransport struct {
	relay *slackRelay
	i     int
}

func (t relayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rl := t.relay
	var k killPoint
	if changesSlack(req.URL.Path) {
		rl.calls.Add(1)
		k = killPoint{step: rl.step.Load(), call: rl.stepCalls.Add(1)}
	}
	after, armed := rl.kills[k]
	if armed && !after {
		rl.fire(t.i, k, "before", req)
		return nil, errKilled
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if armed {
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		rl.fire(t.i, k, "after", req)
		return nil, errKilled
	}
	return resp, err
}

// changesSlack reports whether the Web API method at path changes
// something in Slack. Only those are counted and killed at: reads differ
// from run to run (the names a replica has not looked up yet, the
// history read after a kill to find what was posted), and would move the
// kill points.
func changesSlack(path string) bool {
	method := path[strings.LastIndex(path, "/")+1:]
	for _, read := range []string{"auth.", "users.", "team.", "bots."} {
		if strings.HasPrefix(method, read) {
			return false
		}
	}
	for _, read := range []string{".info", ".list", ".history", ".members", ".replies"} {
		if strings.HasSuffix(method, read) {
			return false
		}
	}
	return true
}

// killPoint is a Slack call: the call-th of the script's step.
type killPoint struct{ step, call int64 }

// startStep counts calls from the start of step i.
func (rl *slackRelay) startStep(i int) {
	rl.step.Store(int64(i))
	rl.stepCalls.Store(0)
}

func (rl *slackRelay) fire(i int, k killPoint, when string, req *http.Request) {
	rl.mu.Lock()
	rl.fired = append(rl.fired, k)
	rl.killed = append(rl.killed, fmt.Sprintf("replica %d %s call %d of step %d (%s)", i, when, k.call, k.step, req.URL.Path))
	rl.mu.Unlock()
	rl.kill(i)
}

func (rl *slackRelay) done() []string {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return append([]string(nil), rl.killed...)
}

// replicaRun is a crashRun of replicaCount replicas on PostgreSQL, with the
// proxy that can cut them off from it and the relay that can kill them.
type replicaRun struct {
	*crashRun
	proxy *tcpProxy
	relay *slackRelay
}

// newReplicaRun starts replicaCount replicas on a schema of their own, the
// kill points armed from the start.
func newReplicaRun(t *testing.T, kills map[killPoint]bool) *replicaRun {
	t.Helper()
	u := pgtest.Schema(t)
	server, err := url.Parse(pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, server.Host)
	w := newWorld(t)
	fakeURL, err := url.Parse(w.fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	relay := &slackRelay{kills: kills}
	relays := make([]string, replicaCount)
	for i := range relays {
		rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: fakeURL.Scheme, Host: fakeURL.Host})
		rp.Transport = relayTransport{relay: relay, i: i}
		rp.ErrorLog = discardLog
		srv := httptest.NewServer(rp)
		t.Cleanup(srv.Close)
		relays[i] = srv.URL + fakeURL.Path
	}
	slot := func(i int) []string { return []string{"SLACK_API_URL=" + relays[i]} }
	// The replicas reach the database through the proxy; the test reads
	// it directly, so that it can while the replicas cannot.
	through, err := url.Parse(proxy.through(t, u))
	if err != nil {
		t.Fatal(err)
	}
	q := through.Query()
	q.Set("pool_max_conns", fmt.Sprint(replicaPool))
	through.RawQuery = q.Encode()
	r := newCrashRunOn(t, w, replicaCount, through.String(), u, slot)
	relay.kill = r.killReplica
	return &replicaRun{crashRun: r, proxy: proxy, relay: relay}
}

// promptDueText is the status-update prompt in the incident's channel.
const promptDueText = "a status update on incident #1 is due"

// promptStep lets the status-update prompt fall due: the program's clock
// stands still, so each replica in turn is started again with its clock
// past the sev1 cadence of 30 minutes from the update, as a rolling
// restart of a deploy would be, and one of them prompts: most often the
// first restarted, replica rollFrom.
func (r *crashRun) promptStep() crashStep {
	return crashStep{command: "prompt due", act: func() {
		r.mu.Lock()
		r.env = append(r.env, crashOffsetEnv+"=31m")
		r.mu.Unlock()
		for j := range r.replicas {
			i := (r.rollFrom + j) % len(r.replicas)
			r.killReplica(i)
			r.up(i)
		}
	}, done: func() bool {
		ch, ok := r.fake.ChannelByName("inc-1-checkout-failing")
		return ok && len(prompts(r.fake, ch.ID, promptDueText)) > 0
	}}
}

// promptScript is the scripted incident with a prompt falling due after
// the update.
func (r *crashRun) promptScript() []crashStep {
	steps := r.steps()
	return append(steps[:3:3], append([]crashStep{r.promptStep()}, steps[3:]...)...)
}

// replicaBaseline runs the script steps gives in one process on SQLite,
// the way Sitrep runs without replicas, and returns what Slack shows and
// the timeline.
func replicaBaseline(t *testing.T, steps func(r *crashRun) []crashStep) (slack, timeline string) {
	t.Helper()
	one := newCrashRun(t)
	one.run(steps(one))
	return slackState(one.fake), one.timeline()
}

// TestReplicasScript runs the scripted incident, with a prompt falling
// due, through three replicas on PostgreSQL with the requests spread over
// them, and through one process on SQLite: Slack shows the same, and the
// timeline is the same, each change once.
func TestReplicasScript(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a handful of subprocesses")
	}
	t.Parallel()
	r := newReplicaRun(t, nil)
	wantSlack, wantTimeline := replicaBaseline(t, (*crashRun).promptScript)
	r.run(r.promptScript())
	if got := slackState(r.fake); got != wantSlack {
		t.Errorf("Slack shows, through %d replicas:\n%s\nwant, as from one process:\n%s", replicaCount, got, wantSlack)
	}
	if got := r.timeline(); got != wantTimeline {
		t.Errorf("timeline, through %d replicas:\n%s\nwant, as from one process:\n%s", replicaCount, got, wantTimeline)
	}
	if n := len(prompts(r.fake, mustChannel(t, r.fake, "inc-1-checkout-failing").ID, promptDueText)); n != 1 {
		t.Errorf("%d prompts, want one", n)
	}
	if r.restarts != replicaCount {
		t.Errorf("%d restarts, want %d (the rolling restart that moves the clock)", r.restarts, replicaCount)
	}
}

// TestReplicasKilled kills replicas with SIGKILL at Slack calls of the
// scripted incident, three times a run: once during the declaration, once
// during the update and once during the prompt, each time the replica
// making the call, before Slack does it or after (before the answer
// reaches the replica). The calls are picked by a seed, logged so that a
// failure can be replayed with -replicas.seed. The killed replica is
// started again; every run ends where the run without kills does, each
// change once in Slack and in the timeline.
func TestReplicasKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dozens of subprocesses")
	}
	t.Parallel()
	clean := newReplicaRun(t, nil)
	steps := clean.promptScript()
	// The calls each step made, until Sitrep was quiet after it.
	var calls []int64
	for i, s := range steps {
		clean.quiet()
		clean.relay.startStep(i)
		clean.step(s)
		clean.quiet()
		calls = append(calls, clean.relay.stepCalls.Load())
	}
	wantSlack, wantTimeline := slackState(clean.fake), clean.timeline()
	phases := []struct {
		name string
		step int
	}{{"declare", 0}, {"update", 2}, {"prompt", 3}}
	for _, p := range phases {
		if calls[p.step] < 1 {
			t.Fatalf("the %s step made no Slack calls (calls by step: %v); there is nothing to kill it at", p.name, calls)
		}
	}
	t.Logf("Slack calls of each step: %v", calls)

	seed := *replicasSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("kill points from seed %d; replay with -replicas.seed=%d", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	const runs = 12
	var names []string
	var points []map[killPoint]bool
	for range runs {
		kills := map[killPoint]bool{}
		var name []string
		for _, p := range phases {
			k := killPoint{step: int64(p.step), call: 1 + rng.Int64N(calls[p.step])}
			after := rng.IntN(2) == 1
			kills[k] = after
			when := "before"
			if after {
				when = "after"
			}
			name = append(name, fmt.Sprintf("%s_%s_%d", p.name, when, k.call))
		}
		names = append(names, strings.Join(name, ","))
		points = append(points, kills)
	}
	// The clean run's replicas are done with; their connections are
	// better left to the runs.
	clean.kill()
	// A step's calls that change Slack are not always as many as in the
	// clean run (a card whose rendering did not change between two steps
	// is not updated again), so a kill point past them is not reached.
	// That is logged, and the test fails only if one of the phases was
	// never killed in any run: the harness would then prove nothing.
	var firedMu sync.Mutex
	fired := map[int64]int{}
	t.Cleanup(func() {
		t.Logf("kills that happened, by step: %v (declare is step 0, update 2, prompt 3)", fired)
		for _, p := range phases {
			if fired[int64(p.step)] == 0 && !t.Failed() {
				t.Errorf("no run killed a replica during the %s step", p.name)
			}
		}
	})
	runWaitingN(t, replicaRunsAtOnce, names, func(t *testing.T, i int) {
		r := newReplicaRun(t, points[i])
		r.rollFrom = i // so that each replica is the one prompting in turn
		steps := r.promptScript()
		for j, s := range steps {
			r.quiet()
			r.relay.startStep(j)
			r.step(s)
		}
		r.quiet()
		killed := r.relay.done()
		t.Logf("killed: %s", strings.Join(killed, "; "))
		firedMu.Lock()
		for k := range points[i] {
			if r.relay.reached(k) {
				fired[k.step]++
			}
		}
		firedMu.Unlock()
		if r.restarts != replicaCount+len(killed) {
			t.Errorf("killed %d times, restarted %d times; want a restart for each kill and %d for the rolling restart", len(killed), r.restarts, replicaCount)
		}
		if got := slackState(r.fake); got != wantSlack {
			t.Errorf("Slack shows:\n%s\nwant:\n%s", got, wantSlack)
		}
		if got := r.timeline(); got != wantTimeline {
			t.Errorf("timeline:\n%s\nwant:\n%s", got, wantTimeline)
		}
		if t.Failed() {
			t.Logf("logs:\n%s", r.logs)
		}
	})
}

// discardLog keeps the relays' reverse proxies from logging the calls cut
// by a kill, which are meant.
var discardLog = log.New(io.Discard, "", 0)

// outageCommands are sent while the database is cut off, one to each
// replica. A baseline without the outage has them as plain steps.
var outageCommands = []struct{ command, shows string }{
	{"note During the outage", "During the outage"},
	{"update Still failing over", "Still failing over"},
	{"status identified", "set the status to *identified*"},
}

// outageScript is the scripted incident with the outage's commands after
// the update, as they end up when nothing is lost.
func (r *crashRun) outageScript() []crashStep {
	steps := r.steps()
	var extra []crashStep
	for _, c := range outageCommands {
		extra = append(extra, crashStep{channel: steps[1].channel, command: c.command, done: r.showsInIncident(c.shows)})
	}
	return append(steps[:3:3], append(extra, steps[3:]...)...)
}

// showsInIncident reports whether the incident's channel shows s.
func (r *crashRun) showsInIncident(s string) func() bool {
	return func() bool {
		ch, ok := r.fake.ChannelByName("inc-1-checkout-failing")
		return ok && contains(texts(r.fake, ch.ID), s)
	}
}

// slashTo sends a slash command to replica c and returns its answer, how
// long it took, and whether it came at all (within answerLimit), readable;
// if not, the answer's Text says why. Commands may be sent from several
// goroutines at once.
func (r *crashRun) slashTo(c *child, user, channel, text string) (answer, time.Duration, bool) {
	r.t.Helper()
	body := slashBody(user, channel, text, r.fake.NewResponseURL(), r.fake.NewTriggerIDFor(user))
	client := &http.Client{Timeout: answerLimit}
	start := time.Now()
	resp, err := client.Do(signedRequest(r.t, c.base+"/slack/commands", body, r.now()))
	took := time.Since(start)
	if err != nil {
		return answer{Text: err.Error()}, took, false
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(data, &a); err != nil {
			return answer{Text: fmt.Sprintf("the answer is not JSON: %v: %s", err, data)}, took, false
		}
		a.Status = resp.StatusCode
	} else {
		a.Text = string(data)
	}
	return a, took, true
}

// waitReadyz waits until every replica's /readyz answers code, asking
// them all at once.
func (r *crashRun) waitReadyz(code int, what string) {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		codes := make([]int, len(r.replicas))
		var wg sync.WaitGroup
		for i, c := range r.replicas {
			wg.Go(func() { codes[i] = readyz(c.base) })
		}
		wg.Wait()
		if !slices.ContainsFunc(codes, func(c int) bool { return c != code }) {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s: they answer %v; logs:\n%s", what, codes, r.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// answerLimit is how long a test waits for an answer to a slash command.
// Slack gives up after 3 s; the bound is looser so that a busy machine
// does not fail the test, and the times are logged.
const answerLimit = 10 * time.Second

// outage is how long the database is cut off.
const outage = 10 * time.Second

// TestReplicasDatabaseStopped cuts three replicas off from PostgreSQL for
// 10 s in the middle of the scripted incident, the moment an update is
// acknowledged and while its Slack work is under way, as a database
// stopped does: connections end, new ones are refused. During the outage
// every replica's /readyz says 503, and a command to each is answered at
// once, either with a try-again that says the database is unreachable, or
// as done. Afterwards every replica is ready again without a restart, the
// acknowledged update and every command answered as done show in Slack
// without being sent again, the ones asked to be tried again are sent
// again, and the script finishes where one process without an outage
// does.
func TestReplicasDatabaseStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a handful of subprocesses and waits out a 10 s outage")
	}
	t.Parallel()
	testDatabaseOutage(t, func(p *tcpProxy, out bool) { p.setDown(out) })
}

// TestReplicasDatabaseUnreachable is TestReplicasDatabaseStopped with a
// database that stops answering rather than stopping: the network between
// drops everything for 10 s, and nothing is refused or closed.
func TestReplicasDatabaseUnreachable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a handful of subprocesses and waits out a 10 s outage")
	}
	t.Parallel()
	testDatabaseOutage(t, func(p *tcpProxy, out bool) { p.setHung(out) })
}

// testDatabaseOutage runs the scripted incident through three replicas,
// with the database out of reach for 10 s (cut(proxy, true) to its
// cut(proxy, false)) after the update.
func testDatabaseOutage(t *testing.T, cut func(p *tcpProxy, out bool)) {
	r := newReplicaRun(t, nil)
	wantSlack, wantTimeline := replicaBaseline(t, (*crashRun).outageScript)
	steps := r.steps()
	for _, s := range steps[:2] {
		r.step(s)
	}
	r.quiet()
	channel := steps[1].channel()

	// The update is acknowledged, and the database goes away at once.
	update := steps[2]
	ans, took, ok := r.slashTo(r.alive(), "U1", channel, update.command)
	cut(r.proxy, true)
	from := time.Now()
	if !ok || ans.Status != http.StatusOK {
		t.Fatalf("/incident %s before the outage: answered %v (%+v) after %s", update.command, ok, ans, took)
	}
	r.waitReadyz(http.StatusServiceUnavailable, "every replica's /readyz to say the database is unreachable")

	// A command to each replica meanwhile, all at once. A declaration
	// cannot be acknowledged without the database, which numbers it: it
	// is always a try-again, and is not sent again.
	type sent struct {
		ans  answer
		took time.Duration
		ok   bool
	}
	results := make([]sent, len(outageCommands)+1)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			c := r.replicas[i%len(r.replicas)]
			if i == len(outageCommands) {
				results[i].ans, results[i].took, results[i].ok = r.slashTo(c, "U1", r.w.general, "declare sev2 Search slow")
				return
			}
			results[i].ans, results[i].took, results[i].ok = r.slashTo(c, "U1", channel, outageCommands[i].command)
		})
	}
	wg.Wait()
	var again []int
	for i, res := range results {
		command := "declare sev2 Search slow"
		if i < len(outageCommands) {
			command = outageCommands[i].command
		}
		text := strings.ToLower(res.ans.All())
		t.Logf("/incident %s during the outage, to replica %d: answered in %s: %q", command, i%len(r.replicas), res.took.Round(time.Millisecond), res.ans.All())
		switch {
		case !res.ok:
			t.Errorf("/incident %s during the outage was not answered within %s (Slack gives up after 3 s): %s", command, answerLimit, res.ans.Text)
		case res.ans.Status != http.StatusOK:
			t.Errorf("/incident %s during the outage: HTTP %d %q; Slack shows the person an error without saying what to do", command, res.ans.Status, res.ans.All())
		case strings.Contains(text, "try again"):
			if !strings.Contains(text, "database") || !strings.Contains(text, "not") || !strings.Contains(text, "recorded") {
				t.Errorf("/incident %s during the outage: %q; want it to say Sitrep cannot reach its database, that nothing was done, and to try again", command, res.ans.All())
			}
		case i == len(outageCommands):
			t.Errorf("/incident %s during the outage: %q; want a try-again saying the database is unreachable", command, res.ans.All())
		default: // acknowledged: it must not be lost
			continue
		}
		if i < len(outageCommands) {
			again = append(again, i)
		}
	}
	r.waitReadyz(http.StatusServiceUnavailable, "every replica's /readyz to say the database is still unreachable")
	time.Sleep(time.Until(from.Add(outage)))
	cut(r.proxy, false)

	r.waitReadyz(http.StatusOK, "every replica's /readyz to recover")
	for i, c := range r.replicas {
		select {
		case <-c.exited:
			t.Errorf("replica %d exited during the outage; logs:\n%s", i, r.logs)
		default:
		}
	}
	if r.restarts != 0 {
		t.Fatalf("%d restarts; the replicas should recover by themselves", r.restarts)
	}
	// What was acknowledged shows without being sent again: the update
	// made before the cut, and the commands answered as done.
	eventuallyWithin(t, 30*time.Second, "the update acknowledged before the outage in Slack", update.done, r.logs.String)
	for i, oc := range outageCommands {
		if !slices.Contains(again, i) {
			eventuallyWithin(t, 30*time.Second, "/incident "+oc.command+", acknowledged during the outage, in Slack", r.showsInIncident(oc.shows), r.logs.String)
		}
	}
	// The ones to try again are, as a person would.
	for _, i := range again {
		oc := outageCommands[i]
		r.step(crashStep{channel: func() string { return channel }, command: oc.command, done: r.showsInIncident(oc.shows)})
	}
	r.run(steps[3:])

	if got := slackState(r.fake); got != wantSlack {
		t.Errorf("Slack shows, after the outage:\n%s\nwant, as from one process without it:\n%s", got, wantSlack)
	}
	if got := r.timeline(); got != wantTimeline {
		t.Errorf("timeline, after the outage:\n%s\nwant, as from one process without it:\n%s", got, wantTimeline)
	}
	if r.restarts != 0 {
		t.Errorf("%d restarts; the replicas should have stayed up", r.restarts)
	}
	if t.Failed() {
		t.Logf("logs:\n%s", r.logs)
	}
}
