package postgres

import (
	"context"
	"testing"

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
