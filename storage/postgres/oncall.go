package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	rows, err := db.pool.Query(ctx, `SELECT number FROM incidents
		WHERE next_page_at IS NOT NULL AND next_page_at <= $1 ORDER BY next_page_at`, at)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("due pages: %w", err)
	}
	due, err := collectNumbers(rows)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("due pages: %w", err)
	}
	var next *string
	if err := db.pool.QueryRow(ctx, `SELECT MIN(next_page_at) FROM incidents
		WHERE next_page_at IS NOT NULL AND next_page_at > $1`, at).Scan(&next); err != nil {
		return nil, time.Time{}, fmt.Errorf("next page: %w", err)
	}
	t, err := parseTime(next)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("next page: %w", err)
	}
	return due, t, nil
}

// AddOverride stores an on-call override and returns it with its ID.
// Overrides do not touch incidents, so it takes no write lock: IDs come
// from the table's identity, which replicas share.
func (db *DB) AddOverride(ctx context.Context, o oncall.Override) (oncall.Override, error) {
	if !o.End.After(o.Start) {
		return oncall.Override{}, incident.Errorf(incident.EINVALID, "An override must end after it starts.")
	}
	for _, t := range []time.Time{o.Start, o.End, o.SetAt} {
		if _, err := timeArg(t); err != nil {
			return oncall.Override{}, fmt.Errorf("add override: %w", err)
		}
	}
	if err := db.pool.QueryRow(ctx, `INSERT INTO oncall_overrides (schedule, user_id, starts_at, ends_at, set_by, set_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		o.Schedule, o.User, formatTime(o.Start), formatTime(o.End), o.SetBy, formatTime(o.SetAt)).Scan(&o.ID); err != nil {
		return oncall.Override{}, fmt.Errorf("add override: %w", err)
	}
	o.Start, o.End, o.SetAt = utc(o.Start), utc(o.End), utc(o.SetAt)
	return o, nil
}

// Overrides returns the overrides that end after t, in the order they
// were set.
func (db *DB) Overrides(ctx context.Context, t time.Time) ([]oncall.Override, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, schedule, user_id, starts_at, ends_at, set_by, set_at
		FROM oncall_overrides WHERE ends_at > $1 ORDER BY id`, formatTime(t))
	if err != nil {
		return nil, fmt.Errorf("overrides: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (oncall.Override, error) {
		var (
			o                 oncall.Override
			start, end, setAt *string
		)
		if err := r.Scan(&o.ID, &o.Schedule, &o.User, &start, &end, &o.SetBy, &setAt); err != nil {
			return o, err
		}
		var err error
		for _, f := range []struct {
			dst *time.Time
			src *string
		}{{&o.Start, start}, {&o.End, end}, {&o.SetAt, setAt}} {
			if *f.dst, err = parseTime(f.src); err != nil {
				return o, err
			}
		}
		return o, nil
	})
	if err != nil {
		return nil, fmt.Errorf("overrides: %w", err)
	}
	if len(out) == 0 {
		out = nil
	}
	return out, nil
}
