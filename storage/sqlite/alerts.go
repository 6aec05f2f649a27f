package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

var _ incident.AlertStore = (*DB)(nil)

// RecordAlerts runs fn in one write transaction (see incident.AlertStore).
func (db *DB) RecordAlerts(ctx context.Context, fn func(tx incident.AlertTx) error) error {
	return db.writeTx(ctx, "record alerts", func(ctx context.Context, tx *sql.Tx) (func(), error) {
		atx := &alertTx{db: db, ctx: ctx, tx: tx, groups: map[string]*pendingGroup{}}
		if err := fn(atx); err != nil {
			return nil, err
		}
		if err := atx.writeGroups(); err != nil {
			return nil, err
		}
		return func() {
			for _, c := range atx.commits {
				c()
			}
		}, nil
	})
}

const alertColumns = `source, key, status, title, labels, annotations, links, starts_at, ends_at,
	route, action, group_key, incident_id, received_at, updated_at, sender_group`

func scanAlert(row interface{ Scan(...any) error }) (*incident.StoredAlert, error) {
	var (
		a                                    incident.StoredAlert
		status, action, labels, notes, links string
		starts, ends, received, updated      sql.NullString
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
		src sql.NullString
	}{{&a.StartsAt, starts}, {&a.EndsAt, ends}, {&a.ReceivedAt, received}, {&a.UpdatedAt, updated}} {
		if *t.dst, err = parseTime(t.src); err != nil {
			return nil, err
		}
	}
	return &a, nil
}

// AlertSummary counts an incident's alerts by status and returns up to
// limit of them, firing first, latest change first. The sort and the
// limit run in SQLite, so a storm's alerts are not decoded to show ten.
func (db *DB) AlertSummary(ctx context.Context, incidentID string, limit int) (firing, resolved int, shown []incident.StoredAlert, err error) {
	if err := db.read.QueryRowContext(ctx, `SELECT coalesce(sum(status = 'firing'), 0), coalesce(sum(status = 'resolved'), 0)
		FROM alerts WHERE incident_id = ? AND incident_id <> ''`, incidentID).Scan(&firing, &resolved); err != nil {
		return 0, 0, nil, fmt.Errorf("count alerts: %w", err)
	}
	if limit <= 0 || firing+resolved == 0 {
		return firing, resolved, nil, nil
	}
	shown, err = queryAlerts(ctx, db.read, `WHERE incident_id = ? AND incident_id <> ''
		ORDER BY status = 'firing' DESC, updated_at DESC, received_at, source, key LIMIT ?`, incidentID, limit)
	return firing, resolved, shown, err
}

// RecordedAlerts returns every alert recorded, first received first.
func (db *DB) RecordedAlerts(ctx context.Context) ([]incident.StoredAlert, error) {
	return queryAlerts(ctx, db.read, `ORDER BY received_at, source, key`)
}

