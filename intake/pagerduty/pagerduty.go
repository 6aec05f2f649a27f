// Package pagerduty takes PagerDuty's webhooks (v3) at POST
// /hooks/pagerduty: it verifies X-PagerDuty-Signature on the raw body
// (several comma-separated v1= signatures while a secret is rotated),
// reads what happened to a PagerDuty incident Sitrep triggered
// (acknowledged, escalated, reassigned, resolved, and by whom), and
// records it on the Sitrep incident. A PagerDuty acknowledgement stops
// Sitrep's own escalation. It answers 2xx only once that is committed; a
// webhook delivered again (the same X-Webhook-Id) changes nothing.
package pagerduty

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// MaxBody is the largest webhook taken.
const MaxBody = 1 << 20

// MaxAge is how old a webhook may be: PagerDuty retries for 48 hours, so
// an older one is a replay.
const MaxAge = 49 * time.Hour

// Recorder records what PagerDuty said: incident.Service.
type Recorder interface {
	RecordPagerDuty(ctx context.Context, number int64, st incident.PagerDutyStatus) (*incident.Incident, error)
}

// Handler serves POST /hooks/pagerduty.
type Handler struct {
	secret string
	rec    Recorder
	now    func() time.Time
	log    *slog.Logger
}

// NewHandler returns the handler; secret is SITREP_HOOK_SECRET_PAGERDUTY,
// the webhook subscription's secret as PagerDuty shows it.
func NewHandler(secret string, rec Recorder, now func() time.Time, log *slog.Logger) *Handler {
	return &Handler{secret: secret, rec: rec, now: now, log: log}
}

// Verify reports whether header holds a v1 signature of body with secret:
// lowercase hex HMAC-SHA256, the secret used as the string it is.
func Verify(header string, body []byte, secret string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, part := range strings.Split(header, ",") {
		v, sig, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v != "v1" {
			continue // other versions are ignored
		}
		got, err := hex.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

// webhook is the part of a v3 webhook Sitrep reads.
type webhook struct {
	Event struct {
		ID         string    `json:"id"`
		EventType  string    `json:"event_type"`
		OccurredAt time.Time `json:"occurred_at"`
		Agent      *struct {
			Summary string `json:"summary"`
		} `json:"agent"`
		Data struct {
			Type      string          `json:"type"`
			ID        string          `json:"id"`
			Number    json.RawMessage `json:"number"`
			Title     string          `json:"title"`
			Assignees []struct {
				Summary string `json:"summary"`
			} `json:"assignees"`
		} `json:"data"`
	} `json:"event"`
}

// statuses are the event types recorded, and what they record.
var statuses = map[string]string{
	"incident.acknowledged": "acknowledged",
	"incident.escalated":    "escalated",
	"incident.reassigned":   "reassigned",
	"incident.resolved":     "resolved",
}

// titleRE finds the Sitrep incident in a PagerDuty incident's title: the
// summary Sitrep's trigger gave it (notify/pagerduty.Summary).
var titleRE = regexp.MustCompile(`^Sitrep #(\d+)\b`)

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		http.Error(w, "body over 1 MiB", http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		http.Error(w, "could not read the body", http.StatusBadRequest)
		return
	}
	sig := r.Header.Get("X-PagerDuty-Signature")
	if sig == "" || !Verify(sig, body, h.secret) {
		h.log.Warn("pagerduty webhook refused: missing or wrong signature")
		http.Error(w, "missing or wrong X-PagerDuty-Signature", http.StatusUnauthorized)
		return
	}
	var wh webhook
	if err := json.Unmarshal(body, &wh); err != nil || wh.Event.EventType == "" {
		http.Error(w, "not a PagerDuty v3 webhook: no event.event_type", http.StatusBadRequest)
		return
	}
	if !wh.Event.OccurredAt.IsZero() && h.now().Sub(wh.Event.OccurredAt) > MaxAge {
		h.log.Warn("pagerduty webhook refused: stale", "occurred_at", wh.Event.OccurredAt)
		http.Error(w, "stale webhook: occurred more than 49 hours ago", http.StatusUnauthorized)
		return
	}
	status, ok := statuses[wh.Event.EventType]
	m := titleRE.FindStringSubmatch(wh.Event.Data.Title)
	if !ok || wh.Event.Data.Type != "incident" || m == nil {
		// Not something Sitrep records, or not an incident Sitrep
		// triggered: taken, so that PagerDuty does not disable the
		// subscription over it.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	number, _ := strconv.ParseInt(m[1], 10, 64)
	by := ""
	if wh.Event.Agent != nil {
		by = wh.Event.Agent.Summary
	}
	if status == "reassigned" || status == "escalated" {
		var to []string
		for _, a := range wh.Event.Data.Assignees {
			to = append(to, a.Summary)
		}
		if len(to) > 0 {
			by = strings.TrimSpace(by + " → " + strings.Join(to, ", "))
		}
	}
	key := r.Header.Get("X-Webhook-Id")
	if key == "" {
		key = wh.Event.ID
	}
	_, err = h.rec.RecordPagerDuty(r.Context(), number, incident.PagerDutyStatus{
		Status: status, By: by, Number: strings.Trim(string(wh.Event.Data.Number), `"`), Key: key,
	})
	switch code := incident.ErrorCode(err); {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case code == incident.ECONFLICT || code == incident.ENOTFOUND:
		// Recorded already (a redelivery), or no such incident here.
		w.WriteHeader(http.StatusNoContent)
	default:
		h.log.Error("pagerduty webhook not recorded", "incident", number, "err", err)
		http.Error(w, "not recorded; try again", http.StatusServiceUnavailable)
	}
}
