package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sitrep-dev/sitrep/incident"
)

var _ incident.AlertStore = (*DB)(nil)

// RecordAlerts runs fn in one transaction holding the write lock (see
// incident.AlertStore): a batch may declare or change incidents, and two
// replicas given the same alert take turns, the second finding what the
// first recorded.
func (db *DB) RecordAlerts(ctx context.Context, fn func(tx incident.AlertTx) error) error {
	var atx *alertTx
	err := db.writeTx(ctx, "record alerts", func(ctx context.Context, tx pgx.Tx) error {
		atx = &alertTx{db: db, ctx: ctx, tx: tx}
		return fn(atx)
	})
	if err != nil {
		return err
	}
	for _, c := range atx.commits {
		c()
	}
	return nil
}

const alertColumns = `source, key, status, title, labels::text, annotations::text, links::text, starts_at, ends_at,
	route, action, group_key, incident_id, received_at, updated_at, sender_group`

func scanAlert(row pgx.Row) (*incident.StoredAlert, error) {
	var (
		a                                    incident.StoredAlert
		status, action, labels, notes, links string
		starts, ends, received, updated      *string
	)
	if err := row.Scan(&a.Source, &a.Key, &status, &a.Title, &labels, &notes, &links, &starts, &ends,
		&a.Route, &action, &a.Group, &a.IncidentID, &received, &updated, &a.Alert.Group); err != nil {
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
		src *string
	}{{&a.StartsAt, starts}, {&a.EndsAt, ends}, {&a.ReceivedAt, received}, {&a.UpdatedAt, updated}} {
		if *t.dst, err = parseTime(t.src); err != nil {
			return nil, err
		}
	}
	return &a, nil
}

// AlertSummary counts an incident's alerts by status and returns up to
// limit of them, firing first, latest change first, sorted and cut in the
// database.
func (db *DB) AlertSummary(ctx context.Context, incidentID string, limit int) (firing, resolved int, shown []incident.StoredAlert, err error) {
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'firing'), count(*) FILTER (WHERE status = 'resolved')
		FROM alerts WHERE incident_id = $1 AND incident_id <> ''`, incidentID).Scan(&firing, &resolved); err != nil {
		return 0, 0, nil, fmt.Errorf("count alerts: %w", err)
	}
	if limit <= 0 || firing+resolved == 0 {
		return firing, resolved, nil, nil
	}
	shown, err = queryAlerts(ctx, db.pool, `WHERE incident_id = $1 AND incident_id <> ''
		ORDER BY status = 'firing' DESC, updated_at DESC, received_at, source, key LIMIT $2`, incidentID, limit)
	return firing, resolved, shown, err
}

// RecordedAlerts returns every alert recorded, first received first.
func (db *DB) RecordedAlerts(ctx context.Context) ([]incident.StoredAlert, error) {
	return queryAlerts(ctx, db.pool, `ORDER BY received_at, source, key`)
}

// IncidentAlerts returns the alerts attached to an incident, first
// received first.
func (db *DB) IncidentAlerts(ctx context.Context, incidentID string) ([]incident.StoredAlert, error) {
	return queryAlerts(ctx, db.pool, `WHERE incident_id = $1 AND incident_id <> '' ORDER BY received_at, source, key`, incidentID)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func queryAlerts(ctx context.Context, q querier, where string, args ...any) ([]incident.StoredAlert, error) {
	rows, err := q.Query(ctx, `SELECT `+alertColumns+` FROM alerts `+where, args...)
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

// alertTx is incident.AlertTx on one PostgreSQL transaction.
type alertTx struct {
	db      *DB
	ctx     context.Context
	tx      pgx.Tx
	commits []func()
}

func (t *alertTx) Alert(source, key string) (*incident.StoredAlert, error) {
	a, err := scanAlert(t.tx.QueryRow(t.ctx, `SELECT `+alertColumns+` FROM alerts WHERE source = $1 AND key = $2`, source, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read alert: %w", err)
	}
	return a, nil
}

// Alerts reads the alerts of keys that are recorded: one query for each
// source named (a notification has one).
func (t *alertTx) Alerts(keys []incident.AlertKey) ([]incident.StoredAlert, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	bySource := map[string][]string{}
	var sources []string
	for _, k := range keys {
		if _, ok := bySource[k.Source]; !ok {
			sources = append(sources, k.Source)
		}
		bySource[k.Source] = append(bySource[k.Source], k.Key)
	}
	var out []incident.StoredAlert
	for _, source := range sources {
		got, err := queryAlerts(t.ctx, t.tx, `WHERE source = $1 AND key = ANY($2::text[])`, source, bySource[source])
		if err != nil {
			return nil, fmt.Errorf("read alerts: %w", err)
		}
		out = append(out, got...)
	}
	return out, nil
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
	starts, err := timeArg(a.StartsAt)
	if err != nil {
		return fmt.Errorf("store alert: %w", err)
	}
	if starts == nil {
		return fmt.Errorf("store alert %s/%s: no start time", a.Source, a.Key)
	}
	ends, err := timeArg(a.EndsAt)
	if err != nil {
		return fmt.Errorf("store alert: %w", err)
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO alerts (source, key, status, title, labels, annotations, links, starts_at, ends_at,
			route, action, group_key, incident_id, received_at, updated_at, sender_group)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT (source, key) DO UPDATE SET status = excluded.status, title = excluded.title,
			labels = excluded.labels, annotations = excluded.annotations, links = excluded.links,
			starts_at = excluded.starts_at, ends_at = excluded.ends_at, route = excluded.route,
			action = excluded.action, group_key = excluded.group_key, incident_id = excluded.incident_id,
			updated_at = excluded.updated_at, sender_group = excluded.sender_group`,
		a.Source, a.Key, string(a.Status), a.Title, labels, notes, links, starts, ends,
		a.Route, string(a.Action), a.Group, a.IncidentID, formatTime(a.ReceivedAt), formatTime(a.UpdatedAt), a.Alert.Group)
	if err != nil {
		return fmt.Errorf("store alert %s/%s: %w", a.Source, a.Key, err)
	}
	return nil
}

