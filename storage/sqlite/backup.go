package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Migration is a schema change applied to the database.
type Migration struct {
	Version   int64
	Name      string
	AppliedAt time.Time
}

// Migrations lists the migrations applied to the database, oldest first.
func (db *DB) Migrations(ctx context.Context) ([]Migration, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	defer rows.Close()
	var ms []Migration
	for rows.Next() {
		var m Migration
		var at sql.NullString
		if err := rows.Scan(&m.Version, &m.Name, &at); err != nil {
			return nil, fmt.Errorf("list migrations: %w", err)
		}
		if m.AppliedAt, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("list migrations: %w", err)
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// BackupStats describes a backup that was written.
type BackupStats struct {
	Incidents, Events int64
	Bytes             int64
}

// Backup writes a consistent copy of the database to path with SQLite's
// online backup API, while other connections and processes go on reading
// and writing. The pages are copied in one step, inside one read
// transaction on the source, so the copy is the database at one moment;
// with WAL that read does not hold up writers. The copy is written to a
// temporary file beside path, checked, synced and renamed into place, so
// path is either the previous file or the whole new copy.
func (db *DB) Backup(ctx context.Context, path string) (BackupStats, error) {
	var st BackupStats
	if path == "" || strings.Contains(path, "?") || strings.HasPrefix(path, "file:") {
		return st, fmt.Errorf("%q is not a usable file path for the copy", path)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return st, fmt.Errorf("create the copy: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	done := false
	defer func() {
		if !done {
			os.Remove(tmpPath)
		}
	}()
	if err := db.copyTo(ctx, tmpPath); err != nil {
		return st, err
	}
	if st, err = checkCopy(ctx, tmpPath); err != nil {
		return st, err
	}
	if err := syncFile(tmpPath); err != nil {
		return st, err
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return st, fmt.Errorf("put the copy in place: %w", err)
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		d.Sync() // the rename survives a crash; best effort on filesystems without it
		d.Close()
	}
	return st, nil
}

// copyTo copies every page of the database into the SQLite file at path.
func (db *DB) copyTo(ctx context.Context, path string) error {
	dest, err := sql.Open("sqlite3", path+"?_synchronous=FULL")
	if err != nil {
		return fmt.Errorf("open the copy: %w", err)
	}
	defer dest.Close()
	dconn, err := dest.Conn(ctx)
	if err != nil {
		return fmt.Errorf("open the copy: %w", err)
	}
	defer dconn.Close()
	sconn, err := db.read.Conn(ctx)
	if err != nil {
		return fmt.Errorf("read the database: %w", err)
	}
	defer sconn.Close()
	err = dconn.Raw(func(d any) error {
		return sconn.Raw(func(s any) error {
			dc, ok1 := d.(*sqlite3.SQLiteConn)
			sc, ok2 := s.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return errors.New("backup: not SQLite connections")
			}
			b, err := dc.Backup("main", sc, "main")
			if err != nil {
				return fmt.Errorf("start the backup: %w", err)
			}
			// -1: every page in one step, so no write lands between steps.
			if _, err := b.Step(-1); err != nil {
				b.Finish()
				return fmt.Errorf("copy the pages: %w", err)
			}
			if err := b.Finish(); err != nil {
				return fmt.Errorf("finish the backup: %w", err)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	// The pages copied include the source's header, which says WAL. A
	// backup is a file to be moved and restored on its own, so it leaves
	// WAL mode: no -wal or -shm file belongs with it.
	if _, err := dconn.ExecContext(ctx, `PRAGMA journal_mode=DELETE`); err != nil {
		return fmt.Errorf("finish the copy: %w", err)
	}
	return nil
}

// checkCopy runs SQLite's integrity check on the copy at path and counts
// what it holds.
func checkCopy(ctx context.Context, path string) (BackupStats, error) {
	var st BackupStats
	c, err := sql.Open("sqlite3", path+"?_query_only=on")
	if err != nil {
		return st, fmt.Errorf("open the copy to check it: %w", err)
	}
	defer c.Close()
	var result string
	if err := c.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&result); err != nil {
		return st, fmt.Errorf("check the copy: %w", err)
	}
	if result != "ok" {
		return st, fmt.Errorf("the copy failed SQLite's integrity check: %s", result)
	}
	if err := c.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM events)`).Scan(&st.Incidents, &st.Events); err != nil {
		return st, fmt.Errorf("count the copy: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return st, fmt.Errorf("check the copy: %w", err)
	}
	st.Bytes = fi.Size()
	return st, nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("sync the copy: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync the copy: %w", err)
	}
	return nil
}
