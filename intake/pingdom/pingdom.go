// Package pingdom reads Pingdom's uptime-check webhook. Pingdom can neither
// sign nor set a header, so the secret is in the URL: ?token=<secret>.
package pingdom

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/intake"
)

// Source is Pingdom.
type Source struct{}

// Name implements intake.Source.
func (Source) Name() string { return "pingdom" }

// Authenticate checks ?token=<secret>.
func (Source) Authenticate(r *http.Request, _ []byte, secret string) error {
	return intake.QueryToken(r, secret)
}

type payload struct {
	CheckID     json.Number `json:"check_id"`
	CheckName   string      `json:"check_name"`
	CheckType   string      `json:"check_type"`
	CheckParams struct {
		FullURL  string `json:"full_url"`
		Hostname string `json:"hostname"`
	} `json:"check_params"`
	Tags            []string `json:"tags"`
	PreviousState   string   `json:"previous_state"`
	CurrentState    string   `json:"current_state"`
	StateChangedAt  int64    `json:"state_changed_timestamp"`
	Description     string   `json:"description"`
	LongDescription string   `json:"long_description"`
}

// Parse reads the check's change of state: DOWN fires, UP resolves.
func (Source) Parse(r *http.Request, body []byte, now time.Time) ([]incident.Alert, error) {
	var p payload
	if err := intake.DecodeJSON(r, body, "a Pingdom webhook", &p); err != nil {
		return nil, err
	}
	if p.CheckID == "" || p.CurrentState == "" {
		return nil, intake.Badf("this Pingdom webhook lacks check_id or current_state")
	}
	var status incident.AlertStatus
	switch strings.ToUpper(p.CurrentState) {
	case "DOWN":
		status = incident.AlertFiring
	case "UP":
		status = incident.AlertResolved
	default:
		return nil, intake.Badf("unknown Pingdom current_state %q (want DOWN or UP)", p.CurrentState)
	}
	a := incident.Alert{
		Key:         "check:" + p.CheckID.String(),
		Status:      status,
		Title:       fmt.Sprintf("%s is %s", p.CheckName, strings.ToLower(p.CurrentState)),
		Labels:      map[string]string{"check_type": p.CheckType, "host": p.CheckParams.Hostname},
		Annotations: map[string]string{"description": p.Description, "details": p.LongDescription},
	}
	if p.Description != "" && status == incident.AlertFiring {
		a.Title += ": " + p.Description
	}
	for _, t := range p.Tags {
		if t != "" && len(a.Labels) < incident.MaxAlertLabels/2 {
			a.Labels["tag_"+t] = "true"
		}
	}
	at := now
	if p.StateChangedAt > 0 {
		at = time.Unix(p.StateChangedAt, 0)
	}
	if status == incident.AlertFiring {
		a.StartsAt = at
	} else {
		a.EndsAt = at
	}
	if strings.HasPrefix(p.CheckParams.FullURL, "http") {
		a.Links = []incident.AlertLink{{Text: "Checked URL", URL: p.CheckParams.FullURL}}
	}
	return []incident.Alert{a}, nil
}
