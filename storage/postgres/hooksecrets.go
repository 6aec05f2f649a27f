package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SaveHookSecret keeps a secret a tracker handed over at a webhook's
// handshake. Saving one kept already changes nothing, so two replicas
// taking the same handshake (a retried one) keep it once.
func (db *DB) SaveHookSecret(ctx context.Context, tracker, secret string, at time.Time) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO hook_secrets (tracker, secret, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (tracker, secret) DO NOTHING`, tracker, secret, formatTime(at)); err != nil {
		return fmt.Errorf("save hook secret: %w", err)
	}
	return nil
}

// HookSecrets returns the secrets kept for tracker's webhooks, oldest
// first.
func (db *DB) HookSecrets(ctx context.Context, tracker string) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT secret FROM hook_secrets WHERE tracker = $1 ORDER BY created_at, secret`, tracker)
	if err != nil {
		return nil, fmt.Errorf("read hook secrets: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read hook secrets: %w", err)
	}
	if len(out) == 0 {
		out = nil
	}
	return out, nil
}
