package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sitrep-dev/sitrep/storage/postgres/pgtest"
)

// Migrations 9 to 12 on a database an older build left: incidents from
// before read back with no pages, the Slack paging lane starts caught up
// with them (so the first start after upgrading makes no pass for each),
// and an alert group from before is not waiting.
func TestMigrationsFrom8(t *testing.T) {
	ctx := context.Background()
	u := pgtest.Schema(t)
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := migrateTo(ctx, pool, 8); err != nil {
		t.Fatal(err)
	}
	at := "2026-03-01T10:00:00.000000000Z"
	for _, q := range []string{
		`INSERT INTO incidents (id, number, title, severity, status, declared_by, declared_at, updated_at, version)
			VALUES ('a', 1, 'old', 'sev1', 'investigating', 'U1', '` + at + `', '` + at + `', 3)`,
		`INSERT INTO events (incident_id, at, kind, actor, data, recorded_at) VALUES ('a', '` + at + `', 'declared', 'U1', '{"severity":"sev1"}', '` + at + `')`,
		`INSERT INTO alert_groups (key, state, version, created_at, updated_at) VALUES ('g', 'triage', 1, '` + at + `', '` + at + `')`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	db := openURL(t, u)
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
	var state string
	if err := db.pool.QueryRow(ctx, `SELECT state::text FROM deliveries WHERE integration = 'slack-pages'`).Scan(&state); err != nil || state != `{"seq":1}` {
		t.Errorf("the paging lane's state = %q (%v), want SQLite's text {\"seq\":1}", state, err)
	}
	groups, err := db.TriageBehind(ctx)
	if err != nil || len(groups) != 1 || groups[0].Waiting || !groups[0].DeclareAt.IsZero() || groups[0].Hold.MinAlerts != 0 {
		t.Errorf("a group from before: %+v (%v), want it in triage, not waiting", groups, err)
	}
	if _, err := db.pool.Exec(ctx, `UPDATE incidents SET pages = '{}' WHERE id = 'a'`); err == nil {
		t.Error("pages that are not a JSON array were stored")
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO oncall_overrides (schedule, user_id, starts_at, ends_at, set_at) VALUES ('p', 'U1', $1, $1, $1)`, at); err == nil {
		t.Error("an override ending as it starts was stored")
	}
}
