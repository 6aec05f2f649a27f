package notify_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

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
