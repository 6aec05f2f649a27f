package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// TestBackupWhileWriting backs the database up again and again while
// another goroutine keeps declaring incidents and adding notes. Every copy
// must pass SQLite's integrity check and hold a consistent moment: each
// incident's Version matches the events recorded for it, so no copy caught
// an incident without the events of its last change.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openPath(t, filepath.Join(dir, "sitrep.db"))
	svc := incident.NewService(db, incident.DefaultConfig(), time.Now)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writes atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			inc, err := svc.Declare(ctx, incident.Declaration{Title: fmt.Sprintf("Incident %d", i), Actor: "U1"})
			if err != nil {
				t.Error(err)
				return
			}
			for j := range 3 {
				if _, err := svc.AddNote(ctx, inc.Number, "U1", fmt.Sprintf("note %d", j)); err != nil {
					t.Error(err)
					return
				}
			}
			writes.Add(4)
		}
	}()
	for i := range 10 {
		for writes.Load() < int64(40*(i+1)) { // let writes land between copies
			time.Sleep(time.Millisecond)
		}
		dest := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		st, err := db.Backup(ctx, dest)
		if err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		if st.Incidents == 0 || st.Events < st.Incidents || st.Bytes == 0 {
			t.Errorf("backup %d: %+v", i, st)
		}
		checkConsistent(t, dest, st)
	}
	close(stop)
	wg.Wait()
	// Nothing is left beside the copies: no temporary files, no -wal.
	left, err := filepath.Glob(filepath.Join(dir, "*backup-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 10 {
		t.Errorf("the directory holds %d backup files, want the 10 copies alone: %v", len(left), left)
	}
}

// checkConsistent opens a backup as Sitrep would and checks each incident
// against its events: declared plus one event per note.
func checkConsistent(t *testing.T, path string, st BackupStats) {
	t.Helper()
	c, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var mode string
	if err := c.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "delete" {
		t.Errorf("the copy's journal mode is %q (%v), want a self-contained file (delete)", mode, err)
	}
	var bad int
	if err := c.QueryRow(`SELECT count(*) FROM incidents i
		WHERE (SELECT count(*) FROM events e WHERE e.incident_id = i.id) != i.version`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad > 0 {
		t.Errorf("%s: %d incidents whose events do not match their version", path, bad)
	}
	// The copy opens as a Sitrep database.
	copyDB, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	defer copyDB.Close()
	incs, err := copyDB.List(context.Background(), incident.ListFilter{})
	if err != nil || int64(len(incs)) != st.Incidents {
		t.Errorf("the copy lists %d incidents (%v), want %d", len(incs), err, st.Incidents)
	}
}

func TestBackupRefusesBadPaths(t *testing.T) {
	db := openPath(t, filepath.Join(t.TempDir(), "sitrep.db"))
	for _, p := range []string{"", "a?b.db", "file:x.db", filepath.Join(t.TempDir(), "missing-dir", "x.db")} {
		if _, err := db.Backup(context.Background(), p); err == nil {
			t.Errorf("Backup(%q) succeeded", p)
		}
	}
}

func TestMigrations(t *testing.T) {
	db := openPath(t, filepath.Join(t.TempDir(), "sitrep.db"))
	ms, err := db.Migrations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != len(want) {
		t.Fatalf("%d migrations applied, want %d", len(ms), len(want))
	}
	for i, m := range ms {
		if m.Version != want[i].version || m.Name != want[i].name || m.AppliedAt.IsZero() {
			t.Errorf("migration %d: %+v, want version %d %s", i, m, want[i].version, want[i].name)
		}
	}
}
