// Package zendesk reads user reports: a Zendesk trigger's webhook for a
// ticket (seed 000: customers report problems through support). A ticket
// becomes an alert from source "zendesk", so that the alert routes decide
// what it becomes (a route matching its tag sends it to triage, where it
// can be declared or attached to an incident; others are ignored) and an
// incident lists the tickets attached to it with its alerts, in Slack and
// in the postmortem.
//
// Zendesk signs each delivery: X-Zendesk-Webhook-Signature is the base64
// HMAC-SHA256, keyed by the webhook's signing secret, of the
// X-Zendesk-Webhook-Signature-Timestamp header's value followed by the raw
// body. The body is the template Sitrep publishes (README), every value a
// string.
package zendesk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/intake"
)

// MaxSkew is how far a delivery's signed timestamp may be from Sitrep's
// clock: a captured delivery replayed later is refused.
const MaxSkew = 5 * time.Minute

// Source is Zendesk. Now is the clock the timestamp is checked against.
type Source struct{ Now func() time.Time }

// Name implements intake.Source.
func (Source) Name() string { return "zendesk" }

// Authenticate checks the signature over the timestamp and the raw body,
// and that the timestamp is recent.
func (s Source) Authenticate(r *http.Request, body []byte, secret string) error {
	sig, ts := r.Header.Get("X-Zendesk-Webhook-Signature"), r.Header.Get("X-Zendesk-Webhook-Signature-Timestamp")
	if sig == "" || ts == "" {
		return intake.ErrUnauthorized
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write(body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !intake.Equal(sig, want) {
		return intake.ErrUnauthorized
	}
	at, err := time.Parse(time.RFC3339, ts)
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if err != nil || at.Sub(now()).Abs() > MaxSkew {
		return intake.ErrUnauthorized // stale or unreadable: a replay
	}
	return nil
}

// body is the template's shape.
type body struct {
	Ticket *struct {
		ID           string `json:"id"`
		Title        string `json:"title"`
		Description  string `json:"description"`
		Status       string `json:"status"`
		Priority     string `json:"priority"`
		TicketType   string `json:"ticket_type"`
		Tags         string `json:"tags"`
		URL          string `json:"url"`
		Via          string `json:"via"`
		CreatedAt    string `json:"created_at"`
		Organization string `json:"organization"`
		Group        string `json:"group"`
	} `json:"ticket"`
}

// Parse reads the ticket into one alert keyed by its ID: a new or updated
// ticket fires, a solved or closed one resolves. Each tag is a label
// tag_<tag>="true", for routes to match; the requester's contact details
// are not kept.
func (Source) Parse(r *http.Request, raw []byte, now time.Time) ([]incident.Alert, error) {
	var b body
	if err := json.Unmarshal(raw, &b); err != nil || b.Ticket == nil {
		return nil, intake.Badf("this is not Sitrep's Zendesk webhook body: it needs {\"ticket\": {...}} as the README's template writes it")
	}
	t := b.Ticket
	if strings.TrimSpace(t.ID) == "" {
		return nil, intake.Badf("the Zendesk ticket has no id; check the template's {{ticket.id}}")
	}
	title := strings.TrimSpace(t.Title)
	if title == "" {
		title = "(no subject)"
	}
	a := incident.Alert{
		Key:    "ticket-" + t.ID,
		Status: incident.AlertFiring,
		Title:  "Zendesk #" + t.ID + ": " + title,
		Labels: map[string]string{},
	}
	for k, v := range map[string]string{"priority": t.Priority, "status": t.Status, "ticket_type": t.TicketType, "via": t.Via, "organization": t.Organization, "group": t.Group} {
		if v = strings.TrimSpace(v); v != "" {
			a.Labels[k] = v
		}
	}
	for _, tag := range strings.Fields(t.Tags) {
		if len(a.Labels) >= incident.MaxAlertLabels {
			break
		}
		a.Labels["tag_"+tag] = "true"
	}
	if d := strings.TrimSpace(t.Description); d != "" {
		a.Annotations = map[string]string{"description": d}
	}
	if u := strings.TrimSpace(t.URL); u != "" {
		if !strings.HasPrefix(u, "http") {
			u = "https://" + u // Zendesk's {{ticket.url}} has no scheme
		}
		a.Links = []incident.AlertLink{{Text: "Ticket", URL: u}}
	}
	a.StartsAt = now
	if at, err := time.Parse(time.RFC3339, t.CreatedAt); err == nil {
		a.StartsAt = at
	}
	switch strings.ToLower(t.Status) {
	case "solved", "closed":
		a.Status, a.EndsAt = incident.AlertResolved, now
	}
	return []incident.Alert{a}, nil
}
