package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/mattn/go-sqlite3"

	"github.com/sitrep-dev/sitrep/incident"
)

// Delivery implements incident.DeliveryStore.
func (db *DB) Delivery(ctx context.Context, integration, incidentID string) (incident.Delivery, error) {
	ds, err := db.Deliveries(ctx, integration, []string{incidentID})
	if err != nil {
		return incident.Delivery{}, err
	}
	if d, ok := ds[incidentID]; ok {
		return d, nil
	}
	return incident.Delivery{Integration: integration, IncidentID: incidentID}, nil
}

// Deliveries implements incident.DeliveryStore.
func (db *DB) Deliveries(ctx context.Context, integration string, incidentIDs []string) (map[string]incident.Delivery, error) {
	out := make(map[string]incident.Delivery, len(incidentIDs))
	if len(incidentIDs) == 0 {
		return out, nil
	}
	ids, err := json.Marshal(incidentIDs)
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	// The refs come along as a JSON array, so that one statement reads a
	// consistent delivery without a transaction.
	rows, err := db.read.QueryContext(ctx, `SELECT d.incident_id, d.cursor, d.version, d.problem, d.state,
		(SELECT json_group_array(r.ref) FROM delivery_refs r WHERE r.integration = d.integration AND r.incident_id = d.incident_id)
		FROM deliveries d WHERE d.integration = ? AND d.incident_id IN (SELECT value FROM json_each(?))`, integration, string(ids))
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d := incident.Delivery{Integration: integration}
		var state, refs string
		if err := rows.Scan(&d.IncidentID, &d.Cursor, &d.Version, &d.Problem, &state, &refs); err != nil {
			return nil, fmt.Errorf("read deliveries: %w", err)
		}
		d.State = []byte(state)
		if d.Refs, err = parseStrings(refs); err != nil {
			return nil, fmt.Errorf("read deliveries: %w", err)
		}
		out[d.IncidentID] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	return out, nil
}

// SaveDelivery implements incident.DeliveryStore. Refs are rewritten only
// when they changed: a delivery is saved after every step of a pass, and
// its refs change once or twice in an incident's life.
func (db *DB) SaveDelivery(ctx context.Context, d incident.Delivery) error {
	state := string(d.State)
	if state == "" {
		state = "{}"
	}
	return db.writeTx(ctx, "save delivery", func(ctx context.Context, tx *sql.Tx) (func(), error) {
		return nil, db.saveDeliveryIn(ctx, tx, d, state)
	})
}

func (db *DB) saveDeliveryIn(ctx context.Context, tx *sql.Tx, d incident.Delivery, state string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO deliveries (integration, incident_id, cursor, version, problem, state, saved_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (integration, incident_id) DO UPDATE SET
			cursor = excluded.cursor, version = excluded.version, problem = excluded.problem,
			state = excluded.state, saved_at = excluded.saved_at`,
		d.Integration, d.IncidentID, d.Cursor, d.Version, d.Problem, state, formatTime(db.Now()))
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey {
		return incident.Errorf(incident.ENOTFOUND, "There is no incident with ID %s.", d.IncidentID)
	}
	if err != nil {
		return fmt.Errorf("save delivery: %w", err)
	}
	var stored string
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(json_group_array(ref), '[]') FROM
		(SELECT ref FROM delivery_refs WHERE integration = ? AND incident_id = ? ORDER BY ref)`, d.Integration, d.IncidentID).Scan(&stored); err != nil {
		return fmt.Errorf("save delivery: read refs: %w", err)
	}
	had, err := parseStrings(stored)
	if err != nil {
		return fmt.Errorf("save delivery: %w", err)
	}
	want := slices.Compact(slices.Sorted(slices.Values(d.Refs)))
	if !slices.Equal(had, want) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_refs WHERE integration = ? AND incident_id = ?`, d.Integration, d.IncidentID); err != nil {
			return fmt.Errorf("save delivery: refs: %w", err)
		}
		for _, ref := range want {
			if ref == "" {
				continue
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO delivery_refs (integration, ref, incident_id) VALUES (?, ?, ?)`, d.Integration, ref, d.IncidentID)
			if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey {
				return &incident.Error{Code: incident.ECONFLICT, Field: "ref",
					Message: fmt.Sprintf("%s already belongs to another incident.", ref)}
			}
			if err != nil {
				return fmt.Errorf("save delivery: ref: %w", err)
			}
		}
	}
	return nil
}

