package tracker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/sitrep-dev/sitrep/incident"
)

// MaxHookBody is the largest webhook body taken: GitHub's issue payloads
// with long bodies run to tens of KiB, never near this.
const MaxHookBody = 1 << 20

// ErrUnauthorized is a webhook whose signature is missing, wrong or stale.
var ErrUnauthorized = errors.New("missing, wrong or stale signature")

// Change is what a tracker's webhook says of one issue.
type Change struct {
	Key  string // the issue's key as Sitrep gave it (incident.IssueRef.Key)
	Done bool   // closed as done; false for open again
	// Ask says the webhook told only that the issue changed, not how
	// (Asana's events): the tracker is asked whether it is done.
	Ask bool
}

// Hook is one tracker's webhook: it verifies a delivery on its raw bytes
// and reads the changes it carries. A delivery about something else (an
// edit, a label, a ping) has no changes.
type Hook interface {
	Name() string
	// Verify checks the delivery's signature with the secret.
	Verify(r *http.Request, body []byte) error
	Parse(r *http.Request, body []byte) ([]Change, error)
}

// Handshaker is a hook that answers a handshake itself (Asana's
// X-Hook-Secret): Handshake reports whether r was one and it answered.
type Handshaker interface {
	Handshake(w http.ResponseWriter, r *http.Request) bool
}

// Recorder records what a webhook says: the incident.Service.
type Recorder interface {
	ByRef(ctx context.Context, integration, ref string) (*incident.Incident, error)
	IssueState(ctx context.Context, number int64, tracker, key string, done bool) (bool, error)
}

// Ref is the delivery reference under which Export files an issue, so
// that a webhook about it finds its incident.
func Ref(tracker, key string) string { return tracker + ":" + key }

// HookHandler serves POST /hooks/<tracker> for one tracker: a forged,
// missing or stale signature is 401 with nothing recorded; a body that
// cannot be read 400; an issue Sitrep did not make, or a change already
// recorded, 200 with nothing changed; trouble on Sitrep's side 503, so
// that a sender that retries does.
func HookHandler(h Hook, t Tracker, rec Recorder, log *slog.Logger) http.Handler {
	log = log.With("tracker", h.Name())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "webhooks are sent with POST", http.StatusMethodNotAllowed)
			return
		}
		if hs, ok := h.(Handshaker); ok && hs.Handshake(w, r) {
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxHookBody))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			http.Error(w, fmt.Sprintf("the body is over %d bytes", MaxHookBody), http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			http.Error(w, "the body could not be read", http.StatusBadRequest)
			return
		}
		if err := h.Verify(r, body); err != nil {
			log.Warn("tracker webhook refused", "why", err.Error())
			http.Error(w, "missing, wrong or stale signature", http.StatusUnauthorized)
			return
		}
		changes, err := h.Parse(r, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, c := range changes {
			inc, err := rec.ByRef(r.Context(), ExportName, Ref(h.Name(), c.Key))
			if incident.ErrorCode(err) == incident.ENOTFOUND {
				log.Debug("webhook for an issue Sitrep did not make; ignored", "issue", c.Key)
				continue
			}
			if err != nil {
				log.Error("find the follow-up of an issue", "issue", c.Key, "err", err)
				http.Error(w, "Sitrep could not record this now; send it again", http.StatusServiceUnavailable)
				return
			}
			if c.Ask {
				done, err := t.Done(r.Context(), incident.IssueRef{Tracker: h.Name(), Key: c.Key})
				if err != nil {
					log.Warn("ask the tracker about an issue its webhook named", "issue", c.Key, "err", err)
					http.Error(w, "Sitrep could not read the issue now; send it again", http.StatusServiceUnavailable)
					return
				}
				c.Done = done
			}
			changed, err := rec.IssueState(r.Context(), inc.Number, h.Name(), c.Key, c.Done)
			if err != nil {
				log.Error("record an issue's state", "issue", c.Key, "incident", inc.Number, "err", err)
				http.Error(w, "Sitrep could not record this now; send it again", http.StatusServiceUnavailable)
				return
			}
			log.Info("issue state from webhook", "issue", c.Key, "incident", inc.Number, "done", c.Done, "changed", changed)
		}
		io.WriteString(w, "ok\n")
	})
}
