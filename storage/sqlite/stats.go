package sqlite

import (
	"context"
	"fmt"

	"github.com/sitrep-dev/sitrep/incident"
)

// Stats implements incident.Store. It reads every incident's status and
// severity, which is cheap next to a scrape interval even with years of
// closed incidents.
func (db *DB) Stats(ctx context.Context) (incident.Stats, error) {
	var st incident.Stats
	rows, err := db.read.QueryContext(ctx, `SELECT status, severity, count(*) FROM incidents GROUP BY status, severity ORDER BY status, severity`)
	if err != nil {
		return st, fmt.Errorf("count incidents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c incident.Count
		if err := rows.Scan(&c.Status, &c.Severity, &c.N); err != nil {
			return st, fmt.Errorf("count incidents: %w", err)
		}
		st.Counts = append(st.Counts, c)
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("count incidents: %w", err)
	}
	return st, nil
}
