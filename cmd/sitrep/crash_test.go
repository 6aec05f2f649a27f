package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
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
// on one database, restarting the program whenever it dies.
type crashRun struct {
	t    *testing.T
	fake *slackfake.Server
	w    *world
	env  []string
	db   *sqlite.DB // the same database, read alongside the program
	logs *syncBuffer

	mu       sync.Mutex
	cur      *child
	restarts int
}

func newCrashRun(t *testing.T) *crashRun { return newCrashRunIn(t, newWorld(t)) }

// newCrashRunIn is newCrashRun in w, with the extra settings (name, value,
// …) in the program's environment.
func newCrashRunIn(t *testing.T, w *world, extra ...string) *crashRun {
	env := []string{crashChildEnv + "=1", "PATH=" + os.Getenv("PATH")}
	for k, v := range testEnv(w.fake, w.db, append([]string{"SITREP_ANNOUNCE_CHANNEL", w.announce}, extra...)...) {
		env = append(env, k+"="+v)
	}
	r := &crashRun{t: t, fake: w.fake, w: w, env: env, logs: &syncBuffer{}}
	t.Cleanup(func() {
		r.mu.Lock()
		c := r.cur
		r.mu.Unlock()
		if c != nil {
			c.cmd.Process.Kill()
			<-c.exited
		}
	})
	r.alive()
	db, err := sqlite.Open(context.Background(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r.db = db
	return r
}

// alive returns the running program, starting it again on the same
// database if it died.
func (r *crashRun) alive() *child {
	r.t.Helper()
	for range 10 {
		r.mu.Lock()
		c := r.cur
		r.mu.Unlock()
		if c != nil && c.base != "" {
			select {
			case <-c.exited:
			default:
				return c
			}
		}
		if c != nil {
			r.restarts++
		}
		c = r.spawn()
		r.mu.Lock()
		r.cur = c
		r.mu.Unlock()
	}
	r.t.Fatalf("the program would not stay up through 10 starts; logs:\n%s", r.logs)
	return nil
}

// spawn starts the program and waits until it listens or dies.
func (r *crashRun) spawn() *child {
	r.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = r.env
	cmd.Stderr = r.logs
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

// kill ends the program at once, as kill -9 does, and returns once it has
// exited. The fake calls it in the middle of a Slack call.
func (r *crashRun) kill() {
	r.mu.Lock()
	c := r.cur
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
	resp, err := http.DefaultClient.Do(signedRequest(r.t, c.base+"/slack/commands", body, crashNow))
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		r.t.Fatalf("/incident %s: HTTP %d", text, resp.StatusCode)
	}
	return true
}

// crashStep is one command of the script and how to tell it took effect.
type crashStep struct {
	channel func() string
	command string
	done    func() bool
}

// script runs the scripted incident. Before each command Sitrep is left to
// settle, so a kill never falls inside a request; a command whose answer is
// lost anyway is sent again only if it did not take effect, as a person
// would.
func (r *crashRun) script() {
	r.t.Helper()
	fake := r.fake
	var ch slackfake.Channel
	inChannel := func() string { return ch.ID }
	shows := func(s string) func() bool { return func() bool { return contains(texts(fake, ch.ID), s) } }
	steps := []crashStep{
		{func() string { return r.w.general }, "declare sev1 Checkout failing", func() bool {
			var ok bool
			ch, ok = fake.ChannelByName("inc-1-checkout-failing")
			return ok
		}},
		{inChannel, "role comms <@U2|bob>", shows("is now *comms*")},
		{inChannel, "update Payments provider timing out; failing over", shows("Payments provider timing out")},
		{inChannel, "note Database looks fine", shows("Database looks fine")},
		{inChannel, "followup Add a canary stage <@U3|cat>", shows("added follow-up 1")},
		{inChannel, "resolve Failed over to the secondary", shows("resolved incident #1")},
	}
	for _, s := range steps {
		r.quiet()
		if !r.slash("U1", s.channel(), s.command) {
			r.quiet()
			if !s.done() {
				r.slash("U1", s.channel(), s.command)
			}
		}
		deadline := time.Now().Add(30 * time.Second)
		for !s.done() {
			r.alive()
			if time.Now().After(deadline) {
				r.t.Fatalf("/incident %s did not show in Slack within 30s; Slack shows:\n%s\nlogs:\n%s", s.command, slackState(fake), r.logs)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	r.quiet()
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
