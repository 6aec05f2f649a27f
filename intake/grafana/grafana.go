// Package grafana reads Grafana alerting's webhook contact point (payload
// version "1"), authenticated with "Authorization: Bearer <secret>".
package grafana

import (
	"net/http"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/intake"
)

// Source is Grafana.
type Source struct{}

// Name implements intake.Source.
func (Source) Name() string { return "grafana" }

// Authenticate accepts "Authorization: Bearer <secret>".
func (Source) Authenticate(r *http.Request, _ []byte, secret string) error {
	return intake.Bearer(r, secret)
}

type alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	SilenceURL   string            `json:"silenceURL"`
	DashboardURL string            `json:"dashboardURL"`
	PanelURL     string            `json:"panelURL"`
	ValueString  string            `json:"valueString"`
}

type message struct {
	Version  string  `json:"version"`
	GroupKey string  `json:"groupKey"`
	Alerts   []alert `json:"alerts"`
}

// Parse reads each alert on its own, as Alertmanager's (Grafana's
// notifications are built the same way).
func (Source) Parse(r *http.Request, body []byte, now time.Time) ([]incident.Alert, error) {
	var m message
	if err := intake.DecodeJSON(r, body, "a Grafana webhook", &m); err != nil {
		return nil, err
	}
	if m.Version != "1" || m.Alerts == nil {
		return nil, intake.Badf("this is not a Grafana alerting webhook (version %q, want \"1\", with alerts)", m.Version)
	}
	out := make([]incident.Alert, 0, len(m.Alerts))
	for i, a := range m.Alerts {
		if a.Fingerprint == "" {
			return nil, intake.Badf("alert %d has no fingerprint", i+1)
		}
		al := incident.Alert{
			Key:         a.Fingerprint,
			Status:      incident.AlertStatus(a.Status),
			Title:       a.Annotations["summary"],
			Labels:      a.Labels,
			Annotations: a.Annotations,
			StartsAt:    a.StartsAt,
			EndsAt:      a.EndsAt,
			Group:       m.GroupKey,
		}
		if al.Title == "" {
			al.Title = a.Labels["alertname"]
		}
		if a.ValueString != "" {
			if al.Annotations == nil {
				al.Annotations = map[string]string{}
			}
			al.Annotations["value"] = a.ValueString
		}
		for _, l := range []incident.AlertLink{
			{Text: "Source", URL: a.GeneratorURL},
			{Text: "Dashboard", URL: a.DashboardURL},
			{Text: "Panel", URL: a.PanelURL},
			{Text: "Runbook", URL: a.Annotations["runbook_url"]},
			{Text: "Silence", URL: a.SilenceURL},
		} {
			if l.URL != "" {
				al.Links = append(al.Links, l)
			}
		}
		out = append(out, al)
	}
	return out, nil
}
