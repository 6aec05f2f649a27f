package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// Migration 6 adds the fields written for the postmortem and the names
// events keep: incidents and events from before read back with them empty,
// and can then be given them.
func TestMigration6KeepsWhatWasThere(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sitrep.db")
	w := openAtVersion(t, path, 5)
	at := formatTime(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	if _, err := w.Exec(`INSERT INTO incidents (id, number, title, severity, status, impact, root_cause, declared_by, declared_at, updated_at, version)
		VALUES ('a', 1, 'old', 'sev1', 'resolved', 'slow pages', 'bad deploy', 'U1', ?, ?, 2)`, at, at); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(`INSERT INTO events (incident_id, at, kind, actor, data, recorded_at) VALUES ('a', ?, 'declared', 'U1', '{"severity":"sev1"}', ?)`, at, at); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	db := openPath(t, path)
	inc, err := db.Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Impact != "slow pages" || inc.RootCause != "bad deploy" || inc.Mitigation != "" || inc.Learnings != "" || inc.Remediations != "" {
		t.Errorf("after the migration: %+v", inc)
	}
	evs, err := db.Events(ctx, "a", 0)
	if err != nil || len(evs) != 1 || evs[0].Names != nil || evs[0].Data["severity"] != "sev1" {
		t.Fatalf("events after the migration: %+v, %v", evs, err)
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO events (incident_id, at, kind, recorded_at, names) VALUES ('a', ?, 'note', ?, '[]')`, at, at); err == nil {
		t.Error("names that are not a JSON object were stored")
	}
}
