package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/oncall"
)

// pagesArg encodes an incident's pages as a JSON array; none is "[]".
func pagesArg(pages []incident.Page) (string, error) {
	if len(pages) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(pages)
	if err != nil {
		return "", fmt.Errorf("encode pages: %w", err)
	}
	return string(b), nil
}

// parsePages decodes pagesArg's JSON, times in UTC; none is nil.
func parsePages(s string) ([]incident.Page, error) {
	var pages []incident.Page
	if err := json.Unmarshal([]byte(s), &pages); err != nil {
		return nil, fmt.Errorf("decode pages: %w", err)
	}
	if len(pages) == 0 {
		return nil, nil
	}
	for i := range pages {
		p := &pages[i]
		p.At, p.Due, p.AckAt = utc(p.At), utc(p.Due), utc(p.AckAt)
	}
	return pages, nil
}

// DuePages returns the incidents with a page step due at now, earliest
// first, and the earliest step due after now (zero if none). Both queries
// read only the incidents_pages_due index.
func (db *DB) DuePages(ctx context.Context, now time.Time) ([]int64, time.Time, error) {
	at := formatTime(now)
	rows, err := db.read.QueryContext(ctx, `SELECT number FROM incidents
		WHERE next_page_at IS NOT NULL AND next_page_at <= ? ORDER BY next_page_at`, at)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("due pages: %w", err)
	}
	defer rows.Close()
	var due []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, time.Time{}, fmt.Errorf("due pages: %w", err)
		}
		due = append(due, n)
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("due pages: %w", err)
	}
	var next sql.NullString
	if err := db.read.QueryRowContext(ctx, `SELECT MIN(next_page_at) FROM incidents
		WHERE next_page_at IS NOT NULL AND next_page_at > ?`, at).Scan(&next); err != nil {
		return nil, time.Time{}, fmt.Errorf("next page: %w", err)
	}
	t, err := parseTime(next)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("next page: %w", err)
	}
	return due, t, nil
}

// AddOverride stores an on-call override and returns it with its ID.
func (db *DB) AddOverride(ctx context.Context, o oncall.Override) (oncall.Override, error) {
	if !o.End.After(o.Start) {
		return oncall.Override{}, incident.Errorf(incident.EINVALID, "An override must end after it starts.")
	}
	err := db.writeTx(ctx, "add override", func(ctx context.Context, tx *sql.Tx) (func(), error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO oncall_overrides (schedule, user_id, starts_at, ends_at, set_by, set_at)
			VALUES (?, ?, ?, ?, ?, ?)`, o.Schedule, o.User, formatTime(o.Start), formatTime(o.End), o.SetBy, formatTime(o.SetAt))
		if err != nil {
			return nil, fmt.Errorf("add override: %w", err)
		}
		if o.ID, err = res.LastInsertId(); err != nil {
			return nil, fmt.Errorf("add override: %w", err)
		}
		return nil, nil
	})
	if err != nil {
		return oncall.Override{}, err
	}
	o.Start, o.End, o.SetAt = utc(o.Start), utc(o.End), utc(o.SetAt)
	return o, nil
}

// Overrides returns the overrides that end after t, in the order they
// were set.
func (db *DB) Overrides(ctx context.Context, t time.Time) ([]oncall.Override, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, schedule, user_id, starts_at, ends_at, set_by, set_at
		FROM oncall_overrides WHERE ends_at > ? ORDER BY id`, formatTime(t))
	if err != nil {
		return nil, fmt.Errorf("overrides: %w", err)
	}
	defer rows.Close()
	var out []oncall.Override
	for rows.Next() {
		var (
			o                 oncall.Override
			start, end, setAt sql.NullString
		)
		if err := rows.Scan(&o.ID, &o.Schedule, &o.User, &start, &end, &o.SetBy, &setAt); err != nil {
			return nil, fmt.Errorf("overrides: %w", err)
		}
		for _, f := range []struct {
			dst *time.Time
			src sql.NullString
		}{{&o.Start, start}, {&o.End, end}, {&o.SetAt, setAt}} {
			if *f.dst, err = parseTime(f.src); err != nil {
				return nil, fmt.Errorf("overrides: %w", err)
			}
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
