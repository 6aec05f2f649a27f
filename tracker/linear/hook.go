package linear

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sitrep-dev/sitrep/tracker"
)

// MaxAge is how old a webhook's webhookTimestamp may be: Linear's advice,
// against replays of a signed delivery.
const MaxAge = time.Minute

// Hook reads Linear's Issue webhook, signed with Linear-Signature (hex
// HMAC-SHA256 of the body) and dated by webhookTimestamp in the body.
type Hook struct {
	Secret string // SITREP_HOOK_SECRET_LINEAR: the webhook's signing secret
	Now    func() time.Time
}

// Name implements tracker.Hook.
func (Hook) Name() string { return "linear" }

// Sign is the signature of body with secret.
func Sign(secret string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

// Verify implements tracker.Hook: the signature, then the signed
// timestamp, which must be within MaxAge of now.
func (h Hook) Verify(r *http.Request, body []byte) error {
	got, err := hex.DecodeString(r.Header.Get("Linear-Signature"))
	if err != nil || len(got) == 0 || !hmac.Equal(got, Sign(h.Secret, body)) {
		return fmt.Errorf("%w: Linear-Signature missing or wrong", tracker.ErrUnauthorized)
	}
	var b struct {
		WebhookTimestamp int64 `json:"webhookTimestamp"`
	}
	if err := json.Unmarshal(body, &b); err != nil || b.WebhookTimestamp == 0 {
		return fmt.Errorf("%w: no webhookTimestamp", tracker.ErrUnauthorized)
	}
	if d := h.Now().Sub(time.UnixMilli(b.WebhookTimestamp)); d > MaxAge || d < -MaxAge {
		return fmt.Errorf("%w: webhookTimestamp is %s away from now", tracker.ErrUnauthorized, d.Round(time.Second))
	}
	return nil
}

type hookBody struct {
	Action string `json:"action"`
	Type   string `json:"type"`
	Data   struct {
		Identifier string `json:"identifier"`
		State      struct {
			Type string `json:"type"`
		} `json:"state"`
	} `json:"data"`
	UpdatedFrom map[string]any `json:"updatedFrom"`
}

// Parse implements tracker.Hook: an Issue update that moved the issue's
// state says done (a completed state) or open (an unstarted, started,
// backlog or triage state). Canceled says the work was dropped, which is
// not done: nothing changes.
func (Hook) Parse(r *http.Request, body []byte) ([]tracker.Change, error) {
	var b hookBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, errors.New("the body is not a Linear webhook: " + err.Error())
	}
	if b.Type != "Issue" || b.Action != "update" {
		return nil, nil
	}
	if _, moved := b.UpdatedFrom["stateId"]; !moved {
		return nil, nil
	}
	if b.Data.Identifier == "" {
		return nil, errors.New("the Issue update has no identifier")
	}
	switch b.Data.State.Type {
	case "completed":
		return []tracker.Change{{Key: b.Data.Identifier, Done: true}}, nil
	case "canceled", "":
		return nil, nil
	}
	return []tracker.Change{{Key: b.Data.Identifier, Done: false}}, nil
}
