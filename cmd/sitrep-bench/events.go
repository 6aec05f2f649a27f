package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // the driver sqlite.Open uses

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
	"github.com/sitrep-dev/sitrep/templates"
)

// plainDSN opens the database with the settings of storage/sqlite's write
// pool (db.go, dsn): the same busy timeout, foreign keys, synchronous
// NORMAL, WAL and BEGIN IMMEDIATE. Keep it in step with dsn.
func plainDSN(path string) string {
	q := url.Values{}
	q.Set("_busy_timeout", "5000")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_journal_mode", "WAL")
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode()
}

// eventRate is one variant's throughput.
type eventRate struct {
	writers int
	events  int
	took    time.Duration
}

func (r eventRate) perSecond() float64 {
	if r.took <= 0 {
		return 0
	}
	return float64(r.events) / r.took.Seconds()
}

// eventsResult compares the service with plain INSERTs, serially and with
// several writers at once.
type eventsResult struct {
	serial, concurrent [2]eventRate // [0] the service, [1] plain INSERTs
	rowsBefore         int64        // events in the table when the measured writes began
	rowsAfter          int64
}

const (
	viaService = iota
	viaPlain
)

// benchEvents writes timeline notes through incident.Service.AddNote on a
// database opened by sqlite.Open, and plain INSERTs of the same rows into
// the same events table through a second pool with the same settings (one
// connection, as the store's write pool has), in alternating rounds.
func benchEvents(ctx context.Context, dir string, cfg config, logf func(string, ...any)) (eventsResult, error) {
	var res eventsResult
	path := filepath.Join(dir, "events.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return res, err
	}
	defer db.Close()
	icfg := incident.DefaultConfig()
	if icfg.Checklist, err = templates.Checklist(); err != nil {
		return res, err
	}
	svc := incident.NewService(db, icfg, time.Now)
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Bench incident", Severity: "sev2", Actor: "U0BENCH"})
	if err != nil {
		return res, fmt.Errorf("declare: %w", err)
	}

	plain, err := sql.Open("sqlite3", plainDSN(path))
	if err != nil {
		return res, err
	}
	defer plain.Close()
	plain.SetMaxOpenConns(1)

	var n atomic.Int64
	write := [2]func() error{
		func() error {
			_, err := svc.AddNote(ctx, inc.Number, "U0BENCH", "Rolled back build "+strconv.FormatInt(n.Add(1), 10)+"; error rate is falling")
			return err
		},
		func() error {
			// The row insertEvents writes for a note.
			now := time.Now().UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
			tx, err := plain.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, `INSERT INTO events (incident_id, at, kind, actor, text, source, data, recorded_at, key)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				inc.ID, now, string(incident.KindNote), "U0BENCH", "Rolled back build "+strconv.FormatInt(n.Add(1), 10)+"; error rate is falling", "", nil, now, ""); err != nil {
				return err
			}
			return tx.Commit()
		},
	}

	// Warm-up: the statement caches, the page cache, the first WAL pages.
	warm := min(cfg.warmup, cfg.events)
	for v := range write {
		if _, err := writeRound(write[v], 1, warm); err != nil {
			return res, err
		}
	}
	if res.rowsBefore, err = countEvents(ctx, plain); err != nil {
		return res, err
	}

	if cfg.eventsCPU != "" {
		f, err := os.Create(cfg.eventsCPU)
		if err != nil {
			return res, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, err
		}
		defer pprof.StopCPUProfile()
	}

	for _, variant := range []struct {
		writers int
		into    *[2]eventRate
	}{{1, &res.serial}, {cfg.writers, &res.concurrent}} {
		logf("events: %d writer(s)", variant.writers)
		for v := range variant.into {
			variant.into[v].writers = variant.writers
		}
		for r, done := 0, 0; done < cfg.events; r, done = r+1, done+cfg.round {
			order := []int{viaService, viaPlain}
			if r%2 == 1 {
				order = []int{viaPlain, viaService}
			}
			count := min(cfg.round, cfg.events-done)
			for _, v := range order {
				took, err := writeRound(write[v], variant.writers, count)
				if err != nil {
					return res, err
				}
				variant.into[v].events += count
				variant.into[v].took += took
			}
		}
	}
	if res.rowsAfter, err = countEvents(ctx, plain); err != nil {
		return res, err
	}
	if want := res.rowsBefore + 4*int64(cfg.events); res.rowsAfter != want {
		return res, fmt.Errorf("events table has %d rows after the benchmark, want %d", res.rowsAfter, want)
	}
	return res, nil
}

// writeRound calls write count times from writers goroutines and returns
// how long that took.
func writeRound(write func() error, writers, count int) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	start := time.Now()
	for range min(writers, count) {
		wg.Go(func() {
			for next.Add(1) <= int64(count) {
				if err := write(); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return 0, fmt.Errorf("write an event: %w", first)
	}
	return time.Since(start), nil
}

func countEvents(ctx context.Context, db *sql.DB) (int64, error) {
	var n int64
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n)
	return n, err
}
