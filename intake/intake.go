// Package intake is the way in for monitoring systems: POST /hooks/<source>
// authenticates a sender's webhook, parses it into incident.Alert values
// and hands them to a Receiver, answering 2xx only once the Receiver has
// committed them. Each sender is a package under intake (alertmanager,
// grafana, sentry, datadog, pingdom, statuscake, generic) that does
// nothing but verify and parse; what alerts become is the domain's
// business.
//
// Answers follow INTEGRATIONS.md: an unknown source or one without its
// secret is 404; a body over 1 MiB 413; a bad or missing credential 401
// with nothing recorded; a body that cannot be read 400 with one line
// saying what; trouble on Sitrep's side 503, never a 4xx, because
// Alertmanager drops a notification on any 4xx and retries only 5xx.
package intake

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// MaxBody is the largest webhook body taken.
const MaxBody = 1 << 20

// Source is one sender's webhook.
type Source interface {
	// Name is the source's name in the URL and in alerts.
	Name() string
	// Authenticate checks the request's credential against secret. It
	// sees the raw body, for senders that sign it, and never parses it.
	Authenticate(r *http.Request, body []byte, secret string) error
	// Parse reads the alerts in the body. now stands in for times the
	// sender does not give. A body that is not this sender's webhook is a
	// *BadRequest.
	Parse(r *http.Request, body []byte, now time.Time) ([]incident.Alert, error)
}

// Receiver records alerts. It returns once they are committed; a resend
// of alerts already recorded changes nothing.
type Receiver interface {
	ReceiveAlerts(ctx context.Context, alerts []incident.Alert) error
}

// BadRequest is a body Sitrep cannot read, with the one line that says why.
type BadRequest struct{ Reason string }

func (e *BadRequest) Error() string { return e.Reason }

// Badf returns a *BadRequest.
func Badf(format string, args ...any) error {
	return &BadRequest{Reason: fmt.Sprintf(format, args...)}
}

// ErrUnauthorized is a missing or wrong credential.
var ErrUnauthorized = errors.New("missing or wrong credential")

// Handler serves POST /hooks/<source>.
type Handler struct {
	sources map[string]Source
	secrets map[string]string
	recv    Receiver
	now     func() time.Time
	log     *slog.Logger
}

// NewHandler serves the sources whose secret is set in secrets (by
// source name); the others are off.
func NewHandler(sources []Source, secrets map[string]string, recv Receiver, now func() time.Time, log *slog.Logger) *Handler {
	h := &Handler{sources: map[string]Source{}, secrets: map[string]string{}, recv: recv, now: now, log: log}
	for _, s := range sources {
		if sec := secrets[s.Name()]; sec != "" {
			h.sources[s.Name()] = s
			h.secrets[s.Name()] = sec
		}
	}
	return h
}

// On reports whether source is on.
func (h *Handler) On(source string) bool { return h.sources[source] != nil }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/hooks/")
	src := h.sources[name]
	if src == nil || strings.Contains(name, "/") {
		http.Error(w, "no such alert source here (a source is off until its secret is set)", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "alerts are sent with POST", http.StatusMethodNotAllowed)
		return
	}
	log := h.log.With("source", name)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		http.Error(w, fmt.Sprintf("the body is over %d bytes", MaxBody), http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		http.Error(w, "the body could not be read", http.StatusBadRequest)
		return
	}
	if err := src.Authenticate(r, body, h.secrets[name]); err != nil {
		log.Warn("alert webhook refused", "why", err.Error())
		http.Error(w, "missing or wrong credential", http.StatusUnauthorized)
		return
	}
	now := h.now()
	alerts, err := src.Parse(r, body, now)
	var bad *BadRequest
	if errors.As(err, &bad) {
		http.Error(w, bad.Reason, http.StatusBadRequest)
		return
	}
	if err != nil {
		log.Error("parse alert webhook", "err", err)
		http.Error(w, "Sitrep could not take these alerts now; send them again", http.StatusServiceUnavailable)
		return
	}
	for i := range alerts {
		alerts[i].Source = name
		a, err := incident.CleanAlert(alerts[i], now)
		if err != nil {
			http.Error(w, fmt.Sprintf("alert %d: %s", i+1, incident.ErrorMessage(err)), http.StatusBadRequest)
			return
		}
		alerts[i] = a
	}
	if err := h.recv.ReceiveAlerts(r.Context(), alerts); err != nil {
		if incident.ErrorCode(err) == incident.EINVALID {
			http.Error(w, incident.ErrorMessage(err), http.StatusBadRequest)
			return
		}
		log.Error("record alerts", "alerts", len(alerts), "err", err)
		http.Error(w, "Sitrep could not record these alerts now; send them again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "%d alerts recorded\n", len(alerts))
}

// Equal compares a credential with the secret in constant time.
func Equal(got, secret string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(secret)) == 1
}

// Bearer checks an "Authorization: Bearer <secret>" header.
func Bearer(r *http.Request, secret string) error {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || !Equal(strings.TrimSpace(cred), secret) {
		return ErrUnauthorized
	}
	return nil
}

// BearerOrBasic checks a bearer token or basic auth with the secret as
// the password (the user name is not checked).
func BearerOrBasic(r *http.Request, secret string) error {
	if _, pass, ok := r.BasicAuth(); ok {
		if Equal(pass, secret) {
			return nil
		}
		return ErrUnauthorized
	}
	return Bearer(r, secret)
}

// QueryToken checks ?token=<secret>, for senders that can neither sign
// nor set a header.
func QueryToken(r *http.Request, secret string) error {
	if !Equal(r.URL.Query().Get("token"), secret) {
		return ErrUnauthorized
	}
	return nil
}

// HMACHex checks a lowercase or uppercase hex HMAC-SHA256 of message.
func HMACHex(message []byte, signature, secret string) error {
	got, err := hex.DecodeString(strings.TrimSpace(signature))
	if err != nil || len(got) != sha256.Size {
		return ErrUnauthorized
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(message)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrUnauthorized
	}
	return nil
}

// DecodeJSON reads a JSON body into v, or says in one line why it cannot:
// the content type (when given) must be JSON, and the body one JSON
// object.
func DecodeJSON(r *http.Request, body []byte, what string, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.Contains(strings.ToLower(ct), "json") {
		return Badf("%s is sent as JSON, but this body is %s", what, ct)
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return Badf("this is not %s: field %q is a JSON %s, not %s", what, te.Field, te.Value, te.Type)
		}
		return Badf("this is not %s: the body is not valid JSON (%v)", what, err)
	}
	return nil
}