// IncidentAlerts returns the alerts attached to an incident, first
// received first.
func (db *DB) IncidentAlerts(ctx context.Context, incidentID string) ([]incident.StoredAlert, error) {
	return queryAlerts(ctx, db.read, `WHERE incident_id = ? AND incident_id <> '' ORDER BY received_at, source, key`, incidentID)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryAlerts(ctx context.Context, q querier, where string, args ...any) ([]incident.StoredAlert, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts `+where, args...)
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
	// groups are the groups read or stored in the transaction, by key. A
	// batch stores a group once for each of its alerts (its version counts
	// them), and writing each of those cost a fifth of taking a
	// notification (intake's BenchmarkAlertIntake); so the last one stored
	// is written once, before the commit, and Group reads it from here.
	groups map[string]*pendingGroup
	order  []string // keys of the groups to write, first stored first
}

// pendingGroup is a group as the transaction sees it.
type pendingGroup struct {
	g     incident.AlertGroup // as Group would read it back
	dirty bool                // stored, not yet written
}

// The statements a batch runs for each alert, prepared at Open (see
// writeStmt): preparing them in every transaction cost a fifth of taking
// an Alertmanager notification (intake's BenchmarkAlertIntake).
const (
	selectAlert = `SELECT ` + alertColumns + ` FROM alerts WHERE source = ? AND key = ?`
	// selectAlerts reads a source's alerts whose keys are in a JSON array:
	// one statement, prepared once, whatever the number of keys. SQLite
	// looks each key up in the primary key.
	selectAlerts = `SELECT ` + alertColumns + ` FROM alerts WHERE source = ? AND key IN (SELECT value FROM json_each(?))`
	upsertAlert  = `INSERT INTO alerts (` + alertColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (source, key) DO UPDATE SET status = excluded.status, title = excluded.title,
			labels = excluded.labels, annotations = excluded.annotations, links = excluded.links,
			starts_at = excluded.starts_at, ends_at = excluded.ends_at, route = excluded.route,
			action = excluded.action, group_key = excluded.group_key, incident_id = excluded.incident_id,
			updated_at = excluded.updated_at, sender_group = excluded.sender_group`
	selectGroup = `SELECT ` + groupColumns + ` FROM alert_groups WHERE key = ?`
	upsertGroup = `INSERT INTO alert_groups (key, route, state, incident_id, incident_number, capped,
			severity, services, decided_by, version, created_at, updated_at,
			waiting, min_alerts, hold_window_ms, hold_for_ms, gathered, declare_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET route = excluded.route, state = excluded.state,
			incident_id = excluded.incident_id, incident_number = excluded.incident_number, capped = excluded.capped,
			severity = excluded.severity, services = excluded.services, decided_by = excluded.decided_by,
			version = excluded.version, updated_at = excluded.updated_at,
			waiting = excluded.waiting, min_alerts = excluded.min_alerts, hold_window_ms = excluded.hold_window_ms,
			hold_for_ms = excluded.hold_for_ms, gathered = excluded.gathered, declare_at = excluded.declare_at`
)

// alertQueries are the statements Open prepares for alerts.
var alertQueries = []string{selectAlert, selectAlerts, upsertAlert, selectGroup, upsertGroup}

// stmt returns one of alertQueries for this transaction.
func (t *alertTx) stmt(query string) (*sql.Stmt, error) {
	st, err := t.db.writeStmt(query)
	if err != nil {
		return nil, err
	}
	return t.tx.StmtContext(t.ctx, st), nil
}

func (t *alertTx) Alert(source, key string) (*incident.StoredAlert, error) {
	st, err := t.stmt(selectAlert)
	if err != nil {
		return nil, fmt.Errorf("read alert: %w", err)
	}
	a, err := scanAlert(st.QueryRowContext(t.ctx, source, key))
	if errors.Is(err, sql.ErrNoRows) {
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
	st, err := t.stmt(selectAlerts)
	if err != nil {
		return nil, fmt.Errorf("read alerts: %w", err)
	}
	var out []incident.StoredAlert
	for _, source := range sources {
		list, err := json.Marshal(bySource[source])
		if err != nil {
			return nil, fmt.Errorf("read alerts: %w", err)
		}
		rows, err := st.QueryContext(t.ctx, source, string(list))
		if err != nil {
			return nil, fmt.Errorf("read alerts: %w", err)
		}
		for rows.Next() {
			a, err := scanAlert(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("read alerts: %w", err)
			}
			out = append(out, *a)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("read alerts: %w", err)
		}
	}
	return out, nil
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
	args = append(args, a.Route, string(a.Action), a.Group, a.IncidentID, formatTime(a.ReceivedAt), formatTime(a.UpdatedAt), a.Alert.Group)
	st, err := t.stmt(upsertAlert)
	if err != nil {
		return fmt.Errorf("store alert: %w", err)
	}
	if _, err = st.ExecContext(t.ctx, args...); err != nil {
		return fmt.Errorf("store alert %s/%s: %w", a.Source, a.Key, err)
	}
	return nil
}

const groupColumns = `key, route, state, incident_id, incident_number, capped, severity, services, decided_by,
	version, triage_ts, triage_shown, triage_posting, created_at, updated_at,
	waiting, min_alerts, hold_window_ms, hold_for_ms, gathered, declare_at`

func scanGroup(row interface{ Scan(...any) error }) (*incident.AlertGroup, error) {
	var (
		g                                     incident.AlertGroup
		services, created, updated, declareAt string
		windowMS, forMS                       int64
	)
	if err := row.Scan(&g.Key, &g.Route, &g.State, &g.IncidentID, &g.IncidentNumber, &g.Capped, &g.Severity, &services, &g.DecidedBy,
		&g.Version, &g.TriageTS, &g.TriageShown, &g.TriagePosting, &created, &updated,
		&g.Waiting, &g.Hold.MinAlerts, &windowMS, &forMS, &g.Gathered, &declareAt); err != nil {
		return nil, err
	}
	g.Hold.Window, g.Hold.For = time.Duration(windowMS)*time.Millisecond, time.Duration(forMS)*time.Millisecond
	var err error
	if g.DeclareAt, err = parseTime(sql.NullString{String: declareAt, Valid: declareAt != ""}); err != nil {
		return nil, err
	}
	if g.Services, err = parseServices(services); err != nil {
		return nil, err
	}
	if g.CreatedAt, err = parseTime(sql.NullString{String: created, Valid: true}); err != nil {
		return nil, err
	}
	if g.UpdatedAt, err = parseTime(sql.NullString{String: updated, Valid: true}); err != nil {
		return nil, err
	}
	return &g, nil
}

func (t *alertTx) Group(key string) (*incident.AlertGroup, error) {
	if p := t.groups[key]; p != nil {
		g := p.g
		g.Services = slices.Clone(g.Services)
		return &g, nil
	}
	st, err := t.stmt(selectGroup)
	if err != nil {
		return nil, fmt.Errorf("read alert group: %w", err)
	}
	g, err := scanGroup(st.QueryRowContext(t.ctx, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read alert group: %w", err)
	}
	c := *g
	c.Services = slices.Clone(g.Services)
	t.groups[key] = &pendingGroup{g: c}
	return g, nil
}

// PutGroup stores the group, written before the transaction commits; its
// triage message's state is SaveTriage's alone, so a batch never undoes
// what Slack was seen to do.
func (t *alertTx) PutGroup(g *incident.AlertGroup) error {
	services, err := servicesArg(g.Services)
	if err != nil {
		return fmt.Errorf("store alert group: %w", err)
	}
	if _, err := timeArg(g.CreatedAt); err != nil {
		return fmt.Errorf("store alert group: %w", err)
	}
	if _, err := timeArg(g.UpdatedAt); err != nil {
		return fmt.Errorf("store alert group: %w", err)
	}
	// What Group will read back, as the table would give it: the columns
	// PutGroup does not write keep what the row had (nothing, for a new
	// group), and services and times go through their encoding.
	back := *g
	back.TriageTS, back.TriageShown, back.TriagePosting = "", 0, false
	if p := t.groups[g.Key]; p != nil {
		back.TriageTS, back.TriageShown, back.TriagePosting = p.g.TriageTS, p.g.TriageShown, p.g.TriagePosting
		back.CreatedAt = p.g.CreatedAt
	}
	if back.Services, err = parseServices(services); err != nil {
		return fmt.Errorf("store alert group: %w", err)
	}
	for _, tm := range []*time.Time{&back.CreatedAt, &back.UpdatedAt, &back.DeclareAt} {
		if tm.IsZero() {
			continue
		}
		if *tm, err = parseTime(sql.NullString{String: formatTime(*tm), Valid: true}); err != nil {
			return fmt.Errorf("store alert group: %w", err)
		}
	}
	back.Hold.Window, back.Hold.For = back.Hold.Window.Truncate(time.Millisecond), back.Hold.For.Truncate(time.Millisecond)
	p := t.groups[g.Key]
	if p == nil {
		p = &pendingGroup{}
		t.groups[g.Key] = p
	}
	if !p.dirty {
		t.order = append(t.order, g.Key)
	}
	p.g, p.dirty = back, true
	return nil
}

// writeGroups writes the groups stored in the transaction.
func (t *alertTx) writeGroups() error {
	for _, key := range t.order {
		if err := t.writeGroup(&t.groups[key].g); err != nil {
			return err
		}
	}
	return nil
}

func (t *alertTx) writeGroup(g *incident.AlertGroup) error {
	services, err := servicesArg(g.Services)
	if err != nil {
		return fmt.Errorf("store alert group: %w", err)
	}
	st, err := t.stmt(upsertGroup)
	if err != nil {
		return fmt.Errorf("store alert group: %w", err)
	}
	declareAt := ""
	if !g.DeclareAt.IsZero() {
		declareAt = formatTime(g.DeclareAt)
	}
	_, err = st.ExecContext(t.ctx,
		g.Key, g.Route, g.State, g.IncidentID, g.IncidentNumber, g.Capped, g.Severity, services, g.DecidedBy, g.Version,
		formatTime(g.CreatedAt), formatTime(g.UpdatedAt),
		g.Waiting, g.Hold.MinAlerts, g.Hold.Window.Milliseconds(), g.Hold.For.Milliseconds(), g.Gathered, declareAt)
	if err != nil {
		return fmt.Errorf("store alert group: %w", err)
	}
	return nil
}

func (t *alertTx) GroupAlerts(key string) ([]incident.StoredAlert, error) {
	return queryAlerts(t.ctx, t.tx, `WHERE group_key = ? ORDER BY received_at, source, key`, key)
}

// GroupAlerts returns the alerts of a group, first received first.
func (db *DB) GroupAlerts(ctx context.Context, key string) ([]incident.StoredAlert, error) {
	return queryAlerts(ctx, db.read, `WHERE group_key = ? ORDER BY received_at, source, key`, key)
}

// TriageBehind returns the groups whose triage message is behind them.
func (db *DB) TriageBehind(ctx context.Context) ([]incident.AlertGroup, error) {
	return db.queryGroups(ctx, `WHERE version > triage_shown AND (state = 'triage' OR triage_ts <> '' OR triage_posting = 1)
		ORDER BY created_at, key`)
}

// TriageShown returns the groups in triage whose message has been posted.
func (db *DB) TriageShown(ctx context.Context) ([]incident.AlertGroup, error) {
	return db.queryGroups(ctx, `WHERE state = 'triage' AND triage_ts <> '' ORDER BY created_at, key`)
}

func (db *DB) queryGroups(ctx context.Context, where string) ([]incident.AlertGroup, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+groupColumns+` FROM alert_groups `+where)
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
	return db.writeTx(ctx, "save triage message", func(ctx context.Context, tx *sql.Tx) (func(), error) {
		res, err := tx.ExecContext(ctx, `UPDATE alert_groups SET triage_ts = ?, triage_shown = ?, triage_posting = ? WHERE key = ?`, ts, shown, posting, key)
		if err != nil {
			return nil, fmt.Errorf("save triage message: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return nil, fmt.Errorf("save triage message: group not found (%v)", err)
		}
		return nil, nil
	})
}

func (t *alertTx) Firing(incidentID string) (int, error) {
	var n int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM alerts WHERE incident_id = ? AND status = 'firing'`, incidentID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count firing alerts: %w", err)
	}
	return n, nil
}

func (t *alertTx) GroupFiring(key string, since time.Time) (int, error) {
	var n int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM alerts WHERE group_key = ? AND status = 'firing' AND updated_at >= ?`,
		key, formatTime(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count a group's firing alerts: %w", err)
	}
	return n, nil
}

// HeldGroups returns the waiting groups time alone has made ready, and
// when the next wait ends.
func (db *DB) HeldGroups(ctx context.Context, now time.Time) ([]string, time.Time, error) {
	at := formatTime(now)
	rows, err := db.read.QueryContext(ctx, `SELECT key FROM alert_groups
		WHERE waiting = 1 AND declare_at <> '' AND declare_at <= ? AND (min_alerts <= 1 OR gathered = 1)
		ORDER BY declare_at, key`, at)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("list held alert groups: %w", err)
	}
	defer rows.Close()
	var due []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, time.Time{}, fmt.Errorf("list held alert groups: %w", err)
		}
		due = append(due, k)
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("list held alert groups: %w", err)
	}
	var next sql.NullString
	if err := db.read.QueryRowContext(ctx, `SELECT min(declare_at) FROM alert_groups
		WHERE waiting = 1 AND declare_at <> '' AND declare_at > ?`, at).Scan(&next); err != nil {
		return nil, time.Time{}, fmt.Errorf("next held alert group: %w", err)
	}
	nextAt, err := parseTime(next)
	if err != nil {
		return nil, time.Time{}, err
	}
	return due, nextAt, nil
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
