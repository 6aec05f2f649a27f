package playground

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// alertState is what the panel last did with one sender's alert.
type alertState struct {
	status string // "firing" or "resolved"; "" before the first send
	answer string // Sitrep's answer, one line
	at     time.Time
}

// alertsView is the alert panel as the page shows it.
type alertsView struct {
	// Routing says what Sitrep makes of the alerts here, in a sentence.
	Routing string            `json:"routing"`
	Sources []alertSourceView `json:"sources"`
}

type alertSourceView struct {
	Source string `json:"source"`
	Label  string `json:"label"`
	What   string `json:"what"`
	Auth   string `json:"auth"`
	Path   string `json:"path"`
	// Status is what the playground last sent ("firing", "resolved" or
	// ""), Answer what Sitrep answered.
	Status string `json:"status"`
	Answer string `json:"answer"`
}

// alerts builds the panel's view: the senders whose source is on.
func (p *Playground) alerts() *alertsView {
	if len(p.hooks) == 0 {
		return nil
	}
	v := &alertsView{Routing: p.alertRouting}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range AlertSources {
		if p.hooks[s.Name] == "" {
			continue
		}
		st := p.sent[s.Name]
		v.Sources = append(v.Sources, alertSourceView{Source: s.Name, Label: s.Label, What: s.What, Auth: s.Auth,
			Path: "/hooks/" + s.Name, Status: st.status, Answer: st.answer})
	}
	return v
}

// sendAlert fires or resolves a sender's alert: it sends the sender's own
// webhook to Sitrep's POST /hooks/<source>, authenticated as that sender
// authenticates, with the secret the playground turned the source on with.
func (p *Playground) sendAlert(ctx context.Context, req request) (any, error) {
	secret := p.hooks[req.Source]
	if secret == "" {
		return nil, userErrorf("alerts from %q are off in this playground", req.Source)
	}
	var firing bool
	switch req.Status {
	case "firing":
		firing = true
	case "resolved":
	default:
		return nil, userErrorf("an alert is sent firing or resolved, not %q", req.Status)
	}
	body, contentType, err := alertBody(req.Source, firing, time.Now())
	if err != nil {
		return nil, userErrorf("%v", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.client.appURL+"/hooks/"+req.Source, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", contentType)
	authenticate(hreq, req.Source, body, secret)
	resp, err := p.client.http.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("send the %s alert to Sitrep: %w", req.Source, err)
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	line := fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(answer)))
	p.mu.Lock()
	st := p.sent[req.Source]
	if resp.StatusCode/100 == 2 {
		st.status = req.Status
	}
	st.answer, st.at = line, time.Now()
	p.sent[req.Source] = st
	p.mu.Unlock()
	if resp.StatusCode/100 != 2 {
		return nil, userErrorf("Sitrep refused the %s alert: %s", req.Source, line)
	}
	return obj{"answer": line}, nil
}

// authenticate adds the credential the sender sends (INTEGRATIONS.md,
// "Alerts in"): a bearer token for those that can set a header, Sentry's
// signature of the body, a token in the URL for those that can do neither.
func authenticate(r *http.Request, source string, body []byte, secret string) {
	switch source {
	case "sentry":
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		r.Header.Set("Sentry-Hook-Resource", "issue")
		r.Header.Set("Sentry-Hook-Timestamp", fmt.Sprint(time.Now().Unix()))
		r.Header.Set("Sentry-Hook-Signature", hex.EncodeToString(mac.Sum(nil)))
		r.Header.Set("User-Agent", "sentry-app")
	case "zendesk":
		ts := time.Now().UTC().Format(time.RFC3339)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts))
		mac.Write(body)
		r.Header.Set("X-Zendesk-Webhook-Signature-Timestamp", ts)
		r.Header.Set("X-Zendesk-Webhook-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		r.Header.Set("User-Agent", "Zendesk Webhook")
		return
	case "pingdom", "statuscake":
		q := r.URL.Query()
		q.Set("token", secret)
		r.URL.RawQuery = q.Encode()
	default:
		r.Header.Set("Authorization", "Bearer "+secret)
	}
	if source == "alertmanager" {
		r.Header.Set("User-Agent", "Alertmanager/0.28.1")
	}
}

// TriageChannelName is the channel where the playground's Sitrep shows
// alerts waiting in triage.
const TriageChannelName = "alert-triage"

// TriageChannel returns the ID of #alert-triage, adding it to the
// workspace (with the demo people and Sitrep in it) if it is not there:
// workspaces kept by older playgrounds lack it.
func TriageChannel(fake *slackfake.Server) string {
	if ch, ok := fake.ChannelByName(TriageChannelName); ok {
		return ch.ID
	}
	var ids []string
	for _, u := range DemoUsers {
		if _, ok := fake.User(u.ID); ok {
			ids = append(ids, u.ID)
		}
	}
	return fake.AddChannel(TriageChannelName, false, append(ids, fake.BotUserID())...)
}
