package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/incident/storetest"
)

// TestConformance runs the store contract's suite on a database file, and
// on a second Open of the same file as a second process would have.
func TestConformance(t *testing.T) {
	var (
		mu    sync.Mutex
		paths = map[incident.Store]string{}
	)
	// The store's own clock is fixed, so that nothing depends on when the
	// suite runs; the suite moves it where it checks recorded times.
	fixed := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC) }
	open := func(t *testing.T) incident.Store {
		db, path := openTest(t)
		db.Now = fixed
		mu.Lock()
		paths[db] = path
		mu.Unlock()
		return db
	}
	storetest.Run(t, open, storetest.Options{
		Reopen: func(t *testing.T, s incident.Store) incident.Store {
			mu.Lock()
			path, ok := paths[s]
			mu.Unlock()
			if !ok {
				t.Fatalf("reopen: %v was not opened by this test", s)
			}
			db := openPath(t, path)
			db.Now = fixed
			return db
		},
		SetNow: func(s incident.Store, now func() time.Time) { s.(*DB).Now = now },
	})
}

// A time SQLite's text form cannot hold (a year past 9999) is refused, and
// the failed Create stores nothing, leaves the caller's values alone and
// uses up no number.
func TestCreateRefusesUnstorableTimes(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	inc := storetest.NewIncident("bad")
	events := []incident.Event{{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Kind: incident.KindNote}}
	if err := db.Create(ctx, inc, events); err == nil {
		t.Fatal("Create with an unstorable time succeeded")
	}
	if inc.ID != "" || inc.Number != 0 || inc.Version != 0 || events[0].Seq != 0 || events[0].IncidentID != "" {
		t.Errorf("failed Create changed its arguments: %+v %+v", inc, events[0])
	}
	if all, _ := db.List(ctx, incident.ListFilter{}); len(all) != 0 {
		t.Errorf("failed Create stored %d incidents", len(all))
	}
	if got := storetest.Create(t, db, "good"); got.Number != 1 {
		t.Errorf("next Create got #%d, want #1", got.Number)
	}
}

// Zero times are stored as NULL, the schema's "not yet", not as year 1.
func TestZeroTimesAreNull(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	inc := storetest.Create(t, db, "x")
	if _, err := db.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
		i.PostmortemAt, i.NextPromptAt = time.Now(), time.Now()
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
		i.PostmortemAt, i.NextPromptAt = time.Time{}, time.Time{}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	var nulls int
	if err := db.read.QueryRow(`SELECT count(*) FROM incidents WHERE id = ?
		AND postmortem_at IS NULL AND next_prompt_at IS NULL AND resolved_at IS NULL AND closed_at IS NULL`, inc.ID).Scan(&nulls); err != nil || nulls != 1 {
		t.Errorf("zero times are not NULL in the table (%d rows, %v)", nulls, err)
	}
}

// A delivery saved without State stores an empty JSON object, which the
// state column's CHECK accepts; State that is not JSON is refused.
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

// Three processes open the same new file at once and declare together:
// numbers have no gaps or duplicates.
func TestNumbersAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sitrep.db")
	storetest.DeclareInProcesses(t, "TestDeclareChild", []string{"SITREP_TEST_DECLARE_PATH=" + path},
		func(t *testing.T) incident.Store { return openPath(t, path) })
}

// TestDeclareChild is one process of TestNumbersAcrossProcesses.
func TestDeclareChild(t *testing.T) {
	storetest.DeclareChild(t, func(t *testing.T) incident.Store { return openPath(t, os.Getenv("SITREP_TEST_DECLARE_PATH")) })
}
