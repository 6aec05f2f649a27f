package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// Migration 12 adds pages and overrides: incidents from before read back
// with no pages, and the Slack paging lane starts caught up with them, so
// that the first start after upgrading makes no pass for each of them.
func TestMigration12(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sitrep.db")
	w := openAtVersion(t, path, 8)
	at := formatTime(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	if _, err := w.Exec(`INSERT INTO incidents (id, number, title, severity, status, declared_by, declared_at, updated_at, version)
		VALUES ('a', 1, 'old', 'sev1', 'investigating', 'U1', ?, ?, 3)`, at, at); err != nil {
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
	if inc.Pages != nil || !inc.NextPageAt.IsZero() {
		t.Errorf("pages after the migration: %+v, %v", inc.Pages, inc.NextPageAt)
	}
	behind, err := db.Behind(ctx, "slack-pages")
	if err != nil || len(behind) != 0 {
		t.Errorf("the paging lane is behind %v (%v)", behind, err)
	}
	if behind, _ := db.Behind(ctx, "slack"); len(behind) != 1 {
		t.Errorf("Slack's lane changed: behind %v", behind)
	}
	if _, err := db.write.ExecContext(ctx, `UPDATE incidents SET pages = '{}' WHERE id = 'a'`); err == nil {
		t.Error("pages that are not a JSON array were stored")
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO oncall_overrides (schedule, user_id, starts_at, ends_at, set_at) VALUES ('p', 'U1', ?, ?, ?)`, at, at, at); err == nil {
		t.Error("an override ending as it starts was stored")
	}
}
