// Package sqlite stores incidents in a SQLite file. It implements
// incident.Store.
//
// A DB holds two connection pools on the same file. The write pool has a
// single connection whose transactions begin IMMEDIATE, so a transaction
// holds SQLite's write lock from its first statement: reading the next
// incident number and inserting it cannot interleave with another writer,
// whether that writer is a goroutine of this process or another process (the
// lock is on the file, and busy_timeout makes the loser wait instead of
// failing). One connection also means this process's writers queue in Go,
// in order, rather than polling SQLite's busy handler. The read pool has
// several query-only connections; with WAL, reads see the last committed
// state and neither block nor are blocked by the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/sitrep-dev/sitrep/incident"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is an open Sitrep database. It is safe for concurrent use.
type DB struct {
	write *sql.DB // one connection; every transaction takes the write lock at BEGIN
	read  *sql.DB // query-only connections for statements outside transactions
	// writeTurn is held by the goroutine running a batch of writes on
	// the write connection (commit.go).
	writeTurn chan struct{}
	// queue holds the writes waiting for the next batch (commit.go);
	// batches counts the transactions they were committed in.
	queue   writeQueue
	batches atomic.Int64
	// cache keeps the incidents this process changed last (cache.go);
	// inBatch those the batch of writes running has changed so far, for
	// its later writes. Only the goroutine holding writeTurn uses inBatch.
	cache   incidentCache
	inBatch map[int64]*incident.Incident

	writeStmts, readStmts stmtCache

	// Now is the time the store records things at (when an event was
	// recorded, a delivery saved); time.Now unless a test sets it. Set it
	// before the store is used.
	Now func() time.Time
}

var _ incident.Store = (*DB)(nil)

// busyTimeout is how long a connection waits for another process's write
// lock before giving up with SQLITE_BUSY. Transactions are short, so waiting
// this long means something is wrong.
const busyTimeout = 5 * time.Second

// dsn builds a go-sqlite3 data source name. Only the write pool sets the
// journal mode: WAL is a property of the file, set once, and setting it on a
// query-only connection would be a write.
func dsn(path string, write bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.Itoa(int(busyTimeout/time.Millisecond)))
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL") // durable enough with WAL: a crash loses at most the last commits, never consistency
	// Each connection keeps the statements it ran last prepared, so the
	// reads a change sets off (the delivery passes, the prompter, the
	// pager) are not parsed and planned again every time: preparing them
	// was 8% of the CPU a Sitrep busy with notes spent.
	q.Set("_stmt_cache_size", "32")
	if write {
		q.Set("_journal_mode", "WAL")
		q.Set("_txlock", "immediate")
	} else {
		q.Set("_query_only", "on")
	}
	return path + "?" + q.Encode()
}

// Open opens the database at path, creating the file if needed, and brings
// its schema up to date. Every process that shares the file may call Open;
// migrations are applied once.
func Open(ctx context.Context, path string) (*DB, error) {
	// go-sqlite3 reads options after the first '?', and treats "file:" names
	// as URIs; neither belongs in a plain file path.
	if path == "" || strings.Contains(path, "?") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, fmt.Errorf("open database: %q is not a usable file path", path)
	}
	write, err := openWrite(ctx, path)
	if err != nil {
		return nil, err
	}

	read, err := sql.Open("sqlite3", dsn(path, false))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	n := max(4, runtime.NumCPU())
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := read.PingContext(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	db := &DB{write: write, read: read, writeTurn: make(chan struct{}, 1), Now: time.Now, inBatch: map[int64]*incident.Incident{}}
	// The statements every change runs are prepared once, on the write
	// pool's one connection, before any transaction can hold it.
	queries := append([]string{updateIncident, insertEvent, selectVersion}, alertQueries...)
	for _, where := range txReads {
		queries = append(queries, selectIncident+where)
	}
	for _, q := range queries {
		if _, err := db.writeStmts.prepare(ctx, write, q); err != nil {
			db.Close()
			return nil, fmt.Errorf("open database: prepare: %w", err)
		}
	}
	return db, nil
}

// openWrite opens the write pool and migrates the schema. Processes opening
// a new file together can be told "database is locked" at once, without
// SQLite's busy wait: switching a file to WAL needs it to themselves, and
// SQLite refuses rather than deadlock. That is retried a few times.
func openWrite(ctx context.Context, path string) (*sql.DB, error) {
	for attempt := 1; ; attempt++ {
		write, err := sql.Open("sqlite3", dsn(path, true))
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		write.SetMaxOpenConns(1)
		err = migrate(ctx, write)
		if err == nil {
			return write, nil
		}
		write.Close()
		var se sqlite3.Error
		if attempt == 10 || !errors.As(err, &se) || (se.Code != sqlite3.ErrBusy && se.Code != sqlite3.ErrLocked) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
		}
	}
}

// Close closes the database. Transactions in progress are rolled back.
func (db *DB) Close() error {
	return errors.Join(db.readStmts.close(), db.writeStmts.close(), db.read.Close(), db.write.Close())
}

// Ping reports whether the database can be read. It runs a query on the
// schema, which a mere connection check would not.
func (db *DB) Ping(ctx context.Context) error {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// migration is one embedded schema change.
type migration struct {
	version int64
	name    string
	sql     string
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
// transaction together with its schema_migrations row, so a failed migration
// leaves no trace and the next start retries it. Because the transactions
// take the write lock at BEGIN and check schema_migrations inside, processes
// starting together apply each migration exactly once.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at TEXT    NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}

	// A database migrated by a newer build may have columns or constraints
	// this build does not know about and would violate; refuse rather than
	// corrupt it.
	var newest int64
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if len(ms) > 0 && newest > ms[len(ms)-1].version {
		return fmt.Errorf("database schema version %d is newer than this build's %d", newest, ms[len(ms)-1].version)
	}

	for _, m := range ms {
		if err := apply(ctx, db, m); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: begin: %w", m.name, err)
	}
	defer tx.Rollback()

	var done bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, m.version).Scan(&done); err != nil {
		return fmt.Errorf("migration %s: check: %w", m.name, err)
	}
	if done {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, formatTime(time.Now())); err != nil {
		return fmt.Errorf("migration %s: record: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return nil
}
