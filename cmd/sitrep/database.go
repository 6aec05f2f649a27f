package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/storage/postgres"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// SITREP_DB names the database in one of two ways, and this file is the
// one place that tells them apart: a postgres:// (or postgresql://) URL is
// PostgreSQL, for any number of replicas; anything else is a SQLite file,
// given as a path or as sqlite:path.

// appDB is an open store, whichever kind.
type appDB interface {
	incident.Store
	// The secrets trackers hand over at a webhook's handshake (Asana's),
	// kept in the database so that any replica can check a delivery
	// another replica took the handshake for.
	SaveHookSecret(ctx context.Context, tracker, secret string, at time.Time) error
	HookSecrets(ctx context.Context, tracker string) ([]string, error)
	Close() error
}

// Both stores are whole apps' databases.
var (
	_ appDB = (*sqlite.DB)(nil)
	_ appDB = (*postgres.DB)(nil)
)

// isPostgres reports whether the SITREP_DB setting names PostgreSQL.
func isPostgres(setting string) bool { return postgres.IsURL(setting) }

// sqlitePath is the file a SQLite setting names.
func sqlitePath(setting string) string { return strings.TrimPrefix(setting, "sqlite:") }

// openDB opens the database the SITREP_DB setting names, migrating its
// schema, with the store recording times by now. Errors name SITREP_DB,
// never its password.
func openDB(ctx context.Context, setting string, now func() time.Time) (appDB, error) {
	if isPostgres(setting) {
		db, err := postgres.Open(ctx, setting)
		if err != nil {
			return nil, fmt.Errorf("SITREP_DB: open %s: %w", describeDB(setting), err)
		}
		db.Now = now
		return db, nil
	}
	path := sqlitePath(setting)
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("SITREP_DB: open %s: %w", path, err)
	}
	db.Now = now
	return db, nil
}

// describeDB names the database for logs and messages: a SQLite file's
// path, or a PostgreSQL URL with its password masked.
func describeDB(setting string) string {
	if !isPostgres(setting) {
		return sqlitePath(setting)
	}
	u, err := url.Parse(setting)
	if err != nil {
		return "(a PostgreSQL URL that cannot be parsed)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
