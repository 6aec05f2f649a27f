package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// crashNow is the time on the killed program's clock. It stands still, so
// that runs with and without crashes record the same times and no prompt
// falls due in the middle of the script.
var crashNow = time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)

const crashChildEnv = "SITREP_CRASH_CHILD"

// The crash child kills itself after the batch of alerts SITREP_CRASH_AFTER_ALERTS
// names, once: the file SITREP_CRASH_MARK records that it did.
const (
	crashAfterAlertsEnv = "SITREP_CRASH_AFTER_ALERTS"
	crashMarkEnv        = "SITREP_CRASH_MARK"
)

// crashOffsetEnv moves the child's clock on from crashNow by a duration.
const crashOffsetEnv = "SITREP_CRASH_CLOCK_OFFSET"

// TestCrashChild is not a test of its own: it is the program TestCrashes
// runs in a subprocess and kills. It serves as main does, with its settings
// from the environment, on a clock standing at crashNow, and prints the
// address it listens on.
func TestCrashChild(t *testing.T) {
	if os.Getenv(crashChildEnv) == "" {
		t.Skip("the program TestCrashes kills; it runs only as its subprocess")
	}
	now := crashNow
	// A run may start the program later on the same database: past an
	// escalation's wait, as if it had been down meanwhile.
	if d, err := time.ParseDuration(os.Getenv(crashOffsetEnv)); err == nil {
		now = now.Add(d)
	}
	p := program{
		getenv:    os.Getenv,
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		clock:     clock.NewFake(now),
		listening: func(a net.Addr) { fmt.Printf("sitrep-crash-child listening %s\n", a) },
	}
	if n, _ := strconv.Atoi(os.Getenv(crashAfterAlertsEnv)); n > 0 {
		// Killed once, as kill -9 does, right after the n-th batch of
		// alerts is committed and before its sender hears so. The mark
		// keeps the restarted program from dying there again.
		var batches atomic.Int64
		mark := os.Getenv(crashMarkEnv)
		p.alertsCommitted = func() {
			if batches.Add(1) != int64(n) {
				return
			}
			if f, err := os.OpenFile(mark, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
				f.Close()
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
	}
	if err := p.run(context.Background(), []string{"serve"}); err != nil {
		t.Fatal(err)
	}
}

// child is one run of the program in a subprocess.
type child struct {
	cmd    *exec.Cmd
	base   string        // "" if it died before it listened
	exited chan struct{} // closed once it has exited
}

// crashRun runs the scripted incident against subprocesses of the program
// on one database, restarting the program whenever it dies. It runs one
// process, or several replicas with requests spread over them round-robin
// as a load balancer does (replicas_test.go).
type crashRun struct {
	t    *testing.T
	fake *slackfake.Server
	w    *world
	env  []string
	db   incident.Store // the same database, read alongside the program
	logs *syncBuffer
	// slot is the environment a replica's process gets besides env, by
	// its place among the replicas (its own Slack address, say); nil for
	// none.
	slot func(i int) []string

	mu       sync.Mutex
	replicas []*child // one for a single process
	next     int      // the replica the next request goes to
	rollFrom int      // the replica a rolling restart begins with
	restarts int
}

func newCrashRun(t *testing.T) *crashRun { return newCrashRunIn(t, newWorld(t)) }

// newCrashRunIn is newCrashRun in w, with the extra settings (name, value,
// …) in the program's environment.
func newCrashRunIn(t *testing.T, w *world, extra ...string) *crashRun {
	return newCrashRunOn(t, w, 1, w.db, w.db, nil, extra...)
}

// newCrashRunOn starts n replicas of the program in w on the database the
// SITREP_DB setting dbSetting names, which the test reads through readDB
// (the same database, perhaps by another way in), with slot's and the
// extra settings in their environment.
func newCrashRunOn(t *testing.T, w *world, n int, dbSetting, readDB string, slot func(i int) []string, extra ...string) *crashRun {
	env := []string{crashChildEnv + "=1", "PATH=" + os.Getenv("PATH")}
	for k, v := range testEnv(w.fake, dbSetting, append([]string{"SITREP_ANNOUNCE_CHANNEL", w.announce}, extra...)...) {
		env = append(env, k+"="+v)
	}
	r := &crashRun{t: t, fake: w.fake, w: w, env: env, logs: &syncBuffer{}, slot: slot, replicas: make([]*child, n)}
	t.Cleanup(func() {
		r.mu.Lock()
		cs := slices.Clone(r.replicas)
		r.mu.Unlock()
		for _, c := range cs {
			if c != nil {
				c.cmd.Process.Kill()
				<-c.exited
			}
		}
	})
	r.alive()
	db, err := openDB(context.Background(), readDB, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r.db = db
	return r
}

// alive returns the replica the next request goes to, first starting
// again on the same database every replica that died.
func (r *crashRun) alive() *child {
	r.t.Helper()
	for i := range r.replicas {
		r.up(i)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.replicas[r.next%len(r.replicas)]
	r.next++
	return c
}

// up returns replica i running, starting it again if it died.
func (r *crashRun) up(i int) *child {
	r.t.Helper()
	for range 10 {
		r.mu.Lock()
		c := r.replicas[i]
		r.mu.Unlock()
		if c != nil && c.base != "" {
			select {
			case <-c.exited:
			default:
				return c
			}
		}
		if c != nil {
			r.mu.Lock()
			r.restarts++
			r.mu.Unlock()
		}
		c = r.spawn(i)
		r.mu.Lock()
		r.replicas[i] = c
		r.mu.Unlock()
	}
	r.t.Fatalf("the program would not stay up through 10 starts; logs:\n%s", r.logs)
	return nil
}

// spawn starts the program and waits until it listens or dies.
func (r *crashRun) spawn(i int) *child {
	r.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	r.mu.Lock()
	cmd.Env = slices.Clone(r.env)
	r.mu.Unlock()
	if r.slot != nil {
		cmd.Env = append(cmd.Env, r.slot(i)...) // the last of a name wins
	}
	cmd.Stderr = r.logs
	if len(r.replicas) > 1 {
		cmd.Stderr = &prefixWriter{prefix: fmt.Sprintf("[replica %d] ", i), w: r.logs}
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := &child{cmd: cmd, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "sitrep-crash-child listening "); ok {
				addr <- a
			}
		}
		cmd.Wait()
		close(c.exited)
	}()
	select {
	case a := <-addr:
		c.base = "http://" + a
	case <-c.exited: // killed while starting up: the caller starts another
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		r.t.Fatalf("the program did not listen within 30s; logs:\n%s", r.logs)
	}
	return c
}

// kill ends the program (every replica) at once, as kill -9 does, and
// returns once it has exited. The fake calls it in the middle of a Slack
// call.
func (r *crashRun) kill() {
	for i := range r.replicas {
		r.killReplica(i)
	}
}

// killReplica ends replica i at once, as kill -9 does, and returns once it
// has exited.
func (r *crashRun) killReplica(i int) {
	r.mu.Lock()
	c := r.replicas[i]
	r.mu.Unlock()
	if c == nil {
		return
	}
	c.cmd.Process.Kill()
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		r.t.Error("the program did not exit within 10s of SIGKILL")
	}
}

// quiet waits until the program has caught Slack up with the database and
// has stopped calling Slack, restarting it if it died meanwhile.
func (r *crashRun) quiet() {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	calls, since := -1, time.Now()
	for {
		r.alive()
		behind, err := r.db.Behind(context.Background(), "slack")
		if err != nil {
			r.t.Fatal(err)
		}
		n := len(r.fake.Calls(""))
		if n != calls || len(behind) > 0 {
			calls, since = n, time.Now()
		} else if time.Since(since) > 150*time.Millisecond {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("Sitrep did not settle within 30s (behind: %v); Slack shows:\n%s\nlogs:\n%s", behind, slackState(r.fake), r.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// slash sends a slash command as user in channel and reports whether the
// program answered it.
func (r *crashRun) slash(user, channel, text string) bool {
	r.t.Helper()
	c := r.alive()
	body := slashBody(user, channel, text, r.fake.NewResponseURL(), r.fake.NewTriggerIDFor(user))
	resp, err := http.DefaultClient.Do(signedRequest(r.t, c.base+"/slack/commands", body, r.now()))
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		r.t.Fatalf("/incident %s: HTTP %d", text, resp.StatusCode)
	}
	return true
}

// now is the time on the program's clock: crashNow, moved on by the
// latest SITREP_CRASH_CLOCK_OFFSET in its environment. Slack signs its
// requests at it, so that the program does not take them for replays.
func (r *crashRun) now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := crashNow
	for _, kv := range r.env {
		if v, ok := strings.CutPrefix(kv, crashOffsetEnv+"="); ok {
			if d, err := time.ParseDuration(v); err == nil {
				now = crashNow.Add(d)
			}
		}
	}
	return now
}

// crashStep is one command of the script and how to tell it took effect.
type crashStep struct {
	channel func() string
	command string
	done    func() bool
	// act, if set, is done in place of sending a command: something
	// that happens to Sitrep rather than through it.
	act func()
}

// script runs the scripted incident.
func (r *crashRun) script() { r.run(r.steps()) }

// steps is the scripted incident: declare, role, update, note, followup,
// resolve.
func (r *crashRun) steps() []crashStep {
	fake := r.fake
	var ch slackfake.Channel
	inChannel := func() string { return ch.ID }
	shows := func(s string) func() bool { return func() bool { return contains(texts(fake, ch.ID), s) } }
	return []crashStep{
		{channel: func() string { return r.w.general }, command: "declare sev1 Checkout failing", done: func() bool {
			var ok bool
			ch, ok = fake.ChannelByName("inc-1-checkout-failing")
			return ok
		}},
		{channel: inChannel, command: "role comms <@U2|bob>", done: shows("is now *comms*")},
		{channel: inChannel, command: "update Payments provider timing out; failing over", done: shows("Payments provider timing out")},
		{channel: inChannel, command: "note Database looks fine", done: shows("Database looks fine")},
		{channel: inChannel, command: "followup Add a canary stage <@U3|cat>", done: shows("added follow-up 1")},
		{channel: inChannel, command: "resolve Failed over to the secondary", done: shows("resolved incident #1")},
	}
}

// run runs steps. Before each command Sitrep is left to settle, so a kill
// never falls inside a request; a command whose answer is lost anyway is
// sent again only if it did not take effect, as a person would.
func (r *crashRun) run(steps []crashStep) {
	r.t.Helper()
	for _, s := range steps {
		r.step(s)
	}
	r.quiet()
}

// step runs one step of the script and waits until it shows in Slack.
func (r *crashRun) step(s crashStep) {
	r.t.Helper()
	r.quiet()
	switch {
	case s.act != nil:
		s.act()
	case !r.slash("U1", s.channel(), s.command):
		r.quiet()
		if !s.done() {
			r.slash("U1", s.channel(), s.command)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for !s.done() {
		r.alive()
		if time.Now().After(deadline) {
			r.t.Fatalf("%s did not show in Slack within 30s; Slack shows:\n%s\nlogs:\n%s", s, slackState(r.fake), r.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// String names the step in messages.
func (s crashStep) String() string {
	if s.act != nil {
		return "the step " + s.command
	}
	return "/incident " + s.command
}

// prefixWriter marks each line with the replica that wrote it.
type prefixWriter struct {
	prefix string
	w      *syncBuffer
	mu     sync.Mutex
	part   []byte // the start of a line not yet ended
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.part = append(p.part, b...)
	for {
		i := bytes.IndexByte(p.part, '\n')
		if i < 0 {
			break
		}
		p.w.Write(append([]byte(p.prefix), p.part[:i+1]...))
		p.part = p.part[i+1:]
	}
	return len(b), nil
}

// timeline is incident 1's timeline as recorded, one event a line.
func (r *crashRun) timeline() string {
	r.t.Helper()
	ctx := context.Background()
	inc, err := r.db.Get(ctx, 1)
	if err != nil {
		r.t.Fatal(err)
	}
	evs, err := r.db.Events(ctx, inc.ID, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%d %s %s %s %q %v\n", e.Seq, e.At.UTC().Format(time.RFC3339), e.Kind, e.Actor, e.Text, e.Data)
	}
	return b.String()
}

// TestCrashes kills the program with SIGKILL at every Slack call of a
// scripted incident, once just before Slack does the work and once just
// after (before the answer reaches Sitrep), restarts it on the same
// database, and finishes the script. Every run must end where the run
// without crashes does: the same channels, members, topics, pins and
// messages in Slack, and the same timeline.
func TestCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dozens of subprocesses")
	}
	t.Parallel() // each run has its own fake Slack, database and subprocess
	clean := newCrashRun(t)
	before := apiCalls(clean.fake)
	clean.script()
	calls := apiCalls(clean.fake) - before
	wantSlack, wantTimeline := slackState(clean.fake), clean.timeline()
	if calls < 20 {
		t.Fatalf("the script made only %d Slack calls; the test needs more to mean much", calls)
	}
	t.Logf("%d Slack calls in the script; killing the program before and after each: %d kill points", calls, 2*calls)
	type killPoint struct {
		call  int
		after bool
	}
	var points []killPoint
	var names []string
	for k := 1; k <= calls; k++ {
		for _, after := range []bool{false, true} {
			points = append(points, killPoint{k, after})
			if after {
				names = append(names, fmt.Sprintf("after call %d", k))
			} else {
				names = append(names, fmt.Sprintf("before call %d", k))
			}
		}
	}
	runWaiting(t, names, func(t *testing.T, i int) {
		k, after := points[i].call, points[i].after
		r := newCrashRun(t)
		var killed atomic.Bool
		crash := func() { killed.Store(true); r.kill() }
		fail := slackfake.Failure{Status: http.StatusInternalServerError, Skip: k - 1, Times: 1, Then: crash}
		if after {
			fail = slackfake.Failure{Lost: true, Skip: k - 1, Times: 1, Then: crash}
		}
		r.fake.Fail(slackfake.AnyMethod, fail)
		r.script()
		if !killed.Load() || r.restarts != 1 {
			t.Fatalf("killed %v, restarted %d times; want one kill and one restart", killed.Load(), r.restarts)
		}
		if got := slackState(r.fake); got != wantSlack {
			t.Errorf("Slack shows:\n%s\nwant:\n%s", got, wantSlack)
		}
		if got := r.timeline(); got != wantTimeline {
			t.Errorf("timeline:\n%s\nwant:\n%s", got, wantTimeline)
		}
	})
}
