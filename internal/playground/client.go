package playground

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/internal/slackpayload"
)

type obj = slackpayload.Obj

// requestTimeout is how long Slack waits for an app to answer.
const requestTimeout = 3 * time.Second

// client delivers what people do to the app, as Slack does: signed HTTP
// requests, or envelopes over the app's Socket Mode connection.
type client struct {
	fake   *slackfake.Server
	appURL string // the app's base URL ("http://127.0.0.1:1234"), for HTTP
	secret []byte // the signing secret, for HTTP
	socket bool   // deliver over Socket Mode instead
	http   *http.Client
}

// answer is what the app answered a request with: a body (the HTTP body or
// the Socket Mode ack's payload) and whether it was accepted.
type answer struct {
	status int
	body   []byte
}

// sign computes Slack's v0 signature of body sent at ts.
func sign(secret []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "v0:%s:", ts)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// post sends a signed request to the app's path.
func (c *client) post(ctx context.Context, path, contentType string, body []byte) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.appURL+path, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sign(c.secret, ts, body))
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("no answer from Sitrep within %s: %w", requestTimeout, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return answer{status: resp.StatusCode, body: data}, fmt.Errorf("the request to Sitrep failed with %s: %s", resp.Status, strings.TrimSpace(string(data)))
	}
	return answer{status: resp.StatusCode, body: data}, nil
}

// send delivers an envelope over Socket Mode and returns the ack's payload.
func (c *client) send(ctx context.Context, envelopeType string, p []byte, acceptsPayload bool) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	ack, err := c.fake.SocketSend(ctx, envelopeType, p, acceptsPayload)
	if err != nil {
		return answer{}, fmt.Errorf("no acknowledgement from Sitrep within %s: %w", requestTimeout, err)
	}
	if string(ack) == "null" {
		ack = nil
	}
	return answer{status: http.StatusOK, body: ack}, nil
}

// slashCommand is one slash command as a person typed it.
type slashCommand struct {
	user, userName, channel, channelName string
	command, text                        string
	responseURL, triggerID               string
}

// slash delivers a slash command, with Slack's fields in Slack's order.
func (c *client) slash(ctx context.Context, sc slashCommand) (answer, error) {
	fields := [][2]string{
		{"token", "verification-token-0000"}, {"team_id", c.fake.TeamID()}, {"team_domain", "playground"},
		{"channel_id", sc.channel}, {"channel_name", sc.channelName}, {"user_id", sc.user}, {"user_name", sc.userName},
		{"command", sc.command}, {"text", sc.text}, {"api_app_id", slackfake.DefaultAppID}, {"is_enterprise_install", "false"},
		{"response_url", sc.responseURL}, {"trigger_id", sc.triggerID},
	}
	if c.socket {
		m := obj{}
		for _, f := range fields {
			m[f[0]] = f[1]
		}
		data, _ := json.Marshal(m)
		return c.send(ctx, "slash_commands", data, true)
	}
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f[0] + "=" + url.QueryEscape(f[1])
	}
	return c.post(ctx, "/slack/commands", "application/x-www-form-urlencoded", []byte(strings.Join(parts, "&")))
}

// interact delivers an interaction payload: a form with one payload field.
func (c *client) interact(ctx context.Context, p obj) (answer, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return answer{}, err
	}
	if c.socket {
		return c.send(ctx, "interactive", data, true)
	}
	return c.post(ctx, "/slack/interactions", "application/x-www-form-urlencoded", []byte("payload="+url.QueryEscape(string(data))))
}

// event delivers an Events API payload.
func (c *client) event(ctx context.Context, p obj) (answer, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return answer{}, err
	}
	if c.socket {
		return c.send(ctx, "events_api", data, false)
	}
	return c.post(ctx, "/slack/events", "application/json", data)
}
