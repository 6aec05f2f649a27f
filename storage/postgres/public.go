package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

var _ incident.PublicStore = (*DB)(nil)

// publicArgs are the public, public_at and public_open columns for p: the
// page as JSON (nil when nothing was ever published or drafted), when its
// latest update went out, and whether it still shows the incident as
// ongoing.
func publicArgs(p incident.PublicPage) ([]any, error) {
	if p.ID == "" && len(p.Updates) == 0 && p.Draft == nil {
		return []any{nil, nil, false}, nil
	}
	b, err := json.Marshal(storedPublic(p))
	if err != nil {
		return nil, fmt.Errorf("encode public page: %w", err)
	}
	var at *string
	if u, ok := p.Latest(); ok {
		if at, err = timeArg(u.At); err != nil {
			return nil, fmt.Errorf("public update: %w", err)
		}
	}
	return []any{string(b), at, p.PublicOpen()}, nil
}

// parsePublic decodes publicArgs's JSON; nil is no page.
func parsePublic(s *string) (incident.PublicPage, error) {
	var p incident.PublicPage
	if s == nil {
		return p, nil
	}
	if err := json.Unmarshal([]byte(*s), &p); err != nil {
		return p, fmt.Errorf("decode public page: %w", err)
	}
	return storedPublic(p), nil
}

// storedPublic is p as it reads back: times in UTC, empty lists nil, and
// copies, so that the caller's page and the stored one share nothing.
func storedPublic(p incident.PublicPage) incident.PublicPage {
	fix := func(u incident.PublicUpdate) incident.PublicUpdate {
		u.At = utc(u.At)
		if len(u.Components) == 0 {
			u.Components = nil
		} else {
			u.Components = append([]incident.ComponentImpact(nil), u.Components...)
		}
		return u
	}
	out := incident.PublicPage{ID: p.ID}
	for _, u := range p.Updates {
		out.Updates = append(out.Updates, fix(u))
	}
	if p.Draft != nil {
		d := fix(*p.Draft)
		out.Draft = &d
	}
	return out
}

// Published returns the incidents the status page shows: those whose latest
// published update is at or after since, and those still ongoing there,
// latest first. It reads the incidents_public index, not the others.
func (db *DB) Published(ctx context.Context, since time.Time) ([]incident.PublishedIncident, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, public::text FROM incidents
		WHERE public_at IS NOT NULL AND (public_at >= $1 OR public_open)
		ORDER BY public_at DESC, number DESC`, formatTime(since))
	if err != nil {
		return nil, fmt.Errorf("published incidents: %w", err)
	}
	defer rows.Close()
	var out []incident.PublishedIncident
	for rows.Next() {
		var (
			pi     incident.PublishedIncident
			public *string
		)
		if err := rows.Scan(&pi.IncidentID, &public); err != nil {
			return nil, fmt.Errorf("published incidents: %w", err)
		}
		if pi.Page, err = parsePublic(public); err != nil {
			return nil, fmt.Errorf("published incidents: %w", err)
		}
		out = append(out, pi)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("published incidents: %w", err)
	}
	return out, nil
}