const groupColumns = `key, route, state, incident_id, incident_number, capped, severity, services::text, decided_by,
	version, triage_ts, triage_shown, triage_posting, created_at, updated_at,
	waiting, min_alerts, hold_window_ms, hold_for_ms, gathered, declare_at`

func scanGroup(row pgx.Row) (*incident.AlertGroup, error) {
	var (
		g                incident.AlertGroup
		state, services  string
		created, updated string
		declareAt        *string
		windowMS, forMS  int64
	)
	if err := row.Scan(&g.Key, &g.Route, &state, &g.IncidentID, &g.IncidentNumber, &g.Capped, &g.Severity, &services, &g.DecidedBy,
		&g.Version, &g.TriageTS, &g.TriageShown, &g.TriagePosting, &created, &updated,
		&g.Waiting, &g.Hold.MinAlerts, &windowMS, &forMS, &g.Gathered, &declareAt); err != nil {
		return nil, err
	}
	g.State = state
	g.Hold.Window, g.Hold.For = time.Duration(windowMS)*time.Millisecond, time.Duration(forMS)*time.Millisecond
	var err error
	if g.DeclareAt, err = parseTime(declareAt); err != nil {
		return nil, err
	}
	if g.Services, err = parseServices(services); err != nil {
		return nil, err
	}
	if g.CreatedAt, err = parseTime(&created); err != nil {
		return nil, err
	}
	if g.UpdatedAt, err = parseTime(&updated); err != nil {
		return nil, err
	}
	return &g, nil
}

