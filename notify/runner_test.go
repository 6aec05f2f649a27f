package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/notify"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// remote is the far side of the recording integration: a pager or tracker
// that keeps what it is sent, and can say whether it has a message with a
// given key (as Slack finds a message by its metadata), which is what lets
// the integration send each event exactly once across crashes.
type remote struct {
	mu   sync.Mutex
	got  []string // "incident#seq", in the order received
	keys map[string]bool
}

func (r *remote) send(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, key)
	if r.keys == nil {
		r.keys = map[string]bool{}
	}
	r.keys[key] = true
}

func (r *remote) has(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys[key]
}

func (r *remote) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// errCrash stands for the process dying between sending and saving.
var errCrash = errors.New("crash")

// recorder is a tiny integration on the shared runner: it sends every
// timeline event of every incident to the remote, once.
type recorder struct {
	remote *remote
	// crashAfter makes the pass "crash" right after sending the event with
	// this seq, before its progress is saved; 0 never.
	crashAfter int64
}

type recorderState struct {
	Sent    int64  `json:"sent"`    // the last seq sent
	Sending string `json:"sending"` // the key being sent, saved before sending
}

func (r *recorder) Name() string { return "recorder" }

func (r *recorder) Classify(err error) notify.Failure {
	if errors.Is(err, errCrash) {
		return notify.Failure{Wait: time.Hour} // the crashed process does nothing more
	}
	return notify.Failure{}
}

func (r *recorder) Deliver(ctx context.Context, inc *incident.Incident, events []incident.Event, d *incident.Delivery, save func() error) error {
	var st recorderState
	if len(d.State) > 0 {
		if err := json.Unmarshal(d.State, &st); err != nil {
			return err
		}
	}
	store := func() error {
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		d.State = b
		return save()
	}
	if st.Sending != "" {
		// A pass stopped between sending and saving: ask the remote.
		if r.remote.has(st.Sending) {
			var seq int64
			fmt.Sscanf(st.Sending, "%d#%d", new(int64), &seq)
			st.Sent = max(st.Sent, seq)
		}
		st.Sending = ""
		if err := store(); err != nil {
			return err
		}
	}
	for _, ev := range events {
		if ev.Seq <= st.Sent {
			continue
		}
		key := fmt.Sprintf("%d#%d", inc.Number, ev.Seq)
		st.Sending = key
		if err := store(); err != nil {
			return err
		}
		r.remote.send(key)
		if ev.Seq == r.crashAfter {
			return errCrash
		}
		st.Sent, st.Sending = ev.Seq, ""
		if err := store(); err != nil {
			return err
		}
	}
	return nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func open(t *testing.T, path string) (*sqlite.DB, *incident.Service) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, incident.NewService(db, incident.DefaultConfig(), time.Now)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// start runs a runner with one integration, and the service's change
// feed, until the test ends or stop is called.
func start(t *testing.T, svc *incident.Service, clk clock.Clock, in notify.Integration) (r *notify.Runner, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r = notify.New(svc, clk, quiet(), nil, in)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.Run(ctx) }()
	go func() { defer wg.Done(); svc.Watch(ctx, 20*time.Millisecond) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return r, stop
}

func seqs(t *testing.T, svc *incident.Service, numbers ...int64) []string {
	t.Helper()
	var out []string
	for _, n := range numbers {
		inc, err := svc.Get(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := svc.Events(context.Background(), inc.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			out = append(out, fmt.Sprintf("%d#%d", n, ev.Seq))
		}
	}
	return out
}

// TestSecondIntegrationExactlyOnce runs a second, tiny integration on the
// shared runner: it receives every event of changes made through the
// service, by this process or another, and a crash between sending an
// event and saving that it did neither loses nor repeats it.
func TestSecondIntegrationExactlyOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sitrep.db")
	_, svc := open(t, path)
	rem := &remote{}

	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout failing", Severity: "sev1", Actor: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddNote(ctx, inc.Number, "U1", "looking"); err != nil {
		t.Fatal(err)
	}
	// The third event will "crash" the first process after being sent.
	note, err := svc.AddNote(ctx, inc.Number, "U1", "rolling back")
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := svc.Events(ctx, note.ID, 0)
	_, stop := start(t, svc, clock.Real{}, &recorder{remote: rem, crashAfter: evs[len(evs)-1].Seq})
	eventually(t, "the crash", func() bool { return len(rem.received()) == 3 })
	stop()

	// A new process on the same database carries on.
	_, svc2 := open(t, path)
	start(t, svc2, clock.Real{}, &recorder{remote: rem})
	if _, err := svc2.AddNote(ctx, inc.Number, "U2", "rolled back"); err != nil {
		t.Fatal(err)
	}
	want := seqs(t, svc2, inc.Number)
	eventually(t, "every event delivered", func() bool { return len(rem.received()) >= len(want) })

	// A third process, sharing the database, makes changes without any
	// runner of its own: the second process's runner delivers them.
	_, other := open(t, path)
	inc2, err := other.Declare(ctx, incident.Declaration{Title: "Alert: disk full", Source: "alertmanager"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.TakeCommand(ctx, inc2.Number, "U3"); err != nil {
		t.Fatal(err)
	}
	want = seqs(t, svc2, inc.Number, inc2.Number)
	eventually(t, "the other process's changes delivered", func() bool { return len(rem.received()) >= len(want) })

	got := rem.received()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("remote received %v, want each of %v once", got, want)
	}
	eventually(t, "the recorder caught up with both incidents", func() bool {
		behind, err := svc2.Behind(ctx, "recorder")
		return err == nil && len(behind) == 0
	})
}

// failing refuses or fails every pass in a way the test chooses.
type failing struct {
	mu      sync.Mutex
	failure notify.Failure
	passes  int
}

func (f *failing) Name() string { return "failing" }
func (f *failing) Classify(error) notify.Failure {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failure
}
func (f *failing) Deliver(context.Context, *incident.Incident, []incident.Event, *incident.Delivery, func() error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.passes++
	return errors.New("refused")
}

// TestRefusalIsRecorded: a final failure is kept on the delivery for people
// to see, and retried on the fake clock's FinalRetry, not before.
func TestRefusalIsRecorded(t *testing.T) {
	ctx := context.Background()
	_, svc := open(t, filepath.Join(t.TempDir(), "sitrep.db"))
	f := &failing{failure: notify.Failure{Final: true, Problem: "the key was revoked"}}
	clk := clock.NewFake(time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC))
	start(t, svc, clk, f)

	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout failing", Actor: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the problem recorded", func() bool {
		d, _ := svc.Delivery(ctx, "failing", inc.ID)
		return d.Problem == "the key was revoked"
	})
	passes := func() int { f.mu.Lock(); defer f.mu.Unlock(); return f.passes }
	n := passes()
	clk.Advance(notify.FinalRetry - 2*time.Second)
	time.Sleep(50 * time.Millisecond)
	if passes() != n {
		t.Errorf("a refusal was retried before FinalRetry")
	}
	clk.Advance(2 * time.Second)
	eventually(t, "the retry after FinalRetry", func() bool { return passes() > n })
}

