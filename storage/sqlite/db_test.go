package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sitrep-dev/sitrep/incident/storetest"
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
	inc := storetest.Create(t, db, "Checkout is down")
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

// The hot queries must use their indexes; a rewording of a query or an index
// that silently turns them into scans fails here. The queries are copied
// from store.go and deliveries.go; keep them in step.
func TestQueriesUseIndexes(t *testing.T) {
	db, _ := openTest(t)
	for _, tc := range []struct {
		name  string
		query string
		args  []any
		uses  []string
	}{
		{"List open", selectIncident + `WHERE i.status NOT IN ('resolved', 'closed') ORDER BY i.number DESC LIMIT ?`, []any{10},
			[]string{"incidents_open"}},
		{"ByRef", selectIncident + `WHERE i.id = (SELECT r.incident_id FROM delivery_refs r WHERE r.integration = ? AND r.ref = ?)`, []any{"slack", "C1"},
			[]string{"SEARCH r USING PRIMARY KEY (integration=? AND ref=?)", "SEARCH i USING INDEX sqlite_autoindex_incidents_1 (id=?)"}},
		{"Deliveries' refs", `SELECT json_group_array(r.ref) FROM delivery_refs r WHERE r.integration = ? AND r.incident_id = ?`, []any{"slack", "x"},
			[]string{"delivery_refs_incident"}},
		{"Changes", `SELECT number, version, change_seq FROM incidents WHERE change_seq > ? ORDER BY change_seq`, []any{0},
			[]string{"incidents_change_seq"}},
		{"the next change number", nextChange[1 : len(nextChange)-1], nil,
			[]string{"incidents_change_seq"}},
		{"Events", `SELECT seq FROM events WHERE incident_id = ? AND seq > ? ORDER BY seq`, []any{"x", 0},
			[]string{"events_incident_seq"}},
		{"a batch's alerts", selectAlerts, []any{"alertmanager", `["a","b"]`},
			[]string{"SEARCH alerts USING PRIMARY KEY (source=? AND key=?)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := queryPlan(t, db, tc.query, tc.args...)
			for _, want := range tc.uses {
				if !strings.Contains(plan, want) {
					t.Errorf("the plan lacks %q:\n%s\nplan:\n%s", want, tc.query, plan)
				}
			}
			for _, step := range strings.Split(plan, "\n") {
				if strings.HasPrefix(step, "SCAN") && !strings.Contains(step, "INDEX") {
					t.Errorf("the plan scans a table:\n%s\nplan:\n%s", tc.query, plan)
				}
			}
		})
	}
}