func (t *alertTx) Group(key string) (*incident.AlertGroup, error) {
	g, err := scanGroup(t.tx.QueryRow(t.ctx, `SELECT `+groupColumns+` FROM alert_groups WHERE key = $1`, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read alert group: %w", err)
	}
	return g, nil
}

// PutGroup stores the group; its triage message's state is SaveTriage's
// alone, so a batch never undoes what Slack was seen to do.
func (t *alertTx) PutGroup(g *incident.AlertGroup) error {
	services, err := servicesArg(g.Services)
	if err != nil {
		return fmt.Errorf("store alert group: %w", err)
	}
	declareAt, err := timeArg(g.DeclareAt)
	if err != nil {
		return fmt.Errorf("store alert group: %w", err)
	}
	// Hold durations are kept in milliseconds, as SQLite keeps them.
	_, err = t.tx.Exec(t.ctx, `INSERT INTO alert_groups (key, route, state, incident_id, incident_number, capped,
			severity, services, decided_by, version, created_at, updated_at,
			waiting, min_alerts, hold_window_ms, hold_for_ms, gathered, declare_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
		ON CONFLICT (key) DO UPDATE SET route = excluded.route, state = excluded.state,
			incident_id = excluded.incident_id, incident_number = excluded.incident_number, capped = excluded.capped,
			severity = excluded.severity, services = excluded.services, decided_by = excluded.decided_by,
			version = excluded.version, updated_at = excluded.updated_at,
			waiting = excluded.waiting, min_alerts = excluded.min_alerts, hold_window_ms = excluded.hold_window_ms,
			hold_for_ms = excluded.hold_for_ms, gathered = excluded.gathered, declare_at = excluded.declare_at`,
		g.Key, g.Route, string(g.State), g.IncidentID, g.IncidentNumber, g.Capped, g.Severity, services, g.DecidedBy, g.Version,
		formatTime(g.CreatedAt), formatTime(g.UpdatedAt),
		g.Waiting, int64(g.Hold.MinAlerts), g.Hold.Window.Milliseconds(), g.Hold.For.Milliseconds(), g.Gathered, declareAt)
	if err != nil {
		return fmt.Errorf("store alert group: %w", err)
	}
	return nil
}

func (t *alertTx) GroupAlerts(key string) ([]incident.StoredAlert, error) {
	return queryAlerts(t.ctx, t.tx, `WHERE group_key = $1 ORDER BY received_at, source, key`, key)
}

// GroupAlerts returns the alerts of a group, first received first.
func (db *DB) GroupAlerts(ctx context.Context, key string) ([]incident.StoredAlert, error) {
	return queryAlerts(ctx, db.pool, `WHERE group_key = $1 ORDER BY received_at, source, key`, key)
}

// TriageBehind returns the groups whose triage message is behind them.
func (db *DB) TriageBehind(ctx context.Context) ([]incident.AlertGroup, error) {
	return db.queryGroups(ctx, `WHERE version > triage_shown AND (state = 'triage' OR triage_ts <> '' OR triage_posting)
		ORDER BY created_at, key`)
}

// TriageShown returns the groups in triage whose message has been posted.
func (db *DB) TriageShown(ctx context.Context) ([]incident.AlertGroup, error) {
	return db.queryGroups(ctx, `WHERE state = 'triage' AND triage_ts <> '' ORDER BY created_at, key`)
}

func (db *DB) queryGroups(ctx context.Context, where string, args ...any) ([]incident.AlertGroup, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+groupColumns+` FROM alert_groups `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list triage: %w", err)
	}
	defer rows.Close()
	var out []incident.AlertGroup
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, fmt.Errorf("list triage: %w", err)
		}
		out = append(out, *g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list triage: %w", err)
	}
	return out, nil
}

// SaveTriage records the group's triage message.
func (db *DB) SaveTriage(ctx context.Context, key, ts string, shown int64, posting bool) error {
	tag, err := db.pool.Exec(ctx, `UPDATE alert_groups SET triage_ts = $1, triage_shown = $2, triage_posting = $3 WHERE key = $4`, ts, shown, posting, key)
	if err != nil {
		return fmt.Errorf("save triage message: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("save triage message: group %q not found", key)
	}
	return nil
}

func (t *alertTx) Firing(incidentID string) (int, error) {
	var n int
	if err := t.tx.QueryRow(t.ctx, `SELECT count(*) FROM alerts WHERE incident_id = $1 AND status = 'firing'`, incidentID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count firing alerts: %w", err)
	}
	return n, nil
}

func (t *alertTx) GroupFiring(key string, since time.Time) (int, error) {
	var n int
	if err := t.tx.QueryRow(t.ctx, `SELECT count(*) FROM alerts WHERE group_key = $1 AND status = 'firing' AND updated_at >= $2`,
		key, formatTime(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count a group's firing alerts: %w", err)
	}
	return n, nil
}

// HeldGroups returns the waiting groups time alone has made ready, and
// when the next wait ends. Both queries read the alert_groups_held index.
// Keys that fall due together come in byte order, as SQLite gives them,
// whatever the database's collation.
func (db *DB) HeldGroups(ctx context.Context, now time.Time) ([]string, time.Time, error) {
	at := formatTime(now)
	rows, err := db.pool.Query(ctx, `SELECT key FROM alert_groups
		WHERE waiting AND declare_at IS NOT NULL AND declare_at <= $1 AND (min_alerts <= 1 OR gathered)
		ORDER BY declare_at, key COLLATE "C"`, at)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("list held alert groups: %w", err)
	}
	due, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("list held alert groups: %w", err)
	}
	if len(due) == 0 {
		due = nil
	}
	var next *string
	if err := db.pool.QueryRow(ctx, `SELECT min(declare_at) FROM alert_groups
		WHERE waiting AND declare_at IS NOT NULL AND declare_at > $1`, at).Scan(&next); err != nil {
		return nil, time.Time{}, fmt.Errorf("next held alert group: %w", err)
	}
	nextAt, err := parseTime(next)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("next held alert group: %w", err)
	}
	return due, nextAt, nil
}

func (t *alertTx) DeclaredSince(since time.Time) (int, error) {
	var n int
	if err := t.tx.QueryRow(t.ctx, `SELECT count(*) FROM incidents WHERE source <> '' AND declared_at >= $1`, formatTime(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count declarations: %w", err)
	}
	return n, nil
}

func (t *alertTx) Incident(id string) (*incident.Incident, error) {
	inc, err := getIncident(t.tx.QueryRow(t.ctx, selectIncident+`WHERE i.id = $1`, id))
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
