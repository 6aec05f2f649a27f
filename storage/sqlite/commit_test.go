package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/incident/storetest"
)

// queued waits until n writes wait in db's queue.
func queued(t *testing.T, db *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		db.queue.mu.Lock()
		got := len(db.queue.pending)
		db.queue.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGroupCommit: writes that queue while the write connection is busy
// are committed together, in one transaction, in the order they came; a
// refusal, an error and a panic among them fail alone, and every other
// write is answered as committed, with its events numbered.
func TestGroupCommit(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	inc := storetest.Create(t, db, "Checkout failing")
	before := db.batches.Load()

	// Hold the write connection, as a commit in progress does.
	db.writeTurn <- struct{}{}
	const n = 12
	type outcome struct {
		events   []incident.Event
		err      error
		panicked any
	}
	outcomes := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { outcomes[i].panicked = recover() }()
			evs := []incident.Event{{At: time.Now(), Kind: incident.KindNote, Actor: "U1", Text: fmt.Sprint("note ", i)}}
			_, err := db.Update(ctx, inc.Number, func(got *incident.Incident) ([]incident.Event, error) {
				switch i {
				case 3:
					got.Title = "refused"
					return nil, incident.Errorf(incident.ECONFLICT, "refused")
				case 6:
					got.Title = "panicked"
					panic("bug in a rule")
				}
				return evs, nil
			})
			outcomes[i].events, outcomes[i].err = evs, err
		}()
		queued(t, db, i+1) // in a known order
	}
	<-db.writeTurn
	wg.Wait()

	if got := db.batches.Load() - before; got != 1 {
		t.Errorf("%d writes queued behind a commit went in %d transactions, want 1", n, got)
	}
	var seqs []int64
	for i, o := range outcomes {
		switch i {
		case 3:
			var e *incident.Error
			if !errors.As(o.err, &e) || e.Code != incident.ECONFLICT {
				t.Errorf("write 3: %v, want its own refusal", o.err)
			}
		case 6:
			if o.panicked != "bug in a rule" {
				t.Errorf("write 6 panicked with %v in its own goroutine, want its panic", o.panicked)
			}
		default:
			if o.err != nil || o.panicked != nil {
				t.Errorf("write %d: %v %v, want it committed", i, o.err, o.panicked)
				continue
			}
			if o.events[0].Seq == 0 {
				t.Errorf("write %d committed without its event's seq", i)
			}
			seqs = append(seqs, o.events[0].Seq)
		}
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Errorf("events numbered %v: not in the order the writes came", seqs)
			break
		}
	}
	got, err := db.Get(ctx, inc.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Checkout failing" || got.Version != 1+n-2 {
		t.Errorf("after the batch: title %q, version %d; want the refused and panicking writes undone, %d versions", got.Title, got.Version, 1+n-2)
	}
	evs, err := db.Events(ctx, inc.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1+n-2 {
		t.Errorf("%d events, want the declaration and %d notes", len(evs), n-2)
	}
}

// TestGroupCommitGivenUp: a write whose context ends while it waits is not
// run; the others in its batch are.
func TestGroupCommitGivenUp(t *testing.T) {
	db, _ := openTest(t)
	db.writeTurn <- struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := db.Claim(ctx, "given-up", time.Now())
		gaveUp <- err
	}()
	queued(t, db, 1)
	kept := make(chan error, 1)
	go func() {
		_, err := db.Claim(context.Background(), "kept", time.Now())
		kept <- err
	}()
	queued(t, db, 2)
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Errorf("given-up write: %v, want context.Canceled", err)
	}
	<-db.writeTurn
	if err := <-kept; err != nil {
		t.Fatal(err)
	}
	if first, err := db.Claim(context.Background(), "given-up", time.Now()); err != nil || !first {
		t.Errorf("claiming the given-up key again: first %v, %v; want it never written", first, err)
	}
	if first, err := db.Claim(context.Background(), "kept", time.Now()); err != nil || first {
		t.Errorf("claiming the kept key again: first %v, %v; want it written", first, err)
	}
}

// BenchmarkGroupCommit writes notes to one incident from 8 goroutines and
// reports the writes per committed transaction.
func BenchmarkGroupCommit(b *testing.B) {
	db, err := Open(context.Background(), b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	inc := storetest.NewIncident("Bench")
	if err := db.Create(context.Background(), inc, storetest.Declared(inc)); err != nil {
		b.Fatal(err)
	}
	before := db.batches.Load()
	b.SetParallelism(4) // 8 writers on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.Update(context.Background(), inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
				return []incident.Event{{At: time.Now(), Kind: incident.KindNote, Actor: "U1", Text: "a note"}}, nil
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/float64(db.batches.Load()-before), "writes/commit")
}

// TestGroupCommitUndoneChange: a write that changed an incident and then
// failed is undone, and the next write of the batch starts from the
// incident as it is, not as the undone write left it.
func TestGroupCommitUndoneChange(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	inc := storetest.Create(t, db, "Checkout failing")
	db.writeTurn <- struct{}{}
	failed, kept := make(chan error, 1), make(chan error, 1)
	go func() {
		failed <- db.RecordAlerts(ctx, func(tx incident.AlertTx) error {
			if _, err := tx.Update(inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
				i.Title = "undone"
				return nil, nil
			}); err != nil {
				return err
			}
			return errors.New("failed after changing the incident")
		})
	}()
	queued(t, db, 1)
	var seen string
	go func() {
		_, err := db.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
			seen = i.Title
			i.Summary = "kept"
			return nil, nil
		})
		kept <- err
	}()
	queued(t, db, 2)
	<-db.writeTurn
	if err := <-failed; err == nil || err.Error() != "failed after changing the incident" {
		t.Errorf("failing write: %v", err)
	}
	if err := <-kept; err != nil {
		t.Fatal(err)
	}
	if seen != "Checkout failing" {
		t.Errorf("the next write started from title %q, want the incident as committed", seen)
	}
	got, err := db.Get(ctx, inc.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Checkout failing" || got.Summary != "kept" || got.Version != 2 {
		t.Errorf("after: %q %q v%d, want the first write undone and the second kept at v2", got.Title, got.Summary, got.Version)
	}
}
