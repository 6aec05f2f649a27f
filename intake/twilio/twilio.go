// Package twilio takes Twilio's signed callbacks at /hooks/twilio/…: the
// key pressed during a page's call (gather), which acknowledges the page,
// and the calls' status. Every request's X-Twilio-Signature is checked
// against the URL Twilio was given (rebuilt from SITREP_PUBLIC_URL, never
// from the request as a proxy may have changed it) and every parameter.
package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/sitrep-dev/sitrep/incident"
)

// Signature is X-Twilio-Signature of a POST to fullURL with params:
// base64 HMAC-SHA1 with the auth token over the URL followed by each
// parameter's name and value, names in byte order and a repeated name's
// values sorted too.
func Signature(token, fullURL string, params url.Values) string {
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, n := range names {
		vs := append([]string(nil), params[n]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(n)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Valid reports whether sig signs a POST to fullURL with params, with the
// URL as given or with its default port added or removed (Twilio's SDKs
// accept both: its own signing is inconsistent there).
func Valid(token, fullURL string, params url.Values, sig string) bool {
	if sig == "" {
		return false
	}
	for _, u := range portVariants(fullURL) {
		if hmac.Equal([]byte(Signature(token, u, params)), []byte(sig)) {
			return true
		}
	}
	return false
}

func portVariants(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return []string{raw}
	}
	def := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	out := []string{raw}
	if def == "" {
		return out
	}
	v := *u
	if u.Port() == "" {
		v.Host = u.Host + ":" + def
		out = append(out, v.String())
	} else if u.Port() == def {
		v.Host = u.Hostname()
		out = append(out, v.String())
	}
	return out
}

// Acknowledger acknowledges pages: incident.Service.
type Acknowledger interface {
	AcknowledgePage(ctx context.Context, number int64, id int, actor string) (*incident.Incident, error)
}

// Handler serves POST /hooks/twilio/gather and /hooks/twilio/call-status.
type Handler struct {
	token, public string
	ack           Acknowledger
	log           *slog.Logger
}

// NewHandler returns the handler. public is SITREP_PUBLIC_URL.
func NewHandler(token, public string, ack Acknowledger, log *slog.Logger) http.Handler {
	h := &Handler{token: token, public: strings.TrimSuffix(public, "/"), ack: ack, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hooks/twilio/gather", h.signed(h.gather))
	mux.HandleFunc("POST /hooks/twilio/call-status", h.signed(func(w http.ResponseWriter, r *http.Request) {
		h.log.Info("call status", "call", r.PostForm.Get("CallSid"), "status", r.PostForm.Get("CallStatus"))
		w.WriteHeader(http.StatusNoContent)
	}))
	return mux
}

// signed checks X-Twilio-Signature before next runs.
func (h *Handler) signed(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "not a form", http.StatusBadRequest)
			return
		}
		if r.Header.Get("X-Twilio-Webhooks-Signature-Settings") != "" {
			// HMAC-SHA256 with a shared key Sitrep does not have.
			http.Error(w, "this account signs with a Webhooks Rule key Sitrep does not have", http.StatusInternalServerError)
			return
		}
		full := h.public + r.URL.RequestURI()
		if !Valid(h.token, full, r.PostForm, r.Header.Get("X-Twilio-Signature")) {
			h.log.Warn("twilio callback refused: missing or wrong signature")
			http.Error(w, "missing or wrong X-Twilio-Signature", http.StatusForbidden)
			return
		}
		next(w, r)
	}
}

func say(w http.ResponseWriter, twiml string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response>%s</Response>`, twiml)
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// gather takes the key pressed: 1 acknowledges the page; any other key is
// asked again, so that a stray key does not end the call.
func (h *Handler) gather(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, err1 := strconv.ParseInt(q.Get("incident"), 10, 64)
	page, err2 := strconv.Atoi(q.Get("page"))
	user := q.Get("user")
	if err1 != nil || err2 != nil || user == "" {
		say(w, "<Say>This call names no page Sitrep knows. Goodbye.</Say>")
		return
	}
	if r.PostForm.Get("Digits") != "1" {
		action := h.public + r.URL.RequestURI()
		say(w, fmt.Sprintf(`<Gather numDigits="1" timeout="10" action="%s" method="POST"><Say>Wrong key. Press 1 to acknowledge.</Say></Gather><Say>Goodbye.</Say>`, escape(action)))
		return
	}
	_, err := h.ack.AcknowledgePage(r.Context(), n, page, user)
	switch code := incident.ErrorCode(err); {
	case err == nil:
		say(w, "<Say>Acknowledged. Escalation has stopped. Join the incident in Slack.</Say>")
	case code == incident.EINTERNAL:
		h.log.Error("acknowledge page by phone", "incident", n, "err", err)
		say(w, "<Say>Sitrep could not record that. Acknowledge in Slack.</Say>")
	default:
		var ie *incident.Error
		msg := "That page cannot be acknowledged."
		if e, ok := err.(*incident.Error); ok {
			ie = e
			msg = ie.Message
		}
		say(w, "<Say>"+escape(strings.NewReplacer("{by}", "someone").Replace(msg))+"</Say>")
	}
}
