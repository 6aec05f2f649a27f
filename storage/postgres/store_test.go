package postgres

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/incident/storetest"
	"github.com/sitrep-dev/sitrep/storage/postgres/pgtest"
)

// openTest opens a store in a schema of the test's own.
func openTest(t *testing.T) (*DB, string) {
	t.Helper()
	u := pgtest.Schema(t)
	return openURL(t, u), u
}

func openURL(t *testing.T, u string) *DB {
	t.Helper()
	db, err := Open(context.Background(), u)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConformance runs the store contract's suite, each test in a schema
// of its own, with a second connection pool on the same schema as a
// second replica would have.
func TestConformance(t *testing.T) {
	pgtest.Require(t)
	var (
		mu   sync.Mutex
		urls = map[incident.Store]string{}
	)
	// The store's own clock is fixed, so that nothing depends on when the
	// suite runs; the suite moves it where it checks recorded times.
	fixed := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC) }
	open := func(t *testing.T) incident.Store {
		db, u := openTest(t)
		db.Now = fixed
		mu.Lock()
		urls[db] = u
		mu.Unlock()
		return db
	}
	storetest.Run(t, open, storetest.Options{
		Reopen: func(t *testing.T, s incident.Store) incident.Store {
			mu.Lock()
			u, ok := urls[s]
			mu.Unlock()
			if !ok {
				t.Fatalf("reopen: %v was not opened by this test", s)
			}
			db := openURL(t, u)
			db.Now = fixed
			mu.Lock()
			urls[db] = u
			mu.Unlock()
			return db
		},
		SetNow: func(s incident.Store, now func() time.Time) { s.(*DB).Now = now },
	})
}

// Three processes open the same new schema at once, which migrates it once
// among them, and declare together: numbers have no gaps or duplicates.
func TestNumbersAcrossProcesses(t *testing.T) {
	u := pgtest.Schema(t)
	storetest.DeclareInProcesses(t, "TestDeclareChild", []string{"SITREP_TEST_DECLARE_URL=" + u},
		func(t *testing.T) incident.Store { return openURL(t, u) })
}

// TestDeclareChild is one process of TestNumbersAcrossProcesses.
func TestDeclareChild(t *testing.T) {
	storetest.DeclareChild(t, func(t *testing.T) incident.Store { return openURL(t, os.Getenv("SITREP_TEST_DECLARE_URL")) })
}

// The schema is versioned together with SQLite's: the same migration
// versions, so that `sitrep migrate --from` copies between equal schemas.
// A migration added to one store needs its twin in the other.
func TestVersionsMatchSQLite(t *testing.T) {
	names, err := filepath.Glob("../sqlite/migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("SQLite's migrations: %v, %d files", err, len(names))
	}
	var want []int64
	for _, name := range names {
		num, _, _ := strings.Cut(filepath.Base(name), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			t.Fatalf("SQLite migration %s: %v", name, err)
		}
		want = append(want, v)
	}
	slices.Sort(want)
	got, err := Versions()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("PostgreSQL's migration versions %v, SQLite's %v: write the missing twins", got, want)
	}
}

// A database a newer build migrated is refused rather than written with
// this build's idea of the schema.
func TestOpenRefusesNewerSchema(t *testing.T) {
	db, u := openTest(t)
	if _, err := db.pool.Exec(context.Background(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 'x')`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), u)
	if err == nil || !strings.Contains(err.Error(), "newer than this build") {
		t.Errorf("Open of a newer schema = %v, want it refused", err)
	}
}

// A bad URL is explained without repeating the password it holds.
func TestOpenBadURL(t *testing.T) {
	_, err := Open(context.Background(), "postgres://me:s3cret@host:notaport/db")
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "postgres://user:password@host:5432/database") {
		t.Errorf("Open with a bad URL = %v; want the right form, without the password", err)
	}
}

// A time the text form cannot hold (a year past 9999) is refused, and the
// failed Create stores nothing and uses up no number.
func TestCreateRefusesUnstorableTimes(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	inc := storetest.NewIncident("bad")
	events := []incident.Event{{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Kind: incident.KindNote}}
	if err := db.Create(ctx, inc, events); err == nil {
		t.Fatal("Create with an unstorable time succeeded")
	}
	if got := storetest.Create(t, db, "good"); got.Number != 1 {
		t.Errorf("next Create got #%d, want #1", got.Number)
	}
}

// State that is not JSON is refused; none is stored as an empty object.
func TestDeliveryStateIsJSON(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	inc := storetest.Create(t, db, "x")
	if err := db.SaveDelivery(ctx, incident.Delivery{Integration: "slack", IncidentID: inc.ID}); err != nil {
		t.Fatalf("SaveDelivery without State: %v", err)
	}
	if err := db.SaveDelivery(ctx, incident.Delivery{Integration: "slack", IncidentID: inc.ID, State: []byte(`{"a":`)}); err == nil {
		t.Error("SaveDelivery with State that is not JSON succeeded")
	}
}

// The times the store writes are in the one form the utc_time domain
// accepts; anything else is refused by the database itself.
func TestTimesHaveOneForm(t *testing.T) {
	db, _ := openTest(t)
	inc := storetest.Create(t, db, "x")
	_, err := db.pool.Exec(context.Background(), `UPDATE incidents SET updated_at = '2026-01-02 03:04:05Z' WHERE id = $1`, inc.ID)
	if err == nil {
		t.Error("the database accepted a time in another form")
	}
}