// flaky fails its first passes, then delivers; it counts its passes.
type flaky struct {
	mu       sync.Mutex
	failures int
	passes   int
	block    chan struct{} // when set, a pass waits for it
	final    bool          // its failures are refusals
}

func (f *flaky) Name() string { return "flaky" }
func (f *flaky) Classify(error) notify.Failure {
	f.mu.Lock()
	defer f.mu.Unlock()
	return notify.Failure{Final: f.final, Problem: "refused"}
}
func (f *flaky) Deliver(ctx context.Context, _ *incident.Incident, _ []incident.Event, _ *incident.Delivery, _ func() error) error {
	f.mu.Lock()
	f.passes++
	block, fail := f.block, f.failures > 0
	if fail {
		f.failures--
	}
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail {
		return errors.New("server error")
	}
	return nil
}

func (f *flaky) count() int { f.mu.Lock(); defer f.mu.Unlock(); return f.passes }

// TestAwait: Await answers with the first pass that starts after it, so a
// caller learns how its own change went, even when the commit already
// started a pass; and it is answered when the runner stops.
func TestAwait(t *testing.T) {
	ctx := context.Background()
	_, svc := open(t, filepath.Join(t.TempDir(), "sitrep.db"))
	// The declaration's own pass starts before Await can be called, so
	// it is held until then, and both it and the pass Await asks for
	// fail: whichever Await hears of is a failure.
	block := make(chan struct{})
	f := &flaky{failures: 2, block: block}
	r, stop := start(t, svc, clock.Real{}, f)

	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout failing", Actor: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the declaration's pass under way", func() bool { return f.count() == 1 })
	first := make(chan error, 1)
	go func() { first <- r.Await(ctx, "flaky", inc.Number) }()
	f.mu.Lock()
	f.block = nil // later passes run at once
	f.mu.Unlock()
	close(block)
	if err := <-first; err == nil || err.Error() != "server error" {
		t.Errorf("the first Await = %v, want a failed pass's server error", err)
	}
	if err := r.Await(ctx, "flaky", inc.Number); err != nil {
		t.Errorf("the second Await = %v, want the retried pass's success", err)
	}
	stop()
	if err := r.Await(ctx, "flaky", inc.Number); !errors.Is(err, notify.ErrStopped) {
		t.Errorf("Await after the runner stopped = %v, want ErrStopped", err)
	}
}

// TestDrain: draining finishes the pass under way and those due now, and
// returns without waiting for a retry due later.
func TestDrain(t *testing.T) {
	ctx := context.Background()
	_, svc := open(t, filepath.Join(t.TempDir(), "sitrep.db"))
	block := make(chan struct{})
	f := &flaky{block: block}
	r := notify.New(svc, clock.Real{}, quiet(), nil, f)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	a, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout failing", Actor: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the pass under way", func() bool { return f.count() == 1 })
	f.mu.Lock()
	f.failures = 1 // the next pass fails, and its retry is due in a second or more
	f.mu.Unlock()
	if _, err := svc.AddNote(ctx, a.Number, "U1", "a change while the pass runs"); err != nil {
		t.Fatal(err)
	}
	r.Drain()
	select {
	case <-done:
		t.Fatal("Run returned with a pass under way")
	default:
	}
	close(block)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a drained runner did not return")
	}
	if n := f.count(); n != 2 {
		t.Errorf("%d passes, want 2: the one under way, and the one the note asked for (its retry is left to the next start)", n)
	}
}

