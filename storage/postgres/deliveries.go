package postgres

import (
	"context"
	"fmt"
	"slices"

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

// Deliveries implements incident.DeliveryStore. The refs come along as an
// array, so that one statement reads a consistent delivery.
func (db *DB) Deliveries(ctx context.Context, integration string, incidentIDs []string) (map[string]incident.Delivery, error) {
	out := make(map[string]incident.Delivery, len(incidentIDs))
	if len(incidentIDs) == 0 {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT d.incident_id, d.cursor, d.version, d.problem, d.state::text,
		ARRAY(SELECT r.ref FROM delivery_refs r WHERE r.integration = d.integration AND r.incident_id = d.incident_id ORDER BY r.ref)
		FROM deliveries d WHERE d.integration = $1 AND d.incident_id = ANY($2)`, integration, incidentIDs)
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d := incident.Delivery{Integration: integration}
		var state string
		if err := rows.Scan(&d.IncidentID, &d.Cursor, &d.Version, &d.Problem, &state, &d.Refs); err != nil {
			return nil, fmt.Errorf("read deliveries: %w", err)
		}
		d.State = []byte(state)
		d.Refs = nonEmpty(d.Refs)
		out[d.IncidentID] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	return out, nil
}

// SaveDelivery implements incident.DeliveryStore. It takes no write lock:
// a delivery numbers nothing. The upsert locks the delivery's row, so two
// replicas saving the same delivery take turns, refs included. Refs are
// rewritten only when they changed: a delivery is saved after every step
// of a pass, and its refs change once or twice in an incident's life.
func (db *DB) SaveDelivery(ctx context.Context, d incident.Delivery) error {
	state := string(d.State)
	if state == "" {
		state = "{}"
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("save delivery: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	_, err = tx.Exec(ctx, `INSERT INTO deliveries (integration, incident_id, cursor, version, problem, state, saved_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (integration, incident_id) DO UPDATE SET
			cursor = excluded.cursor, version = excluded.version, problem = excluded.problem,
			state = excluded.state, saved_at = excluded.saved_at`,
		d.Integration, d.IncidentID, d.Cursor, d.Version, d.Problem, state, formatTime(db.Now()))
	if code, _ := pgError(err); code == foreignKeyViolation {
		return incident.Errorf(incident.ENOTFOUND, "There is no incident with ID %s.", d.IncidentID)
	}
	if err != nil {
		return fmt.Errorf("save delivery: %w", err)
	}
	var had []string
	if err := tx.QueryRow(ctx, `SELECT ARRAY(SELECT ref FROM delivery_refs WHERE integration = $1 AND incident_id = $2 ORDER BY ref)`,
		d.Integration, d.IncidentID).Scan(&had); err != nil {
		return fmt.Errorf("save delivery: read refs: %w", err)
	}
	want := nonEmpty(slices.Compact(slices.Sorted(slices.Values(d.Refs))))
	if !slices.Equal(nonEmpty(had), want) {
		if _, err := tx.Exec(ctx, `DELETE FROM delivery_refs WHERE integration = $1 AND incident_id = $2`, d.Integration, d.IncidentID); err != nil {
			return fmt.Errorf("save delivery: refs: %w", err)
		}
		for _, ref := range want {
			tag, err := tx.Exec(ctx, `INSERT INTO delivery_refs (integration, ref, incident_id) VALUES ($1, $2, $3)
				ON CONFLICT (integration, ref) DO NOTHING`, d.Integration, ref, d.IncidentID)
			if err != nil {
				return fmt.Errorf("save delivery: ref: %w", err)
			}
			if tag.RowsAffected() != 1 {
				return &incident.Error{Code: incident.ECONFLICT, Field: "ref",
					Message: fmt.Sprintf("%s already belongs to another incident.", ref)}
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("save delivery: commit: %w", err)
	}
	return nil
}

// ByRef implements incident.DeliveryStore.
func (db *DB) ByRef(ctx context.Context, integration, ref string) (*incident.Incident, error) {
	inc, err := getIncident(db.pool.QueryRow(ctx, selectIncident+`WHERE i.id = (SELECT r.incident_id FROM delivery_refs r WHERE r.integration = $1 AND r.ref = $2)`, integration, ref))
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
// event past its cursor or, with none, the incident's last change.
const behind = `SELECT i.number, coalesce(
		(SELECT min(e.recorded_at) FROM events e WHERE e.incident_id = i.id AND e.seq > coalesce(d.cursor, 0)),
		i.updated_at) AS waiting
	FROM incidents i LEFT JOIN deliveries d ON d.integration = $1 AND d.incident_id = i.id
	WHERE d.incident_id IS NULL OR i.last_seq > d.cursor OR i.version > d.version`

// Behind implements incident.DeliveryStore.
func (db *DB) Behind(ctx context.Context, integration string) ([]int64, error) {
	rows, err := db.pool.Query(ctx, `SELECT number FROM (`+behind+`) b ORDER BY number`, integration)
	if err != nil {
		return nil, fmt.Errorf("list incidents behind for %s: %w", integration, err)
	}
	numbers, err := collectNumbers(rows)
	if err != nil {
		return nil, fmt.Errorf("list incidents behind for %s: %w", integration, err)
	}
	return numbers, nil
}

// Pending implements incident.DeliveryStore.
func (db *DB) Pending(ctx context.Context, integration string) (incident.Pending, error) {
	var (
		p      incident.Pending
		oldest *string
	)
	if err := db.pool.QueryRow(ctx, `SELECT count(*), min(waiting) FROM (`+behind+`) b`, integration).Scan(&p.Incidents, &oldest); err != nil {
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
	rows, err := db.pool.Query(ctx, `SELECT number, version, change_seq FROM incidents WHERE change_seq > $1 ORDER BY change_seq`, after)
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
