package github

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/sitrep-dev/sitrep/tracker"
)

// Hook reads GitHub's issues webhook, signed with X-Hub-Signature-256.
// GitHub signs no timestamp, so there is nothing to be stale; a replayed
// delivery records a state already recorded, which changes nothing.
type Hook struct {
	Secret string // SITREP_HOOK_SECRET_GITHUB
}

// Name implements tracker.Hook.
func (Hook) Name() string { return "github" }

// Verify implements tracker.Hook.
func (h Hook) Verify(r *http.Request, body []byte) error {
	sig, ok := strings.CutPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256=")
	if !ok {
		return fmt.Errorf("%w: no X-Hub-Signature-256", tracker.ErrUnauthorized)
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("%w: X-Hub-Signature-256 is not hex", tracker.ErrUnauthorized)
	}
	if !hmac.Equal(got, Sign(h.Secret, body)) {
		return fmt.Errorf("%w: X-Hub-Signature-256 does not match", tracker.ErrUnauthorized)
	}
	return nil
}

// Sign is GitHub's signature of body: HMAC-SHA256 with the secret.
func Sign(secret string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

type hookBody struct {
	Action string `json:"action"`
	Issue  *struct {
		Number      int64  `json:"number"`
		StateReason string `json:"state_reason"`
	} `json:"issue"`
	Repository struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
}

// Parse implements tracker.Hook: an issue closed as completed is done; one
// reopened is open. An issue closed as not planned says the work will not
// be done, which is not the follow-up done: it is left as it is.
func (Hook) Parse(r *http.Request, body []byte) ([]tracker.Change, error) {
	if ev := r.Header.Get("X-GitHub-Event"); ev != "issues" {
		return nil, nil // ping, and the events a hook sends for other kinds
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errors.New("the form body could not be read")
		}
		body = []byte(form.Get("payload"))
	}
	var b hookBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, errors.New("the body is not a GitHub issues event: " + err.Error())
	}
	if b.Issue == nil || b.Repository.FullName == "" {
		return nil, errors.New("the issues event has no issue or repository")
	}
	key := Key(b.Repository.FullName, b.Issue.Number)
	switch {
	case b.Action == "closed" && (b.Issue.StateReason == "" || b.Issue.StateReason == "completed"):
		return []tracker.Change{{Key: key, Done: true}}, nil
	case b.Action == "reopened":
		return []tracker.Change{{Key: key, Done: false}}, nil
	}
	return nil, nil
}
