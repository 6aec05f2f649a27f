// Package alertmanager reads Prometheus Alertmanager's webhook (payload
// version 4). Alertmanager cannot sign: it sends the Authorization header
// of its http_config, a bearer token or basic auth.
package alertmanager

import (
	"net/http"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/intake"
)

// Source is Alertmanager.
type Source struct{}

// Name implements intake.Source.
func (Source) Name() string { return "alertmanager" }

// Authenticate accepts "Authorization: Bearer <secret>", or basic auth
// with the secret as the password.
func (Source) Authenticate(r *http.Request, _ []byte, secret string) error {
	return intake.BearerOrBasic(r, secret)
}

// message is the webhook body: Alertmanager's own template data, with the
// fields notify/webhook adds.
type message struct {
	*template.Data
	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts uint64 `json:"truncatedAlerts"`
}

// Parse reads each alert of the notification on its own: a notification
// lists only the alerts that changed since the last one, and its
// top-level status says nothing reliable about each alert (see
// testdata/shared/integrations/alertmanager/webhook.md).
func (Source) Parse(r *http.Request, body []byte, now time.Time) ([]incident.Alert, error) {
	m := message{Data: &template.Data{}}
	if err := intake.DecodeJSON(r, body, "an Alertmanager webhook", &m); err != nil {
		return nil, err
	}
	if m.Version != "4" {
		return nil, intake.Badf("this is not an Alertmanager webhook of version 4 (version %q)", m.Version)
	}
	out := make([]incident.Alert, 0, len(m.Alerts))
	for i, a := range m.Alerts {
		if a.Fingerprint == "" {
			return nil, intake.Badf("alert %d has no fingerprint", i+1)
		}
		al := incident.Alert{
			Key:         a.Fingerprint,
			Status:      incident.AlertStatus(a.Status),
			Title:       title(a),
			Labels:      a.Labels,
			Annotations: a.Annotations,
			StartsAt:    a.StartsAt,
			EndsAt:      a.EndsAt,
			Group:       m.GroupKey,
		}
		if a.GeneratorURL != "" {
			al.Links = append(al.Links, incident.AlertLink{Text: "Source", URL: a.GeneratorURL})
		}
		if u := a.Annotations["runbook_url"]; u != "" {
			al.Links = append(al.Links, incident.AlertLink{Text: "Runbook", URL: u})
		}
		if u := a.Annotations["dashboard_url"]; u != "" {
			al.Links = append(al.Links, incident.AlertLink{Text: "Dashboard", URL: u})
		}
		out = append(out, al)
	}
	return out, nil
}

// title is the alert's summary, else its alert name.
func title(a template.Alert) string {
	if s := a.Annotations["summary"]; s != "" {
		return s
	}
	return a.Labels["alertname"]
}