// TestChangeDuringARefusedPass: refused work waits FinalRetry, but a change
// made while the refused pass ran gets its own pass at once.
func TestChangeDuringARefusedPass(t *testing.T) {
	ctx := context.Background()
	_, svc := open(t, filepath.Join(t.TempDir(), "sitrep.db"))
	block := make(chan struct{})
	f := &flaky{block: block, failures: 1, final: true}
	clk := clock.NewFake(time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC))
	start(t, svc, clk, f)

	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout failing", Actor: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first pass", func() bool { return f.count() == 1 })
	if _, err := svc.AddNote(ctx, inc.Number, "U1", "made while the pass is refused"); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.block = nil
	f.mu.Unlock()
	close(block) // the pass is refused now
	eventually(t, "a pass for the change, without waiting FinalRetry", func() bool { return f.count() == 2 })
}

// putOff puts off part of its first passes for a rate limit, then
// delivers.
type putOff struct {
	mu     sync.Mutex
	passes int
	later  int // how many passes put work off
}

func (p *putOff) Name() string                  { return "putoff" }
func (p *putOff) Classify(error) notify.Failure { return notify.Failure{} }
func (p *putOff) Deliver(context.Context, *incident.Incident, []incident.Event, *incident.Delivery, func() error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.passes++
	if p.passes <= p.later {
		return &notify.Later{Wait: 10 * time.Second}
	}
	return nil
}

func (p *putOff) count() int { p.mu.Lock(); defer p.mu.Unlock(); return p.passes }

// TestLater: a pass that put work off records no problem, leaves the
// delivery behind (a restart would finish it), and is passed again when
// the wait is over, not before; Await hears it as delivered.
func TestLater(t *testing.T) {
	ctx := context.Background()
	_, svc := open(t, filepath.Join(t.TempDir(), "sitrep.db"))
	clk := clock.NewFake(time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC))
	p := &putOff{later: 2}
	r, _ := start(t, svc, clk, p)
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout failing", Actor: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first pass", func() bool { return p.count() == 1 && clk.Waiting() > 0 })
	if err := r.Await(ctx, "putoff", inc.Number); err != nil {
		t.Fatalf("Await of a pass that put work off = %v, want nil: what people need is delivered", err)
	}
	if behind, _ := svc.Behind(ctx, "putoff"); !slices.Contains(behind, inc.Number) {
		t.Error("a delivery with work put off is not behind: a restart would not finish it")
	}
	if d, _ := svc.Delivery(ctx, "putoff", inc.ID); d.Problem != "" {
		t.Errorf("a put-off pass recorded the problem %q", d.Problem)
	}
	n := p.count()
	clk.Advance(9 * time.Second)
	time.Sleep(50 * time.Millisecond)
	if p.count() != n {
		t.Fatal("passed again before the wait was over")
	}
	clk.Advance(2 * time.Second)
	eventually(t, "caught up after the wait", func() bool {
		behind, _ := svc.Behind(ctx, "putoff")
		return len(behind) == 0 && p.count() == n+1
	})
}

// While an incident waits out a Later, changes to it are looked at within
// a tenth of a second, not each at once: under a flood of notes paced to
// Slack's rate, every note made a pass that re-read the whole backlog and
// posted nothing. Someone awaiting a pass still gets one at once.
func TestChangesDuringALaterWait(t *testing.T) {
	ctx := context.Background()
	_, svc := open(t, filepath.Join(t.TempDir(), "sitrep.db"))
	clk := clock.NewFake(time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC))
	p := &putOff{later: 1000}
	r, _ := start(t, svc, clk, p)
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout failing", Actor: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first pass", func() bool { return p.count() >= 1 && clk.Waiting() > 0 })
	time.Sleep(50 * time.Millisecond) // a pass for a change during the first would start now
	n := p.count()
	for i := range 5 {
		if _, err := svc.AddNote(ctx, inc.Number, "U1", fmt.Sprint("note ", i)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // a chance for a pass to start, were one due
	}
	if got := p.count(); got != n {
		t.Fatalf("%d passes for 5 notes during the wait, before a tenth of a second passed; want none", got-n)
	}
	clk.Advance(100 * time.Millisecond)
	eventually(t, "one pass for the notes", func() bool { return p.count() == n+1 })
	if err := r.Await(ctx, "putoff", inc.Number); err != nil {
		t.Fatalf("Await = %v", err)
	}
	if got := p.count(); got != n+2 {
		t.Errorf("Await during the wait made %d passes, want 1", got-n-1)
	}
}
