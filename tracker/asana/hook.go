package asana

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/sitrep-dev/sitrep/tracker"
)

// Secrets keeps the secrets Asana hands over at its handshakes: the
// store (storage/sqlite), so that every replica and every restart can
// check the deliveries signed with them.
type Secrets interface {
	SaveHookSecret(ctx context.Context, tracker, secret string, at time.Time) error
	HookSecrets(ctx context.Context, tracker string) ([]string, error)
}

// Hook reads Asana's webhook. Asana opens a webhook with a handshake: a
// request carrying X-Hook-Secret, which must be echoed, and whose value
// signs every later delivery in X-Hook-Signature (hex HMAC-SHA256 of the
// body). The handshake itself is not signed, so Sitrep takes one only at
// the URL carrying ?token=<SITREP_HOOK_SECRET_ASANA>: nobody else can
// plant a secret of their own.
type Hook struct {
	Token   string // SITREP_HOOK_SECRET_ASANA
	Secrets Secrets
	Now     func() time.Time
}

// Name implements tracker.Hook.
func (Hook) Name() string { return "asana" }

// Handshake implements tracker.Handshaker.
func (h Hook) Handshake(w http.ResponseWriter, r *http.Request) bool {
	secret := r.Header.Get("X-Hook-Secret")
	if secret == "" {
		return false
	}
	if subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("token")), []byte(h.Token)) != 1 {
		http.Error(w, "a handshake is taken only at the URL with its token", http.StatusUnauthorized)
		return true
	}
	if err := h.Secrets.SaveHookSecret(r.Context(), "asana", secret, h.Now()); err != nil {
		http.Error(w, "Sitrep could not keep the secret now; try again", http.StatusServiceUnavailable)
		return true
	}
	w.Header().Set("X-Hook-Secret", secret)
	w.WriteHeader(http.StatusOK)
	return true
}

// Sign is Asana's signature of body with a handshake's secret.
func Sign(secret string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

// Verify implements tracker.Hook: signed with the secret of one of the
// handshakes taken.
func (h Hook) Verify(r *http.Request, body []byte) error {
	got, err := hex.DecodeString(r.Header.Get("X-Hook-Signature"))
	if err != nil || len(got) == 0 {
		return fmt.Errorf("%w: no X-Hook-Signature", tracker.ErrUnauthorized)
	}
	secrets, err := h.Secrets.HookSecrets(r.Context(), "asana")
	if err != nil {
		return fmt.Errorf("%w: the secrets could not be read: %v", tracker.ErrUnauthorized, err)
	}
	for _, s := range secrets {
		if hmac.Equal(got, Sign(s, body)) {
			return nil
		}
	}
	return fmt.Errorf("%w: X-Hook-Signature matches no handshake's secret", tracker.ErrUnauthorized)
}

type hookBody struct {
	Events []struct {
		Action   string `json:"action"`
		Resource struct {
			GID          string `json:"gid"`
			ResourceType string `json:"resource_type"`
		} `json:"resource"`
		Change *struct {
			Field string `json:"field"`
		} `json:"change"`
	} `json:"events"`
}

// Parse implements tracker.Hook. Asana's events say that a task's
// completed field changed, not to what, so the task is asked (Change.Ask).
func (Hook) Parse(r *http.Request, body []byte) ([]tracker.Change, error) {
	var b hookBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, errors.New("the body is not an Asana webhook: " + err.Error())
	}
	var out []tracker.Change
	for _, e := range b.Events {
		if e.Resource.ResourceType != "task" || e.Change == nil || e.Change.Field != "completed" || e.Resource.GID == "" {
			continue
		}
		if !slices.ContainsFunc(out, func(c tracker.Change) bool { return c.Key == e.Resource.GID }) {
			out = append(out, tracker.Change{Key: e.Resource.GID, Ask: true})
		}
	}
	return out, nil
}
