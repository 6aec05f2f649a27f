package postgres

import (
	"context"
	"fmt"

	"github.com/sitrep-dev/sitrep/incident"
)

// Stats implements incident.Store.
func (db *DB) Stats(ctx context.Context) (incident.Stats, error) {
	var st incident.Stats
	rows, err := db.pool.Query(ctx, `SELECT status, severity, count(*) FROM incidents GROUP BY status, severity ORDER BY status, severity`)
	if err != nil {
		return st, fmt.Errorf("count incidents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			c      incident.Count
			status string
		)
		if err := rows.Scan(&status, &c.Severity, &c.N); err != nil {
			return st, fmt.Errorf("count incidents: %w", err)
		}
		c.Status = incident.Status(status)
		st.Counts = append(st.Counts, c)
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("count incidents: %w", err)
	}
	return st, nil
}
