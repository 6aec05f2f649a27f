package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/storage/postgres"
	"github.com/sitrep-dev/sitrep/storage/postgres/pgtest"
)

// overlap wraps an integration and records whether two passes over one
// incident ever ran at once, in any of the runners sharing it.
type overlap struct {
	*recorder
	mu      sync.Mutex
	running map[int64]int
	most    int
}

func (o *overlap) Deliver(ctx context.Context, inc *incident.Incident, events []incident.Event, d *incident.Delivery, save func() error) error {
	o.mu.Lock()
	o.running[inc.Number]++
	o.most = max(o.most, o.running[inc.Number])
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		o.running[inc.Number]--
		o.mu.Unlock()
	}()
	// Long enough for a second pass to start beside this one, were it
	// let in.
	time.Sleep(20 * time.Millisecond)
	return o.recorder.Deliver(ctx, inc, events, d, save)
}

// Three replicas share one PostgreSQL database, each with its own runner
// hearing of every change (its own and, through Watch, the others'). Each
// incident is passed over by one replica at a time, and every event is
// sent once, whichever replica recorded it.
func TestReplicasPassOneAtATime(t *testing.T) {
	ctx := context.Background()
	u := pgtest.Schema(t)
	rem := &remote{}
	o := &overlap{recorder: &recorder{remote: rem}, running: map[int64]int{}}
	var svcs []*incident.Service
	for range 3 {
		db, err := postgres.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		svc := incident.NewService(db, incident.DefaultConfig(), time.Now)
		start(t, svc, clock.Real{}, o)
		svcs = append(svcs, svc)
	}
	var numbers []int64
	for i := range 3 {
		inc, err := svcs[i].Declare(ctx, incident.Declaration{Title: fmt.Sprint("incident ", i), Severity: "sev2", Actor: "U1"})
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, inc.Number)
	}
	var wg sync.WaitGroup
	for r, svc := range svcs {
		wg.Go(func() {
			for i := range 10 {
				n := numbers[(r+i)%len(numbers)]
				if _, err := svc.AddNote(ctx, n, "U1", fmt.Sprintf("note %d from replica %d", i, r)); err != nil {
					t.Errorf("AddNote: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	want := seqs(t, svcs[0], numbers...)
	eventually(t, "every event sent", func() bool {
		got := rem.received()
		slices.Sort(got)
		return len(slices.Compact(got)) == len(want)
	})
	got := rem.received()
	sorted := slices.Clone(got)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(got) {
		t.Errorf("some events were sent twice: %v", got)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.most != 1 {
		t.Errorf("up to %d passes over one incident ran at once, want 1", o.most)
	}
}

// stalling passes over incident 1 send its first event and then wait for
// their context to end, as a replica that hangs or is cut off mid-pass.
type stalling struct {
	*recorder
	stalled chan struct{} // closed when a pass stalls
	once    sync.Once
	ended   chan error // the stalled pass's context error
}

func (s *stalling) Deliver(ctx context.Context, inc *incident.Incident, events []incident.Event, d *incident.Delivery, save func() error) error {
	if inc.Number != 1 || len(events) == 0 {
		return s.recorder.Deliver(ctx, inc, events, d, save)
	}
	// Send the first event as the recorder does, marker first.
	st := recorderState{Sending: fmt.Sprintf("%d#%d", inc.Number, events[0].Seq)}
	b, _ := json.Marshal(st)
	d.State = b
	if err := save(); err != nil {
		return err
	}
	s.remote.send(st.Sending)
	s.once.Do(func() { close(s.stalled) })
	<-ctx.Done()
	s.ended <- ctx.Err()
	return ctx.Err()
}

// A replica's claim on a pass is lost when its connection to the database
// dies (the database ends it, as for a killed process): its pass is
// stopped, and another replica takes the incident over and finishes it
// without sending twice what the first had sent.
func TestReplicaTakesOverALostPass(t *testing.T) {
	ctx := context.Background()
	u := pgtest.Schema(t)
	rem := &remote{}
	open := func() *incident.Service {
		db, err := postgres.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return incident.NewService(db, incident.DefaultConfig(), time.Now)
	}
	svcA, svcB := open(), open()
	stall := &stalling{recorder: &recorder{remote: rem}, stalled: make(chan struct{}), ended: make(chan error, 1)}
	start(t, svcA, clock.Real{}, stall)
	inc, err := svcA.Declare(ctx, incident.Declaration{Title: "stalls", Severity: "sev2", Actor: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svcA.AddNote(ctx, inc.Number, "U1", "a second event"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stall.stalled:
	case <-time.After(10 * time.Second):
		t.Fatal("replica A never started its pass")
	}
	start(t, svcB, clock.Real{}, &recorder{remote: rem})

	// End replica A's claim from the database's side.
	admin, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	tag, err := admin.Exec(ctx, `SELECT pg_terminate_backend(l.pid) FROM pg_locks l
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
			AND l.classid::bigint = (hashtext('sitrep ' || current_schema())::bigint & 4294967295)
			AND l.objid::bigint = (hashtext('notify/recorder/1')::bigint & 4294967295)`)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("end replica A's claim: %v, %d backends", err, tag.RowsAffected())
	}
	select {
	case err := <-stall.ended:
		if err == nil {
			t.Error("the stalled pass ended without its context ending")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("replica A's pass went on after its claim was lost")
	}
	want := seqs(t, svcB, inc.Number)
	eventually(t, "replica B to deliver everything", func() bool { return len(rem.received()) >= len(want) })
	if got := rem.received(); !slices.Equal(got, want) {
		t.Errorf("sent %v, want each of %v once, in order", got, want)
	}
}

// counting counts the claims a replica asks the database for.
type counting struct {
	*postgres.DB
	mu    sync.Mutex
	tries map[string]int
}

func (c *counting) TryExclusive(ctx context.Context, key string) (func(), <-chan struct{}, bool, error) {
	c.mu.Lock()
	c.tries[key]++
	c.mu.Unlock()
	return c.DB.TryExclusive(ctx, key)
}

func (c *counting) triesFor(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tries[key]
}

// holding passes over incident 1 wait until released, as a replica in the
// middle of a long pass does.
type holding struct {
	*recorder
	held    chan struct{} // closed when a pass is under way
	once    sync.Once
	release chan struct{}
}

func (h *holding) Deliver(ctx context.Context, inc *incident.Incident, events []incident.Event, d *incident.Delivery, save func() error) error {
	if inc.Number == 1 {
		h.once.Do(func() { close(h.held) })
		select {
		case <-h.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return h.recorder.Deliver(ctx, inc, events, d, save)
}

// While one replica passes over an incident, changes another replica
// makes to it wait for that replica's next look (a second later) instead
// of asking the database for the claim again each time: under a busy
// incident every note cost a round trip and won nothing. The changes are
// still all delivered, once.
func TestChangesWaitForAPassHeldElsewhere(t *testing.T) {
	ctx := context.Background()
	u := pgtest.Schema(t)
	rem := &remote{}
	open := func() (*counting, *incident.Service) {
		db, err := postgres.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		c := &counting{DB: db, tries: map[string]int{}}
		return c, incident.NewService(c, incident.DefaultConfig(), time.Now)
	}
	_, svcA := open()
	dbB, svcB := open()
	hold := &holding{recorder: &recorder{remote: rem}, held: make(chan struct{}), release: make(chan struct{})}
	start(t, svcA, clock.Real{}, hold)
	inc, err := svcA.Declare(ctx, incident.Declaration{Title: "busy", Severity: "sev1", Actor: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-hold.held:
	case <-time.After(10 * time.Second):
		t.Fatal("replica A never started its pass")
	}
	clkB := clock.NewFake(time.Now())
	start(t, svcB, clkB, &recorder{remote: rem})
	key := fmt.Sprintf("notify/recorder/%d", inc.Number)
	eventually(t, "replica B to find the pass held", func() bool { return dbB.triesFor(key) > 0 })
	const notes = 20
	for i := range notes {
		if _, err := svcB.AddNote(ctx, inc.Number, "U1", fmt.Sprint("note ", i)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // a chance for B's runner to ask, were it to
	}
	if got := dbB.triesFor(key); got > 2 {
		t.Errorf("replica B asked for the held claim %d times over %d notes, want at most twice", got, notes)
	}
	close(hold.release)
	want := seqs(t, svcB, inc.Number)
	eventually(t, "every event delivered", func() bool {
		clkB.Advance(time.Second) // B's next look
		got := rem.received()
		slices.Sort(got)
		return len(slices.Compact(got)) == len(want)
	})
	got := rem.received()
	sorted := slices.Clone(got)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(got) {
		t.Errorf("some events were sent twice: %v", got)
	}
}