// ByRef implements incident.DeliveryStore.
func (db *DB) ByRef(ctx context.Context, integration, ref string) (*incident.Incident, error) {
	inc, err := db.getIncident(ctx, nil, `WHERE i.id = (SELECT r.incident_id FROM delivery_refs r WHERE r.integration = ? AND r.ref = ?)`, integration, ref)
	if err != nil {
		return nil, fmt.Errorf("get incident by %s ref: %w", integration, err)
	}
	if inc == nil {
		return nil, incident.Errorf(incident.ENOTFOUND, "%s is not known as an incident's.", ref)
	}
	return inc, nil
}

// behind selects the incidents an integration has not caught up with, and
// when the oldest change it has not delivered was recorded: the first
// event past its cursor or, with none, the incident's last change. It
// reads every incident once; that is done at start and for monitoring,
// while changes are found as they happen (Changes).
const behind = `SELECT i.number, coalesce(
		(SELECT min(e.recorded_at) FROM events e WHERE e.incident_id = i.id AND e.seq > coalesce(d.cursor, 0)),
		i.updated_at) AS waiting
	FROM incidents i LEFT JOIN deliveries d ON d.integration = ? AND d.incident_id = i.id
	WHERE d.incident_id IS NULL OR i.last_seq > d.cursor OR i.version > d.version`

// Behind implements incident.DeliveryStore.
func (db *DB) Behind(ctx context.Context, integration string) ([]int64, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT number FROM (`+behind+`) ORDER BY number`, integration)
	if err != nil {
		return nil, fmt.Errorf("list incidents behind for %s: %w", integration, err)
	}
	numbers, err := scanNumbers(rows)
	if err != nil {
		return nil, fmt.Errorf("list incidents behind for %s: %w", integration, err)
	}
	return numbers, nil
}

// Pending implements incident.DeliveryStore.
func (db *DB) Pending(ctx context.Context, integration string) (incident.Pending, error) {
	var (
		p      incident.Pending
		oldest sql.NullString
	)
	if err := db.read.QueryRowContext(ctx, `SELECT count(*), min(waiting) FROM (`+behind+`)`, integration).Scan(&p.Incidents, &oldest); err != nil {
		return p, fmt.Errorf("count incidents behind for %s: %w", integration, err)
	}
	var err error
	if p.Oldest, err = parseTime(oldest); err != nil {
		return p, fmt.Errorf("count incidents behind for %s: %w", integration, err)
	}
	return p, nil
}

// Changes implements incident.IncidentStore, through the
// incidents_change_seq index.
func (db *DB) Changes(ctx context.Context, after int64) ([]incident.Change, int64, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT number, version, change_seq FROM incidents WHERE change_seq > ? ORDER BY change_seq`, after)
	if err != nil {
		return nil, after, fmt.Errorf("list changes: %w", err)
	}
	defer rows.Close()
	var changes []incident.Change
	latest := after
	for rows.Next() {
		var c incident.Change
		if err := rows.Scan(&c.Number, &c.Version, &latest); err != nil {
			return nil, after, fmt.Errorf("list changes: %w", err)
		}
		changes = append(changes, c)
	}
	if err := rows.Err(); err != nil {
		return nil, after, fmt.Errorf("list changes: %w", err)
	}
	return changes, latest, nil
}

func scanNumbers(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var numbers []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		numbers = append(numbers, n)
	}
	return numbers, rows.Err()
}

// parseStrings reads a JSON array of strings; empty strings are left out.
func parseStrings(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("read list %q: %w", s, err)
	}
	out = slices.DeleteFunc(out, func(v string) bool { return v == "" })
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
