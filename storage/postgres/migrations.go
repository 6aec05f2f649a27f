package postgres

import (
	"context"
	"fmt"
	"time"
)

// Migration is a schema change applied to the database.
type Migration struct {
	Version   int64
	Name      string
	AppliedAt time.Time
}

// Migrations lists the migrations applied to the database, oldest first.
func (db *DB) Migrations(ctx context.Context) ([]Migration, error) {
	rows, err := db.pool.Query(ctx, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	defer rows.Close()
	var ms []Migration
	for rows.Next() {
		var (
			m  Migration
			at string
		)
		if err := rows.Scan(&m.Version, &m.Name, &at); err != nil {
			return nil, fmt.Errorf("list migrations: %w", err)
		}
		if m.AppliedAt, err = parseTime(&at); err != nil {
			return nil, fmt.Errorf("list migrations: %w", err)
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}
