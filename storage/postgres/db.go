// Package postgres stores incidents in PostgreSQL. It implements
// incident.Store, the same contract as storage/sqlite, for installations
// that run more than one replica of Sitrep against one database.
//
// Every write that numbers something (an incident's number, an event's
// seq, a change's change_seq) holds the store's write lock, a SHARE ROW
// EXCLUSIVE lock on the incidents table taken first thing in its
// transaction (see writeTx). The lock is the database's, so it orders
// writers in every replica alike: numbers have no gaps, and what is
// numbered later is also committed later, which the integrations' cursors
// and the watchers of Changes rely on. Reads take no lock and see the last
// committed state. Writes that number nothing (a delivery's progress, a
// claim, a triage message, an on-call override, a tracker's hook secret)
// do not take the lock.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sitrep-dev/sitrep/incident"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is an open Sitrep database on a PostgreSQL server. It is safe for
// concurrent use, and any number of processes may open the same database.
type DB struct {
	pool  *pgxpool.Pool
	locks *locker // claims of exclusive work (exclusive.go)
	wire  *roundTrips

	// Now is the time the store records things at (when an event was
	// recorded, a delivery saved); time.Now unless a test sets it. Set it
	// before the store is used.
	Now func() time.Time

	// commit batches the writes of writeTx (commit.go).
	commit committer
}

var _ incident.Store = (*DB)(nil)

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://) rather than a file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database at url (postgres://user@host/db?…; a
// search_path parameter picks the schema) and brings its schema up to
// date. Every replica may call Open at once; migrations are applied once.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message repeats the URL, password included.
		return nil, fmt.Errorf("open database: the PostgreSQL URL is not valid (%s): use postgres://user:password@host:5432/database", redactParseError(err))
	}
	wire := countRoundTrips(&cfg.ConnConfig.Config) // trace.go
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &DB{pool: pool, locks: newLocker(cfg.ConnConfig.Copy()), wire: wire, Now: time.Now}, nil
}

// redactParseError keeps what pgx says is wrong without the URL it quotes
// (its redaction of passwords is best effort on a malformed URL).
func redactParseError(err error) string {
	msg := err.Error()
	if i, j := strings.Index(msg, "`"), strings.LastIndex(msg, "`"); i >= 0 && j > i {
		msg = msg[:i] + "the URL" + msg[j+1:]
	}
	return msg
}

// Close closes the database's connections.
func (db *DB) Close() error {
	db.locks.close()
	db.pool.Close()
	return nil
}

// Ping reports whether the database can be read: a query on the schema,
// which a bare connection check would not make.
func (db *DB) Ping(ctx context.Context) error {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// writeLock is the store's write lock (see the package comment). SHARE ROW
// EXCLUSIVE conflicts with itself and with every other write of incidents,
// not with reads, nor with the key-share row locks that inserting a
// delivery's foreign key takes.
const writeLock = `LOCK TABLE incidents IN SHARE ROW EXCLUSIVE MODE`

// writeTx, which runs a write holding the write lock, is in commit.go:
// it commits the writes that wait together in one transaction.

// pgError returns the server's error code and constraint, if err is one.
func pgError(err error) (code, constraint string) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code, pe.ConstraintName
	}
	return "", ""
}

const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// migration is one embedded schema change.
type migration struct {
	version int64
	name    string
	sql     string
}

// Versions returns the versions of the embedded migrations, in order. They
// are SQLite's versions: the two stores' schemas are versioned together.
func Versions() ([]int64, error) {
	ms, err := migrations()
	if err != nil {
		return nil, err
	}
	vs := make([]int64, len(ms))
	for i, m := range ms {
		vs[i] = m.version
	}
	return vs, nil
}

// migrations returns the embedded migrations in order. A file is named
// NNNN_description.sql; NNNN is its version.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive version and '_'", base)
		}
		b, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s have the same version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// migrate applies the migrations the database lacks, each in its own
// transaction with its schema_migrations row. Replicas starting together
// take turns: each holds a session advisory lock, named for the schema the
// tables are in, while it checks and applies, so every migration is applied
// exactly once and a replica never sees a half-made schema.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return migrateTo(ctx, pool, 0)
}

// migrateTo is migrate, applying only the migrations up to version last
// (all of them when last is 0): tests make a database as an older build
// left it.
func migrateTo(ctx context.Context, pool *pgxpool.Pool, last int64) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('sitrep migrate ' || current_schema()))`); err != nil {
		return fmt.Errorf("open database: wait for other replicas' migrations: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext('sitrep migrate ' || current_schema()))`)

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT NOT NULL PRIMARY KEY,
		name       TEXT   NOT NULL,
		applied_at TEXT   NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	// A database migrated by a newer build may have columns or constraints
	// this build does not know about and would violate; refuse rather than
	// corrupt it.
	var newest int64
	if err := conn.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if len(ms) > 0 && newest > ms[len(ms)-1].version {
		return fmt.Errorf("database schema version %d is newer than this build's %d: run the newer Sitrep, or restore a backup made for this one", newest, ms[len(ms)-1].version)
	}
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("read schema versions: %w", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("read schema versions: %w", err)
	}
	for _, m := range ms {
		if slices.Contains(applied, m.version) || (last > 0 && m.version > last) {
			continue
		}
		if err := apply(ctx, conn.Conn(), m); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, conn *pgx.Conn, m migration) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migration %s: begin: %w", m.name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// The simple protocol runs a file of several statements at once.
	if _, err := tx.Exec(ctx, m.sql, pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.version, m.name, formatTime(time.Now())); err != nil {
		return fmt.Errorf("migration %s: record: %w", m.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return nil
}
