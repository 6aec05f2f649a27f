package jira

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sitrep-dev/sitrep/tracker"
)

// Hook reads Jira Cloud's issue webhook. A webhook registered with a
// secret is signed in X-Hub-Signature: sha256= and the hex HMAC-SHA256 of
// the body.
type Hook struct {
	Secret string // SITREP_HOOK_SECRET_JIRA
}

// Name implements tracker.Hook.
func (Hook) Name() string { return "jira" }

// Verify implements tracker.Hook.
func (h Hook) Verify(r *http.Request, body []byte) error {
	sig, ok := strings.CutPrefix(r.Header.Get("X-Hub-Signature"), "sha256=")
	if !ok {
		return fmt.Errorf("%w: no X-Hub-Signature sha256=", tracker.ErrUnauthorized)
	}
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, Sign(h.Secret, body)) {
		return fmt.Errorf("%w: X-Hub-Signature does not match", tracker.ErrUnauthorized)
	}
	return nil
}

// Sign is the signature of body with secret.
func Sign(secret string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

type hookBody struct {
	WebhookEvent string `json:"webhookEvent"`
	Issue        *struct {
		Key    string `json:"key"`
		Fields struct {
			Status status `json:"status"`
		} `json:"fields"`
	} `json:"issue"`
	Changelog struct {
		Items []struct {
			Field string `json:"field"`
		} `json:"items"`
	} `json:"changelog"`
}

// Parse implements tracker.Hook: an update that changes the issue's
// status says whether it is done (a status of the done category) or open.
// Other updates (a comment, an edit) say nothing of the follow-up, and
// must not undo its being marked done in Slack.
func (Hook) Parse(r *http.Request, body []byte) ([]tracker.Change, error) {
	var b hookBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, errors.New("the body is not a Jira webhook: " + err.Error())
	}
	if b.WebhookEvent != "jira:issue_updated" {
		return nil, nil
	}
	if b.Issue == nil || b.Issue.Key == "" {
		return nil, errors.New("the issue_updated event has no issue key")
	}
	for _, it := range b.Changelog.Items {
		if it.Field == "status" {
			return []tracker.Change{{Key: b.Issue.Key, Done: b.Issue.Fields.Status.StatusCategory.Key == "done"}}, nil
		}
	}
	return nil, nil
}
