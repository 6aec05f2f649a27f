package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

var _ incident.AlertStore = (*DB)(nil)

// RecordAlerts runs fn in one write transaction (see incident.AlertStore).
func (db *DB) RecordAlerts(ctx context.Context, fn func(tx incident.AlertTx) error) error {
	done, err := db.turn(ctx)
	if err != nil {
		return fmt.Errorf("record alerts: %w", err)
	}
	defer done()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record alerts: begin: %w", err)
	}
	defer tx.Rollback()
	atx := &alertTx{db: db, ctx: ctx, tx: tx}
	if err := fn(atx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record alerts: commit: %w", err)
	}
	for _, c := range atx.commits {
		c()
	}
	return nil
}

const alertColumns = `source, key, status, title, labels, annotations, links, starts_at, ends_at,
	route, action, group_key, incident_id, received_at, updated_at`

func scanAlert(row interface{ Scan(...any) error }) (*incident.StoredAlert, error) {
	var (
		a                                    incident.StoredAlert
		status, action, labels, notes, links string
		starts, ends, received, updated      sql.NullString
	)
	if err := row.Scan(&a.Source, &a.Key, &status, &a.Title, &labels, &notes, &links, &starts, &ends,
		&a.Route, &action, &a.Group, &a.IncidentID, &received, &updated); err != nil {
		return nil, err
	}
	a.Status, a.Action = incident.AlertStatus(status), incident.AlertAction(action)
	for _, j := range []struct {
		src string
		dst any
	}{{labels, &a.Labels}, {notes, &a.Annotations}, {links, &a.Links}} {
		if err := json.Unmarshal([]byte(j.src), j.dst); err != nil {
			return nil, fmt.Errorf("read alert %s/%s: %w", a.Source, a.Key, err)
		}
	}
	if len(a.Labels) == 0 {
		a.Labels = nil
	}
	if len(a.Annotations) == 0 {
		a.Annotations = nil
	}
	if len(a.Links) == 0 {
		a.Links = nil
	}
	var err error
	for _, t := range []struct {
		dst *time.Time
		src sql.NullString
	}{{&a.StartsAt, starts}, {&a.EndsAt, ends}, {&a.ReceivedAt, received}, {&a.UpdatedAt, updated}} {
		if *t.dst, err = parseTime(t.src); err != nil {
			return nil, err
		}
	}
	return &a, nil
}

// IncidentAlerts returns the alerts attached to an incident, first
// received first.
func (db *DB) IncidentAlerts(ctx context.Context, incidentID string) ([]incident.StoredAlert, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts
		WHERE incident_id = ? AND incident_id <> '' ORDER BY received_at, source, key`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	var out []incident.StoredAlert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
		out = append(out, *a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// alertTx is incident.AlertTx on one SQLite transaction.
type alertTx struct {
	db      *DB
	ctx     context.Context
	tx      *sql.Tx
	commits []func()
}

func (t *alertTx) Alert(source, key string) (*incident.StoredAlert, error) {
	a, err := scanAlert(t.tx.QueryRowContext(t.ctx, `SELECT `+alertColumns+` FROM alerts WHERE source = ? AND key = ?`, source, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read alert: %w", err)
	}
	return a, nil
}

func jsonArg(v any, empty string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	if string(b) == "null" {
		return empty, nil
	}
	return string(b), nil
}

func (t *alertTx) PutAlert(a *incident.StoredAlert) error {
	labels, err := jsonArg(a.Labels, "{}")
	if err != nil {
		return fmt.Errorf("store alert: %w", err)
	}
	notes, err := jsonArg(a.Annotations, "{}")
	if err != nil {
		return fmt.Errorf("store alert: %w", err)
	}
	links, err := jsonArg(a.Links, "[]")
	if err != nil {
		return fmt.Errorf("store alert: %w", err)
	}
	args := []any{a.Source, a.Key, string(a.Status), a.Title, labels, notes, links}
	for _, tm := range []time.Time{a.StartsAt, a.EndsAt} {
		v, err := timeArg(tm)
		if err != nil {
			return fmt.Errorf("store alert: %w", err)
		}
		args = append(args, v)
	}
	if args[7] == nil {
		return fmt.Errorf("store alert %s/%s: no start time", a.Source, a.Key)
	}
	args = append(args, a.Route, string(a.Action), a.Group, a.IncidentID, formatTime(a.ReceivedAt), formatTime(a.UpdatedAt))
	_, err = t.tx.ExecContext(t.ctx, `INSERT INTO alerts (`+alertColumns+`) VALUES (`+placeholders(len(args))+`)
		ON CONFLICT (source, key) DO UPDATE SET status = excluded.status, title = excluded.title,
			labels = excluded.labels, annotations = excluded.annotations, links = excluded.links,
			starts_at = excluded.starts_at, ends_at = excluded.ends_at, route = excluded.route,
			action = excluded.action, group_key = excluded.group_key, incident_id = excluded.incident_id,
			updated_at = excluded.updated_at`, args...)
	if err != nil {
		return fmt.Errorf("store alert %s/%s: %w", a.Source, a.Key, err)
	}
	return nil
}

func (t *alertTx) Group(key string) (*incident.AlertGroup, error) {
	var (
		g                incident.AlertGroup
		created, updated sql.NullString
	)
	err := t.tx.QueryRowContext(t.ctx, `SELECT key, route, state, incident_id, capped, created_at, updated_at
		FROM alert_groups WHERE key = ?`, key).Scan(&g.Key, &g.Route, &g.State, &g.IncidentID, &g.Capped, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read alert group: %w", err)
	}
	if g.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if g.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	return &g, nil
}

func (t *alertTx) PutGroup(g *incident.AlertGroup) error {
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO alert_groups (key, route, state, incident_id, capped, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET route = excluded.route, state = excluded.state,
			incident_id = excluded.incident_id, capped = excluded.capped, updated_at = excluded.updated_at`,
		g.Key, g.Route, g.State, g.IncidentID, g.Capped, formatTime(g.CreatedAt), formatTime(g.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store alert group: %w", err)
	}
	return nil
}

func (t *alertTx) Firing(incidentID string) (int, error) {
	var n int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM alerts WHERE incident_id = ? AND status = 'firing'`, incidentID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count firing alerts: %w", err)
	}
	return n, nil
}

func (t *alertTx) DeclaredSince(since time.Time) (int, error) {
	var n int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM incidents WHERE source <> '' AND declared_at >= ?`, formatTime(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count declarations: %w", err)
	}
	return n, nil
}

func (t *alertTx) Incident(id string) (*incident.Incident, error) {
	inc, err := t.db.getIncident(t.ctx, t.tx, `WHERE i.id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("read incident: %w", err)
	}
	return inc, nil
}

func (t *alertTx) Create(inc *incident.Incident, events []incident.Event) error {
	id, number, seqs, err := t.db.createIn(t.ctx, t.tx, inc, events)
	if err != nil {
		return err
	}
	// The batch goes on using the incident inside the transaction.
	inc.ID, inc.Number, inc.Version = id, number, 1
	t.commits = append(t.commits, func() {
		for i := range events {
			events[i].Seq, events[i].IncidentID = seqs[i], id
		}
	})
	return nil
}

func (t *alertTx) Update(number int64, fn func(*incident.Incident) ([]incident.Event, error)) (*incident.Incident, error) {
	inc, commit, err := t.db.updateIn(t.ctx, t.tx, number, fn)
	if err != nil {
		return nil, err
	}
	t.commits = append(t.commits, commit)
	return inc, nil
}
