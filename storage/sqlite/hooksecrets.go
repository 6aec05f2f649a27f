package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SaveHookSecret keeps a secret a tracker handed over at a webhook's
// handshake. Saving one kept already changes nothing.
func (db *DB) SaveHookSecret(ctx context.Context, tracker, secret string, at time.Time) error {
	return db.writeTx(ctx, "save hook secret", func(ctx context.Context, tx *sql.Tx) (func(), error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO hook_secrets (tracker, secret, created_at) VALUES (?, ?, ?)
			ON CONFLICT (tracker, secret) DO NOTHING`, tracker, secret, formatTime(at)); err != nil {
			return nil, fmt.Errorf("save hook secret: %w", err)
		}
		return nil, nil
	})
}

// HookSecrets returns the secrets kept for tracker's webhooks.
func (db *DB) HookSecrets(ctx context.Context, tracker string) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT secret FROM hook_secrets WHERE tracker = ? ORDER BY created_at`, tracker)
	if err != nil {
		return nil, fmt.Errorf("read hook secrets: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("read hook secrets: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
