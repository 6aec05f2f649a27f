package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/metrics"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/storage/postgres"
	"github.com/sitrep-dev/sitrep/storage/postgres/pgtest"
)

// startSkewed is start with the program on the system clock moved by
// skew, as on a machine whose clock is that far wrong.
func startSkewed(t *testing.T, fake *slackfake.Server, env map[string]string, skew time.Duration) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	in := &instance{t: t, fake: fake, cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
	p := program{
		getenv:    func(k string) string { return env[k] },
		stdout:    io.Discard,
		stderr:    in.logs,
		clockSkew: skew,
		listening: func(a net.Addr) { addr <- a },
	}
	go func() { in.done <- p.run(ctx, []string{"serve"}) }()
	select {
	case a := <-addr:
		in.base = "http://" + a.String()
	case err := <-in.done:
		t.Fatalf("sitrep exited at start-up: %v\nlogs:\n%s", err, in.logs)
	case <-time.After(20 * time.Second):
		t.Fatal("sitrep did not start listening within 20s")
	}
	t.Cleanup(func() { in.stop() })
	return in
}

// A replica whose clock runs 30 s fast, serving beside a right one on one
// database, runs on the database's clock: the times it records are the
// other's, not 30 s ahead; events stay in order by time as by sequence; a
// status-update prompt comes at its cadence, not 30 s early; nothing is
// done twice; and its log and /metrics say how far off its clock is.
// Timed only from below (nothing may happen early), so a slow machine
// cannot fail it.
func TestReplicaWithWrongClock(t *testing.T) {
	u := pgtest.Schema(t)
	w := newWorld(t)
	const cadence = 35 * time.Second
	conf := filepath.Join(t.TempDir(), "sitrep.yaml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("severities:\n  - {name: sev1, description: Major, cadence: %s}\n  - {name: sev2, description: Minor}\n", cadence)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := testEnv(w.fake, u, "SITREP_ANNOUNCE_CHANNEL", w.announce, "SITREP_CONFIG", conf)
	right := start(t, w.fake, env)
	fast := startSkewed(t, w.fake, env, 30*time.Second)

	// Declared on the right replica: the fast one, were it on its own
	// clock, would find the prompt due 30 s early. The notes come from
	// both.
	before := time.Now()
	ans, _ := right.slash(w.fake, "U1", w.general, "declare sev1 Checkout failing")
	if !strings.Contains(ans.Text, "Declared incident #1") {
		t.Fatalf("declare answered %+v\nlogs:\n%s", ans, right.logs)
	}
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = w.fake.ChannelByName("inc-1-checkout-failing"); return ok })
	card(t, w.fake, ch.ID)
	replicas := []*instance{right, fast}
	for i := range 6 {
		replicas[i%2].slash(w.fake, "U1", ch.ID, fmt.Sprintf("note note %d", i))
	}
	after := time.Now()

	// The prompt, from whichever replica: not before the cadence is up.
	var seen time.Time
	eventuallyWithin(t, cadence+30*time.Second, "the status-update prompt", func() bool {
		seen = time.Now()
		return len(prompts(w.fake, ch.ID, dueText)) > 0
	})
	if early := before.Add(cadence - 2*time.Second); seen.Before(early) {
		t.Errorf("the prompt was posted %v after the declaration, before its cadence of %v", seen.Sub(before).Round(time.Second), cadence)
	}
	for i := range 6 {
		eventually(t, fmt.Sprintf("note %d in the channel", i), func() bool { return contains(texts(w.fake, ch.ID), fmt.Sprintf("note %d", i)) })
	}
	// The fast replica says so, in its log and its metrics.
	if !strings.Contains(fast.logs.String(), "this machine's clock is 30s ahead of the database's") {
		t.Errorf("the fast replica did not warn of its clock:\n%s", fast.logs)
	}
	if strings.Contains(right.logs.String(), "this machine's clock is") {
		t.Errorf("the right replica warned of its clock:\n%s", right.logs)
	}
	if v, ok := metricValue(fast.scrape(t), "sitrep_clock_offset_seconds"); !ok || v > -28 || v < -32 {
		t.Errorf("the fast replica's sitrep_clock_offset_seconds = %v (served: %v), want about -30", v, ok)
	}
	if v, ok := metricValue(right.scrape(t), "sitrep_clock_offset_seconds"); !ok || v > 2 || v < -2 {
		t.Errorf("the right replica's sitrep_clock_offset_seconds = %v (served: %v), want about 0", v, ok)
	}
	for _, r := range replicas {
		r.stop()
	}

	msgs := texts(w.fake, ch.ID)
	for i := range 6 {
		if n := count(msgs, fmt.Sprintf("note %d", i)); n != 1 {
			t.Errorf("note %d is in the channel %d times, want once:\n%s", i, n, strings.Join(msgs, "\n"))
		}
	}
	if n := len(prompts(w.fake, ch.ID, dueText)); n != 1 {
		t.Errorf("%d status-update prompts, want one", n)
	}

	db, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	inc, err := db.Get(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := db.Events(context.Background(), inc.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	const slack = 2 * time.Second
	notes := 0
	for i, e := range evs {
		if i > 0 && e.At.Before(evs[i-1].At.Add(-slack)) {
			t.Errorf("event %d (%s) at %v is before event %d's %v: time and sequence disagree", e.Seq, e.Kind, e.At, evs[i-1].Seq, evs[i-1].At)
		}
		if e.Kind == incident.KindPrompt {
			if e.At.Before(before.Add(cadence - slack)) {
				t.Errorf("the prompt is recorded at %v, %v after the declaration, before its cadence", e.At, e.At.Sub(before))
			}
			continue
		}
		if e.At.Before(before.Add(-slack)) || e.At.After(after.Add(slack)) {
			t.Errorf("event %d (%s) is recorded at %v, outside %v..%v when it happened", e.Seq, e.Kind, e.At, before, after)
		}
		if e.Kind == incident.KindNote {
			notes++
		}
	}
	if notes != 6 {
		t.Errorf("%d notes recorded, want 6: %+v", notes, evs)
	}
	if inc.DeclaredAt.Before(before.Add(-slack)) || inc.DeclaredAt.After(after.Add(slack)) {
		t.Errorf("declared at %v, outside %v..%v when it happened", inc.DeclaredAt, before, after)
	}
}

// meterResult is one measurement a scriptedMeter gives.
type meterResult struct {
	offset time.Duration
	err    error
}

// scriptedMeter gives the measurements the test sends it, one per call.
type scriptedMeter chan meterResult

func (m scriptedMeter) ClockOffset(ctx context.Context, now func() time.Time) (time.Duration, time.Duration, error) {
	select {
	case r := <-m:
		return r.offset, time.Millisecond, r.err
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
}

// The program follows the database's clock: it corrects its own by each
// measurement, warns once when its clock is more than 2s off and says when
// it is back, and keeps the last correction when a measurement fails.
func TestFollowDatabaseClock(t *testing.T) {
	start := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	base := clock.NewFake(start)
	c := clock.NewCorrected(base, 0)
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	meter := make(scriptedMeter, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	meter <- meterResult{offset: 31 * time.Second}
	followDatabaseClock(ctx, meter, base, c, metrics.New(nil, "test", log), log)
	if got := c.Now(); !got.Equal(start.Add(31 * time.Second)) {
		t.Fatalf("corrected clock shows %v at start, want the database's %v", got, start.Add(31*time.Second))
	}
	const warning = "this machine's clock is 31s behind the database's"
	if n := strings.Count(logs.String(), warning); n != 1 {
		t.Fatalf("warned %d times, want once:\n%s", n, logs)
	}
	// next makes the follower measure again, giving it r, and waits
	// until it has applied want.
	next := func(r meterResult, want time.Duration) {
		t.Helper()
		eventually(t, "the follower to wait for its next measurement", func() bool { return base.Waiting() > 0 })
		meter <- r
		base.Advance(clockCheckEvery)
		eventually(t, fmt.Sprintf("the offset %v", want), func() bool { return c.Offset() == want && len(meter) == 0 })
	}
	next(meterResult{offset: 31200 * time.Millisecond}, 31200*time.Millisecond)
	next(meterResult{err: errors.New("connection refused")}, 31200*time.Millisecond)
	eventually(t, "the failed measurement logged", func() bool { return strings.Contains(logs.String(), "keeping the last correction") })
	next(meterResult{offset: -500 * time.Millisecond}, -500*time.Millisecond)
	eventually(t, "the clock said to be right again", func() bool { return strings.Contains(logs.String(), "within 2s of the database's again") })
	if n := strings.Count(logs.String(), "this machine's clock is 31s behind"); n != 1 {
		t.Errorf("warned %d times while off, want once:\n%s", n, logs)
	}
}

func TestClockWarning(t *testing.T) {
	for _, tc := range []struct {
		off  time.Duration
		want string
	}{
		{31 * time.Second, "this machine's clock is 31s behind the database's"},
		{-30*time.Second - 400*time.Millisecond, "this machine's clock is 30s ahead of the database's"},
		{90 * time.Minute, "this machine's clock is 1h30m0s behind the database's"},
	} {
		if got := clockWarning(tc.off); got != tc.want {
			t.Errorf("clockWarning(%v) = %q, want %q", tc.off, got, tc.want)
		}
	}
}
