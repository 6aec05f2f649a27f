package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sitrep-dev/sitrep/incident"
)

func pragma(t *testing.T, ctx context.Context, c *sql.Conn, name string) string {
	t.Helper()
	var v string
	if err := c.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

// The settings come from the DSN, so every connection a pool opens has them,
// not only the one that ran Open's queries.
func TestConnectionSettings(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)

	check := func(pool string, c *sql.Conn, want map[string]string) {
		t.Helper()
		for name, w := range want {
			if got := pragma(t, ctx, c, name); !strings.EqualFold(got, w) {
				t.Errorf("%s pool: PRAGMA %s = %q, want %q", pool, name, got, w)
			}
		}
	}
	w, err := db.write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check("write", w, map[string]string{
		"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000", "synchronous": "1", "query_only": "0",
	})
	w.Close()

	// Hold two read connections at once so that the second is a new one.
	var conns []*sql.Conn
	for range 2 {
		c, err := db.read.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for _, c := range conns {
		check("read", c, map[string]string{
			"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000", "query_only": "1",
		})
	}
	if _, err := conns[0].ExecContext(ctx, `DELETE FROM incidents`); err == nil {
		t.Error("read pool accepted a write")
	}
}

func TestForeignKeysEnforced(t *testing.T) {
	db, _ := openTest(t)
	_, err := db.write.Exec(`INSERT INTO events (incident_id, at, kind, recorded_at) VALUES ('nope', 'x', 'note', 'x')`)
	if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Fatalf("event for a missing incident: err = %v, want a FOREIGN KEY failure", err)
	}
}

func TestOpenRejectsNonPaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if db, err := Open(context.Background(), p); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded, want an error", p)
		}
	}
}

type appliedMigration struct{ version, name, appliedAt string }

func applied(t *testing.T, db *DB) []appliedMigration {
	t.Helper()
	rows, err := db.read.Query(`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ms []appliedMigration
	for rows.Next() {
		var m appliedMigration
		if err := rows.Scan(&m.version, &m.name, &m.appliedAt); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

func TestReopenKeepsDataAndMigrationsOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sitrep.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	inc := create(t, db, "Checkout is down")
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	before := applied(t, db)
	if len(before) != len(ms) {
		t.Fatalf("applied %d migrations, want %d", len(before), len(ms))
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for range 2 {
		db = openPath(t, path)
		got, err := db.Get(ctx, inc.Number)
		if err != nil {
			t.Fatalf("Get after reopen: %v", err)
		}
		if got.ID != inc.ID || got.Title != inc.Title {
			t.Errorf("after reopen got %q %q, want %q %q", got.ID, got.Title, inc.ID, inc.Title)
		}
		if after := applied(t, db); !slices.Equal(after, before) {
			t.Errorf("schema_migrations changed on reopen:\nbefore %v\nafter  %v", before, after)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Ping(ctx); err == nil {
		t.Error("Ping after Close succeeded")
	}
}

// Processes starting together must not apply a migration twice.
func TestConcurrentOpenOfNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sitrep.db")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := Open(context.Background(), path)
			if err == nil {
				err = db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	db := openPath(t, path)
	ms, _ := migrations()
	if got := applied(t, db); len(got) != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", len(got), len(ms))
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sitrep.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.Exec(`INSERT INTO schema_migrations VALUES (999999, 'future.sql', 'x')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(context.Background(), path); err == nil {
		db.Close()
		t.Fatal("Open of a database from a newer build succeeded")
	}
}

func TestPing(t *testing.T) {
	db, _ := openTest(t)
	if err := db.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Numbers must be 1..N with no gaps or duplicates however declares race:
// goroutines of one process, and two processes (two Opens of one file, each
// with its own write connection, contending for SQLite's file lock).
func TestConcurrentCreates(t *testing.T) {
	ctx := context.Background()
	db1, path := openTest(t)
	dbs := []*DB{db1, openPath(t, path)}

	const workers, perWorker = 8, 25
	var (
		mu   sync.Mutex
		nums []int64
		seqs []int64
		wg   sync.WaitGroup
	)
	for w := range workers {
		db := dbs[w%len(dbs)]
		wg.Go(func() {
			for i := range perWorker {
				inc := newIncident(fmt.Sprintf("w%d-%d", w, i))
				events := declared(inc)
				if err := db.Create(ctx, inc, events); err != nil {
					t.Errorf("Create: %v", err)
					return
				}
				mu.Lock()
				nums = append(nums, inc.Number)
				seqs = append(seqs, events[0].Seq)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	slices.Sort(nums)
	for i, n := range nums {
		if n != int64(i+1) {
			t.Fatalf("numbers are not 1..%d: position %d holds %d (sorted: %v)", workers*perWorker, i, n, nums)
		}
	}
	slices.Sort(seqs)
	if len(slices.Compact(seqs)) != workers*perWorker {
		t.Errorf("event seqs are not unique")
	}
	all, err := db1.List(ctx, incident.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != workers*perWorker {
		t.Errorf("List returned %d incidents, want %d", len(all), workers*perWorker)
	}
}

// Update's read-modify-write must not lose changes made concurrently through
// either of two Opens.
func TestConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	db1, path := openTest(t)
	dbs := []*DB{db1, openPath(t, path)}
	inc := create(t, db1, "Flaky")

	const workers, perWorker = 8, 10
	var wg sync.WaitGroup
	for w := range workers {
		db := dbs[w%len(dbs)]
		wg.Go(func() {
			for i := range perWorker {
				_, err := db.Update(ctx, inc.Number, func(inc *incident.Incident) ([]incident.Event, error) {
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
	got, err := db1.Get(ctx, inc.Number)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(1 + workers*perWorker); got.Version != want {
		t.Errorf("Version = %d, want %d", got.Version, want)
	}
	if len(got.Services) != workers*perWorker {
		t.Errorf("%d services recorded, want %d: updates were lost", len(got.Services), workers*perWorker)
	}
	events, err := db1.Events(ctx, inc.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1+workers*perWorker {
		t.Errorf("%d events, want %d", len(events), 1+workers*perWorker)
	}
}

// The hot queries must use their indexes; a rewording of a query or an index
// that silently turns them into scans fails here.
func TestQueriesUseIndexes(t *testing.T) {
	db, _ := openTest(t)
	for _, tc := range []struct {
		query string
		args  []any
		index string
	}{
		{`SELECT number FROM incidents WHERE card_version < version OR last_seq > cursor ORDER BY number`, nil, "incidents_unsynced"},
		{selectIncident + `WHERE i.status NOT IN ('resolved', 'closed') ORDER BY i.number DESC LIMIT ?`, []any{10}, "incidents_open"},
		{selectIncident + `WHERE i.channel_id = ? AND i.channel_id <> ''`, []any{"C1"}, "incidents_channel"},
		{`SELECT seq FROM events WHERE incident_id = ? AND seq > ? ORDER BY seq`, []any{"x", 0}, "events_incident_seq"},
	} {
		rows, err := db.read.Query(`EXPLAIN QUERY PLAN `+tc.query, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(strings.Join(plan, "\n"), tc.index) {
			t.Errorf("query does not use %s:\n%s\nplan:\n%s", tc.index, tc.query, strings.Join(plan, "\n"))
		}
	}
}
