// Package sentry reads a Sentry integration's webhooks: issues (created,
// resolved, reopened), issue alerts (event_alert) and metric alerts, signed
// with Sentry-Hook-Signature, the hex HMAC-SHA256 of the body with the
// integration's Client Secret. Other resources and actions (assigned,
// archived, installation, comments) carry no alert and are answered
// without recording anything.
package sentry

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/intake"
)

// Source is Sentry.
type Source struct{}

// Name implements intake.Source.
func (Source) Name() string { return "sentry" }

// Authenticate checks the body's signature. Sentry does not sign its
// timestamp, so a replayed body verifies: resends are harmless, because
// alerts are kept per key and status.
func (Source) Authenticate(r *http.Request, body []byte, secret string) error {
	sig := r.Header.Get("Sentry-Hook-Signature")
	if sig == "" {
		sig = r.Header.Get("Sentry-App-Signature") // Sentry's legacy header
	}
	return intake.HMACHex(body, sig, secret)
}

// id is an ID Sentry sends as a string in some payloads and a number in
// others.
type id string

func (i *id) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*i = id(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*i = id(n.String())
	return nil
}

type payload struct {
	Action string `json:"action"`
	Data   struct {
		Issue *struct {
			ID        id        `json:"id"`
			Title     string    `json:"title"`
			Culprit   string    `json:"culprit"`
			Level     string    `json:"level"`
			ShortID   string    `json:"shortId"`
			Permalink string    `json:"permalink"`
			WebURL    string    `json:"web_url"`
			FirstSeen time.Time `json:"firstSeen"`
			Project   struct {
				Slug string `json:"slug"`
			} `json:"project"`
		} `json:"issue"`
		Event *struct {
			IssueID  id         `json:"issue_id"`
			Title    string     `json:"title"`
			Culprit  string     `json:"culprit"`
			Level    string     `json:"level"`
			WebURL   string     `json:"web_url"`
			Datetime time.Time  `json:"datetime"`
			Tags     [][]string `json:"tags"`
		} `json:"event"`
		TriggeredRule string `json:"triggered_rule"`
		MetricAlert   *struct {
			ID    id     `json:"id"`
			Title string `json:"title"`
		} `json:"metric_alert"`
		DescriptionText string `json:"description_text"`
	} `json:"data"`
}

// Parse reads the alert the webhook carries, if any.
func (Source) Parse(r *http.Request, body []byte, now time.Time) ([]incident.Alert, error) {
	resource := r.Header.Get("Sentry-Hook-Resource")
	var p payload
	if err := intake.DecodeJSON(r, body, "a Sentry webhook", &p); err != nil {
		return nil, err
	}
	switch resource {
	case "issue":
		iss := p.Data.Issue
		if iss == nil || iss.ID == "" {
			return nil, intake.Badf("this Sentry issue webhook has no data.issue.id")
		}
		var status incident.AlertStatus
		switch p.Action {
		case "created", "unresolved":
			status = incident.AlertFiring
		case "resolved":
			status = incident.AlertResolved
		default:
			return nil, nil // assigned, archived, ignored: nothing to alert on
		}
		a := incident.Alert{
			Key: "issue:" + string(iss.ID), Status: status, Title: iss.Title, StartsAt: iss.FirstSeen,
			Labels:      map[string]string{"level": iss.Level, "project": iss.Project.Slug, "short_id": iss.ShortID},
			Annotations: map[string]string{"culprit": iss.Culprit},
		}
		for _, u := range []string{iss.WebURL, iss.Permalink} {
			if u != "" {
				a.Links = append(a.Links, incident.AlertLink{Text: "Issue", URL: u})
				break
			}
		}
		if status == incident.AlertResolved {
			a.EndsAt = now
		}
		return []incident.Alert{a}, nil
	case "event_alert":
		ev := p.Data.Event
		if ev == nil || ev.IssueID == "" {
			return nil, intake.Badf("this Sentry event alert has no data.event.issue_id")
		}
		a := incident.Alert{
			Key: "issue:" + string(ev.IssueID), Status: incident.AlertFiring, Title: ev.Title, StartsAt: ev.Datetime,
			Labels:      map[string]string{"level": ev.Level, "rule": p.Data.TriggeredRule},
			Annotations: map[string]string{"culprit": ev.Culprit},
		}
		for _, t := range ev.Tags {
			if len(t) == 2 && len(a.Labels) < incident.MaxAlertLabels/2 {
				a.Labels["tag_"+t[0]] = t[1]
			}
		}
		if ev.WebURL != "" {
			a.Links = []incident.AlertLink{{Text: "Event", URL: ev.WebURL}}
		}
		return []incident.Alert{a}, nil
	case "metric_alert":
		ma := p.Data.MetricAlert
		if ma == nil || ma.ID == "" {
			return nil, intake.Badf("this Sentry metric alert has no data.metric_alert.id")
		}
		status := incident.AlertFiring
		switch p.Action {
		case "critical", "warning":
		case "resolved":
			status = incident.AlertResolved
		default:
			return nil, intake.Badf("unknown Sentry metric alert action %q", p.Action)
		}
		a := incident.Alert{
			Key: "metric:" + string(ma.ID), Status: status, Title: ma.Title,
			Labels:      map[string]string{"level": p.Action},
			Annotations: map[string]string{"description": p.Data.DescriptionText},
		}
		if status == incident.AlertResolved {
			a.EndsAt = now
		}
		return []incident.Alert{a}, nil
	case "":
		return nil, intake.Badf("the Sentry-Hook-Resource header is missing")
	}
	return nil, nil // installation, comments and the like carry no alert
}
