package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// tokenCodes are Slack's answers that a token itself was refused: wrong,
// missing, revoked, expired, of the wrong kind, or its user deactivated.
// scopeCodes are its answers that the token works but the app may not do
// this. Either way no retry helps; a person must fix the app's install.
var (
	tokenCodes = []string{"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type"}
	scopeCodes = []string{"missing_scope", "restricted_action", "team_access_not_granted", "ekm_access_denied"}
)

// authRefusal returns Slack's code when err is Slack refusing a token
// (token true) or a permission (token false), and "" for any other error.
// It reads slack-go's typed error answer, never the error's text.
func authRefusal(err error) (code string, token bool) {
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		return "", false
	}
	switch {
	case slices.Contains(tokenCodes, se.Err):
		return se.Err, true
	case slices.Contains(scopeCodes, se.Err):
		return se.Err, false
	}
	return "", false
}

// SlackTransport returns an http.RoundTripper for Sitrep's calls to Slack
// that tells m of each call's method, result and duration, and logs it at
// debug level. base nil means http.DefaultTransport. Only the method name
// is logged: URLs of uploads and response_urls are credentials.
func SlackTransport(base http.RoundTripper, m Metrics, log *slog.Logger) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if m == nil {
		m = noMetrics{}
	}
	return &measuredTransport{base: base, m: m, log: log}
}

type measuredTransport struct {
	base http.RoundTripper
	m    Metrics
	log  *slog.Logger
}

func (t *measuredTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	method := slackMethod(req)
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	result := "ok"
	switch {
	case err != nil:
		result = "network_error"
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			result = "timeout"
		}
	case resp.StatusCode == http.StatusTooManyRequests:
		result = "ratelimited"
	case resp.StatusCode >= 500:
		result = "http_5xx"
	case resp.StatusCode >= 400:
		result = "http_" + strconv.Itoa(resp.StatusCode)
	case strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"):
		result, resp.Body, err = readResult(resp.Body)
		if err != nil {
			result = "network_error"
		}
	}
	took := time.Since(start)
	t.m.SlackCall(method, result, took)
	if t.log != nil && t.log.Enabled(req.Context(), slog.LevelDebug) {
		t.log.Debug("slack call", "method", method, "result", result, "duration_ms", float64(took.Microseconds())/1000)
	}
	return resp, err
}

// readResult reads a Web API answer's "ok" and "error" and returns a body
// that reads the same as the original. The whole answer is read: slack-go
// reads it all anyway, and the answers Sitrep asks for are small.
func readResult(body io.ReadCloser) (string, io.ReadCloser, error) {
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		return "", io.NopCloser(bytes.NewReader(data)), err
	}
	var r struct {
		OK    *bool  `json:"ok"`
		Error string `json:"error"`
	}
	result := "ok"
	if json.Unmarshal(data, &r) == nil && r.OK != nil && !*r.OK {
		result = r.Error
		if result == "" {
			result = "unknown_error"
		}
	}
	return result, io.NopCloser(bytes.NewReader(data)), nil
}

// slackMethod names what a request to Slack is: the Web API method from
// .../api/<method>, else a response_url or a file upload (their URLs are
// one-off, so they are named by kind).
func slackMethod(req *http.Request) string {
	p := req.URL.Path
	if i := strings.LastIndex(p, "/api/"); i >= 0 && !strings.Contains(p[i+5:], "/") && p[i+5:] != "" {
		return p[i+5:]
	}
	if strings.HasPrefix(req.URL.Host, "hooks.") || strings.Contains(p, "/commands/") || strings.Contains(p, "/actions/") || strings.Contains(p, "/response-url/") {
		return "response_url"
	}
	return "file_upload"
}
