package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sitrep-dev/sitrep/incident"
)

// Stats implements incident.Store. It reads every incident's status and
// severity, which is cheap next to a scrape interval even with years of
// closed incidents, and the lagging ones through the incidents_unsynced
// index.
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
	// A lagging incident waits either for events past one of its cursors
	// or, with none, for its card to show a change recorded at updated_at
	// (a prompt schedule, say). The WHERE must stay textually the index's.
	var oldest sql.NullString
	if err := db.read.QueryRowContext(ctx, `SELECT count(*), min(waiting) FROM (
		SELECT coalesce((SELECT min(e.recorded_at) FROM events e
			WHERE e.incident_id = i.id AND e.seq > min(i.cursor, i.announce_cursor)), i.updated_at) AS waiting
		FROM incidents i
		WHERE card_version < version OR last_seq > cursor OR last_seq > announce_cursor)`).Scan(&st.Behind, &oldest); err != nil {
		return st, fmt.Errorf("count lagging incidents: %w", err)
	}
	if st.OldestBehind, err = parseTime(oldest); err != nil {
		return st, fmt.Errorf("count lagging incidents: %w", err)
	}
	return st, nil
}
