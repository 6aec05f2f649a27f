package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/incident/storetest"
	"github.com/sitrep-dev/sitrep/storage/postgres/pgtest"
)

// BenchmarkNote adds a note to an incident, as /incident note does: the
// store's part of acknowledging one, a write transaction holding the
// write lock, from several goroutines at once.
//
//	go test -run '^$' -bench Note ./storage/postgres
func BenchmarkNote(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.Schema(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	inc := storetest.NewIncident("bench")
	if err := db.Create(ctx, inc, storetest.Declared(inc)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
				return []incident.Event{{At: i.UpdatedAt, Kind: incident.KindNote, Actor: "U1", Text: "bench"}}, nil
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkNoteSerial is BenchmarkNote from one goroutine: the latency of
// one note with nothing else waiting.
func BenchmarkNoteSerial(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.Schema(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	inc := storetest.NewIncident("bench")
	if err := db.Create(ctx, inc, storetest.Declared(inc)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := db.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
			return []incident.Event{{At: i.UpdatedAt, Kind: incident.KindNote, Actor: "U1", Text: "bench"}}, nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTrip is one query's round trip to the server, the floor
// under every figure above: a note takes six (begin, lock, read, update,
// insert, commit).
func BenchmarkRoundTrip(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.Schema(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	for b.Loop() {
		var n int
		if err := db.pool.QueryRow(ctx, `SELECT 1`).Scan(&n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNoteWriters adds notes from a fixed number of writers at once,
// each to an incident of its own (separate) or all to one (same), and
// reports writes per second and writes per committed transaction. Run it
// with a fixed count, so that runs compare:
//
//	go test -run '^$' -bench NoteWriters -benchtime 2000x ./storage/postgres
func BenchmarkNoteWriters(b *testing.B) {
	for _, writers := range []int{8, 32} {
		for _, same := range []bool{false, true} {
			name := fmt.Sprintf("writers=%d/separate", writers)
			if same {
				name = fmt.Sprintf("writers=%d/same", writers)
			}
			b.Run(name, func(b *testing.B) { benchNoteWriters(b, writers, same) })
		}
	}
}

func benchNoteWriters(b *testing.B, writers int, same bool) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.Schema(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	numbers := make([]int64, writers)
	for i := range numbers {
		if same && i > 0 {
			numbers[i] = numbers[0]
			continue
		}
		inc := storetest.NewIncident(fmt.Sprint("bench ", i))
		if err := db.Create(ctx, inc, storetest.Declared(inc)); err != nil {
			b.Fatal(err)
		}
		numbers[i] = inc.Number
	}
	var left atomic.Int64
	left.Store(int64(b.N))
	before := db.commit.batches.Load()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if _, err := db.Update(ctx, numbers[w], func(i *incident.Incident) ([]incident.Event, error) {
					return []incident.Event{{At: i.UpdatedAt, Kind: incident.KindNote, Actor: "U1", Text: "bench"}}, nil
				}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
	b.ReportMetric(float64(b.N)/float64(db.commit.batches.Load()-before), "writes/commit")
}

// BenchmarkGet reads an incident as a write reads it first (its roles,
// checklist and follow-ups in one statement): what a cache of incidents,
// as the SQLite store has, would save a write. Compare BenchmarkRoundTrip
// and a note's share of BenchmarkNoteWriters.
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.Schema(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	inc := storetest.NewIncident("bench")
	if err := db.Create(ctx, inc, storetest.Declared(inc)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := db.Get(ctx, inc.Number); err != nil {
			b.Fatal(err)
		}
	}
}
