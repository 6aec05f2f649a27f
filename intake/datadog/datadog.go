// Package datadog reads a Datadog webhook sent with the payload template
// in Sitrep's README (testdata/shared/integrations/datadog/
// sitrep-payload-template.json), authenticated with a custom
// "Authorization: Bearer <secret>" header. Datadog fills the template as
// text, so every value is a string.
package datadog

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/intake"
)

// Source is Datadog.
type Source struct{}

// Name implements intake.Source.
func (Source) Name() string { return "datadog" }

// Authenticate accepts "Authorization: Bearer <secret>".
func (Source) Authenticate(r *http.Request, _ []byte, secret string) error {
	return intake.Bearer(r, secret)
}

type payload struct {
	ID              string `json:"id"`
	AlertID         string `json:"alert_id"`
	AlertCycleKey   string `json:"alert_cycle_key"`
	AggregKey       string `json:"aggreg_key"`
	AlertTransition string `json:"alert_transition"`
	AlertPriority   string `json:"alert_priority"`
	AlertTitle      string `json:"alert_title"`
	AlertStatus     string `json:"alert_status"`
	AlertScope      string `json:"alert_scope"`
	AlertQuery      string `json:"alert_query"`
	Hostname        string `json:"hostname"`
	Tags            string `json:"tags"`
	Date            string `json:"date"`
	EventType       string `json:"event_type"`
	Title           string `json:"title"`
	Body            string `json:"body"`
	Link            string `json:"link"`
}

// Parse reads the monitor's transition. The key is the monitor's alert ID
// with its aggregation key (one per monitored group, such as a host).
func (Source) Parse(r *http.Request, body []byte, now time.Time) ([]incident.Alert, error) {
	var p payload
	if err := intake.DecodeJSON(r, body, "a Datadog webhook with Sitrep's template", &p); err != nil {
		return nil, err
	}
	if p.AlertID == "" || p.AlertTransition == "" {
		return nil, intake.Badf("this Datadog webhook lacks alert_id or alert_transition: install the payload template from Sitrep's README")
	}
	var status incident.AlertStatus
	switch strings.ToLower(p.AlertTransition) {
	case "triggered", "re-triggered", "warn", "re-warn", "no data", "re-no data", "renotify":
		status = incident.AlertFiring
	case "recovered":
		status = incident.AlertResolved
	default:
		return nil, intake.Badf("unknown Datadog alert_transition %q", p.AlertTransition)
	}
	a := incident.Alert{
		Key:    p.AlertID + "/" + p.AggregKey,
		Status: status,
		Title:  strings.TrimSpace(strings.TrimPrefix(p.AlertTitle, "["+p.AlertTransition+"]")),
		Labels: map[string]string{"priority": p.AlertPriority, "host": p.Hostname, "event_type": p.EventType},
		Annotations: map[string]string{
			"status": p.AlertStatus, "scope": p.AlertScope, "query": p.AlertQuery, "message": p.Body,
		},
	}
	for _, t := range strings.Split(p.Tags, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(t), ":"); ok && k != "" && len(a.Labels) < incident.MaxAlertLabels/2 {
			a.Labels[k] = v
		}
	}
	at := now
	if ms, err := strconv.ParseInt(p.Date, 10, 64); err == nil {
		at = time.UnixMilli(ms)
	}
	if status == incident.AlertFiring {
		a.StartsAt = at
	} else {
		a.EndsAt = at
	}
	if p.Link != "" {
		a.Links = []incident.AlertLink{{Text: "Datadog", URL: p.Link}}
	}
	return []incident.Alert{a}, nil
}
