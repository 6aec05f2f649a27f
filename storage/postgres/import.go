package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// importTables are the tables an installation is made of, in an order that
// satisfies their foreign keys. schema_migrations is not among them: each
// database keeps its own record, and ImportSQLite checks they agree.
var importTables = []string{
	"incidents", "incident_roles", "events", "checklist_items", "follow_ups",
	"claims", "deliveries", "delivery_refs", "alerts", "alert_groups",
	"hook_secrets", "oncall_overrides",
}

// identities are the copied tables whose IDs the database assigns, by
// column: after the copy, the next ID continues after the copied ones.
var identities = map[string]string{"events": "seq", "oncall_overrides": "id"}

// TableCount is how many rows of a table were copied, and found on both
// sides after the copy.
type TableCount struct {
	Table string
	Rows  int64
}

// ImportSQLite copies a whole SQLite installation, the file at path, into
// this database, which must hold no incidents, alerts or claims yet:
// incidents with their timelines, roles, checklists, follow-ups (with
// their tracker issues), prompt and paging state, every integration's
// delivery state and refs, claims, alerts and alert groups with their
// holds, trackers' hook secrets and on-call overrides. The SQLite file is first brought up to this build's schema,
// so both sides have the same tables and columns. Everything is copied in
// one transaction holding the write lock, and the row count of every table
// is compared on both sides before it commits: a copy that does not match
// leaves nothing behind.
func (db *DB) ImportSQLite(ctx context.Context, path string) ([]TableCount, error) {
	// Open migrates the file; replicas must not be writing to it.
	src, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	applied, err := src.Migrations(ctx)
	src.Close()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var srcVersions []int64
	for _, m := range applied {
		srcVersions = append(srcVersions, m.Version)
	}
	ours, err := db.Migrations(ctx)
	if err != nil {
		return nil, err
	}
	var dstVersions []int64
	for _, m := range ours {
		dstVersions = append(dstVersions, m.Version)
	}
	if !slices.Equal(srcVersions, dstVersions) {
		return nil, fmt.Errorf("%s has schema versions %v and this database %v: run the same Sitrep build on both", path, srcVersions, dstVersions)
	}

	// Read through a read-only connection of its own: the copy reads every
	// table inside one read transaction, so it is one moment of the file.
	ro, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&_query_only=on")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer ro.Close()
	rtx, err := ro.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer rtx.Rollback()

	var counts []TableCount
	// The import runs alone, not batched: it is one long transaction
	// into an empty database, and its caller's context must still be able
	// to stop it.
	err = db.soloTx(ctx, "import", func(ctx context.Context, tx pgx.Tx) error {
		for _, table := range []string{"incidents", "alerts", "alert_groups", "claims", "hook_secrets", "oncall_overrides"} {
			var n int64
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
				return fmt.Errorf("import: %w", err)
			}
			if n > 0 {
				return fmt.Errorf("import: this database already holds %d rows of %s; copy into an empty database, so that nothing is merged by mistake", n, table)
			}
		}
		for _, table := range importTables {
			n, err := copyTable(ctx, rtx, tx, table)
			if err != nil {
				return fmt.Errorf("import %s: %w", table, err)
			}
			counts = append(counts, TableCount{Table: table, Rows: n})
		}
		// The next event continues after the copied ones (the
		// integrations' cursors point at seqs), and the next override
		// after the copied overrides.
		for table, col := range identities {
			if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('`+table+`', '`+col+`'), GREATEST((SELECT max(`+col+`) FROM `+table+`), 1), (SELECT count(*) > 0 FROM `+table+`))`); err != nil {
				return fmt.Errorf("import: %s numbering: %w", table, err)
			}
		}
		return verifyCounts(ctx, rtx, tx, counts)
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// column is one column of a PostgreSQL table.
type column struct {
	name, kind string
	// domain is the column's domain: utc_time for times.
	domain string
}

// copyTable copies every row of table from src to dst, converting what
// the two databases spell differently (SQLite's 0/1 for booleans, and an
// empty string for a time not set where this database has NULL:
// alert_groups' declare_at), and returns how many rows it copied.
func copyTable(ctx context.Context, src *sql.Tx, dst pgx.Tx, table string) (int64, error) {
	rows, err := dst.Query(ctx, `SELECT column_name, data_type, coalesce(domain_name, '') FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		return 0, err
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
		var c column
		err := r.Scan(&c.name, &c.kind, &c.domain)
		return c, err
	})
	if err != nil {
		return 0, err
	}
	if len(cols) == 0 {
		return 0, fmt.Errorf("no such table here")
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	// Quoted: some columns (key, cursor) are keywords to one side or the other.
	quoted := `"` + strings.Join(names, `", "`) + `"`
	srcRows, err := src.QueryContext(ctx, `SELECT `+quoted+` FROM `+table)
	if err != nil {
		return 0, fmt.Errorf("read (the file's %s lacks a column this build has?): %w", table, err)
	}
	defer srcRows.Close()
	insert := `INSERT INTO ` + table + ` (` + quoted + `) `
	if _, ok := identities[table]; ok {
		// events' seq is GENERATED ALWAYS; the clause does no harm to
		// an identity generated by default.
		insert += `OVERRIDING SYSTEM VALUE `
	}
	insert += `VALUES (` + placeholders(1, len(cols)) + `)`

	var (
		n     int64
		batch = &pgx.Batch{}
	)
	flush := func() error {
		if batch.Len() == 0 {
			return nil
		}
		err := dst.SendBatch(ctx, batch).Close()
		batch = &pgx.Batch{}
		return err
	}
	for srcRows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := srcRows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, c := range cols {
			switch v := vals[i].(type) {
			case []byte:
				vals[i] = string(v)
				if c.domain == "utc_time" && v != nil && len(v) == 0 {
					vals[i] = nil
				}
			case string:
				if c.domain == "utc_time" && v == "" {
					vals[i] = nil
				}
			case int64:
				if c.kind == "boolean" {
					vals[i] = v != 0
				}
			}
		}
		batch.Queue(insert, vals...)
		n++
		if batch.Len() == 500 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := srcRows.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// verifyCounts compares every table's rows on both sides with what was
// copied.
func verifyCounts(ctx context.Context, src *sql.Tx, dst pgx.Tx, counts []TableCount) error {
	for _, c := range counts {
		var inSrc, inDst int64
		if err := src.QueryRowContext(ctx, `SELECT count(*) FROM `+c.Table).Scan(&inSrc); err != nil {
			return fmt.Errorf("verify %s: %w", c.Table, err)
		}
		if err := dst.QueryRow(ctx, `SELECT count(*) FROM `+c.Table).Scan(&inDst); err != nil {
			return fmt.Errorf("verify %s: %w", c.Table, err)
		}
		if inSrc != c.Rows || inDst != c.Rows {
			return fmt.Errorf("verify %s: the file has %d rows, %d were copied, this database has %d; nothing was kept", c.Table, inSrc, c.Rows, inDst)
		}
	}
	return nil
}
