package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
)

// poller follows Changes the way a process watching the store does, and
// records what it saw.
type poller struct {
	st    incident.Store
	after int64
	seen  map[int64][]int64 // number → the Versions reported, in order
}

func newPoller(st incident.Store) *poller {
	return &poller{st: st, seen: map[int64][]int64{}}
}

func (p *poller) poll(ctx context.Context) error {
	changes, latest, err := p.st.Changes(ctx, p.after)
	if err != nil {
		return err
	}
	if latest < p.after {
		return fmt.Errorf("Changes(%d) went back to %d", p.after, latest)
	}
	for _, c := range changes {
		p.seen[c.Number] = append(p.seen[c.Number], c.Version)
	}
	p.after = latest
	return nil
}

// follow polls until stop is closed, then once more.
func (p *poller) follow(t *testing.T, stop <-chan struct{}) {
	ctx := context.Background()
	for {
		select {
		case <-stop:
			if err := p.poll(ctx); err != nil {
				t.Errorf("poll: %v", err)
			}
			return
		default:
		}
		if err := p.poll(ctx); err != nil {
			t.Errorf("poll: %v", err)
			return
		}
	}
}

// Numbers are 1..N with no gaps or duplicates however declares race:
// goroutines sharing a handle, and two handles on one database (two
// processes) when the store can be reopened. A process following Changes
// meanwhile sees every new incident exactly once: no change becomes
// visible after a later-numbered one was reported.
func (s suite) testConcurrentCreates(t *testing.T) {
	ctx := context.Background()
	st1, st2 := s.handles(t)
	stores := []incident.Store{st1, st2}

	const workers, perWorker = 8, 25
	var (
		mu   sync.Mutex
		nums []int64
		seqs []int64
		wg   sync.WaitGroup
	)
	watch := newPoller(st2)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		watch.follow(t, stop)
	}()
	for w := range workers {
		st := stores[w%len(stores)]
		wg.Go(func() {
			for i := range perWorker {
				inc := NewIncident(fmt.Sprintf("w%d-%d", w, i))
				evs := Declared(inc)
				if err := st.Create(ctx, inc, evs); err != nil {
					t.Errorf("Create: %v", err)
					return
				}
				mu.Lock()
				nums = append(nums, inc.Number)
				seqs = append(seqs, evs[0].Seq)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	<-done
	if t.Failed() {
		return
	}
	const n = workers * perWorker
	slices.Sort(nums)
	for i, got := range nums {
		if got != int64(i+1) {
			t.Fatalf("numbers are not 1..%d: position %d holds %d (sorted: %v)", n, i, got, nums)
		}
	}
	slices.Sort(seqs)
	if len(slices.Compact(seqs)) != n {
		t.Errorf("event seqs are not unique")
	}
	for _, st := range stores {
		all, err := st.List(ctx, incident.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != n {
			t.Errorf("List returned %d incidents, want %d", len(all), n)
		}
	}
	for number := int64(1); number <= n; number++ {
		if got := watch.seen[number]; !slices.Equal(got, []int64{1}) {
			t.Errorf("following Changes, #%d was reported with versions %v, want once with 1", number, got)
		}
	}
	if len(watch.seen) != n {
		t.Errorf("following Changes reported %d incidents, want %d", len(watch.seen), n)
	}
}

// Update's read-modify-write loses no change made concurrently through
// either handle, and a process following Changes sees each incident's
// Version only grow, ending at the last.
func (s suite) testConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	st1, st2 := s.handles(t)
	stores := []incident.Store{st1, st2}
	incs := []*incident.Incident{Create(t, st1, "Flaky"), Create(t, st2, "Other")}

	watch := newPoller(st1)
	if err := watch.poll(ctx); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		watch.follow(t, stop)
	}()

	const workers, perWorker = 8, 10
	var wg sync.WaitGroup
	for w := range workers {
		st := stores[w%len(stores)]
		inc := incs[(w/2)%len(incs)]
		wg.Go(func() {
			for i := range perWorker {
				_, err := st.Update(ctx, inc.Number, func(inc *incident.Incident) ([]incident.Event, error) {
					inc.Services = append(inc.Services, fmt.Sprintf("s%d-%d", w, i))
					return []incident.Event{{At: inc.DeclaredAt, Kind: incident.KindNote, Text: "n"}}, nil
				})
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-done
	for _, inc := range incs {
		got := get(t, st2, inc.Number)
		const changes = workers / 2 * perWorker
		if got.Version != 1+changes {
			t.Errorf("#%d: Version = %d, want %d", inc.Number, got.Version, 1+changes)
		}
		if len(got.Services) != changes {
			t.Errorf("#%d: %d services recorded, want %d: updates were lost", inc.Number, len(got.Services), changes)
		}
		if evs := events(t, st1, inc.ID); len(evs) != 1+changes {
			t.Errorf("#%d: %d events, want %d", inc.Number, len(evs), 1+changes)
		}
		versions := watch.seen[inc.Number]
		if len(versions) == 0 || !slices.IsSorted(versions) || len(slices.Compact(slices.Clone(versions))) != len(versions) || versions[len(versions)-1] != got.Version {
			t.Errorf("#%d: following Changes saw versions %v; want them growing, ending at %d", inc.Number, versions, got.Version)
		}
	}
}

// Two handles on one database see each other's work at once: incidents,
// events, deliveries, claims and changes.
func (s suite) testChangesAcrossHandles(t *testing.T) {
	if s.Reopen == nil {
		t.Skip("the store cannot be reopened (Options.Reopen)")
	}
	ctx := context.Background()
	st1, st2 := s.handles(t)

	_, latest1 := changesAfter(t, st1, 0)
	_, latest2 := changesAfter(t, st2, 0)
	a := Create(t, st1, "a")
	b := Create(t, st2, "b")
	if b.Number != a.Number+1 {
		t.Errorf("the second handle numbered its incident #%d after #%d", b.Number, a.Number)
	}
	note(t, st2, a.Number, "from the second handle")
	for i, st := range []incident.Store{st1, st2} {
		after := []int64{latest1, latest2}[i]
		changes, _ := changesAfter(t, st, after)
		want := []incident.Change{{Number: b.Number, Version: 1}, {Number: a.Number, Version: 2}}
		if diff := cmp.Diff(want, changes); diff != "" {
			t.Errorf("handle %d: Changes (-want +got):\n%s", i+1, diff)
		}
		if got := get(t, st, a.Number); got.Version != 2 {
			t.Errorf("handle %d: #%d is at version %d, want 2", i+1, a.Number, got.Version)
		}
		if evs := events(t, st, a.ID); len(evs) != 2 {
			t.Errorf("handle %d: #%d has %d events, want 2", i+1, a.Number, len(evs))
		}
	}
	_, l1 := changesAfter(t, st1, 0)
	_, l2 := changesAfter(t, st2, 0)
	if l1 != l2 {
		t.Errorf("the handles disagree on the latest change: %d and %d", l1, l2)
	}

	saveDelivery(t, st1, incident.Delivery{Integration: "slack", IncidentID: b.ID, Cursor: 1, Refs: []string{"CB"}})
	if got, err := st2.ByRef(ctx, "slack", "CB"); err != nil || got.Number != b.Number {
		t.Errorf("ByRef through the other handle = %v, %v; want #%d", got, err, b.Number)
	}
	if err := st2.SaveDelivery(ctx, incident.Delivery{Integration: "slack", IncidentID: a.ID, Refs: []string{"CB"}}); incident.ErrorCode(err) != incident.ECONFLICT {
		t.Errorf("a ref taken through the other handle: err = %v, want ECONFLICT", err)
	}
	if first, err := st1.Claim(ctx, "event:1", t0); err != nil || !first {
		t.Fatalf("first Claim = %v, %v", first, err)
	}
	if first, err := st2.Claim(ctx, "event:1", t0); err != nil || first {
		t.Errorf("Claim through the other handle = %v, %v; want it already claimed", first, err)
	}
}
