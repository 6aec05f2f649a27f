// Package generic reads Sitrep's own alert JSON, for anything that can
// post a webhook: {"dedup_key", "status": "firing"|"resolved", "title",
// "severity"?, "labels"?: {}, "description"?, "links"?: [{"text","url"}],
// "started_at"?: RFC 3339}, authenticated with a bearer token. One alert
// per request, or an array of them.
package generic

import (
	"bytes"
	"net/http"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/intake"
)

// Source is the generic webhook.
type Source struct{}

// Name implements intake.Source.
func (Source) Name() string { return "generic" }

// Authenticate accepts "Authorization: Bearer <secret>".
func (Source) Authenticate(r *http.Request, _ []byte, secret string) error {
	return intake.Bearer(r, secret)
}

type alert struct {
	DedupKey    string               `json:"dedup_key"`
	Status      string               `json:"status"`
	Title       string               `json:"title"`
	Severity    string               `json:"severity"`
	Labels      map[string]string    `json:"labels"`
	Description string               `json:"description"`
	Links       []incident.AlertLink `json:"links"`
	StartedAt   *time.Time           `json:"started_at"`
}

// Parse reads one alert, or a JSON array of them.
func (Source) Parse(r *http.Request, body []byte, now time.Time) ([]incident.Alert, error) {
	var list []alert
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '[' {
		if err := intake.DecodeJSON(r, body, "a list of Sitrep generic alerts", &list); err != nil {
			return nil, err
		}
	} else {
		var one alert
		if err := intake.DecodeJSON(r, body, "a Sitrep generic alert", &one); err != nil {
			return nil, err
		}
		list = []alert{one}
	}
	out := make([]incident.Alert, 0, len(list))
	for i, a := range list {
		if a.DedupKey == "" {
			return nil, intake.Badf("alert %d has no dedup_key: give each alert a key that stays the same from firing to resolved", i+1)
		}
		if a.Status != string(incident.AlertFiring) && a.Status != string(incident.AlertResolved) {
			return nil, intake.Badf("alert %d: status %q is neither \"firing\" nor \"resolved\"", i+1, a.Status)
		}
		al := incident.Alert{Key: a.DedupKey, Status: incident.AlertStatus(a.Status), Title: a.Title, Labels: a.Labels, Links: a.Links}
		if a.Severity != "" {
			if al.Labels == nil {
				al.Labels = map[string]string{}
			}
			al.Labels["severity"] = a.Severity
		}
		if a.Description != "" {
			al.Annotations = map[string]string{"description": a.Description}
		}
		if a.StartedAt != nil {
			al.StartsAt = *a.StartedAt
		}
		if al.Status == incident.AlertResolved {
			al.EndsAt = now
		}
		out = append(out, al)
	}
	return out, nil
}
