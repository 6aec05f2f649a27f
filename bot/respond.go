package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/slack-go/slack"
)

// reply is a message for the person who typed a command, shown only to them
// unless InChannel is set.
type reply struct {
	Text      string
	Blocks    []slack.Block
	InChannel bool
}

func (r reply) payload() map[string]any {
	// replace_original false: a late reply must never replace the message
	// it answers (the incident card, for a click on it).
	p := map[string]any{"response_type": "ephemeral", "text": r.Text, "replace_original": false}
	if r.InChannel {
		p["response_type"] = "in_channel"
	}
	if len(r.Blocks) > 0 {
		p["blocks"] = r.Blocks
	}
	return p
}

// respond posts a reply to a response_url, which Slack accepts for 30
// minutes after the command.
func (b *Bot) respond(ctx context.Context, responseURL string, r reply) error {
	body, err := json.Marshal(r.payload())
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("response_url request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		// The URL is a bearer credential for 30 minutes; keep it out of logs.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post to response_url: %w", err)
	}
	defer resp.Body.Close()
	// Slack refuses a post with {"ok":false,"error":"expired_url"}, under a
	// 200 as often as under a 4xx, so the status alone does not tell.
	// Success is {"ok":true}, or for older hooks a plain "ok".
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil && resp.StatusCode == http.StatusOK {
		return fmt.Errorf("post to response_url: read the answer: %w", err)
	}
	var ans struct {
		OK    *bool  `json:"ok"`
		Error string `json:"error"`
	}
	refused := json.Unmarshal(data, &ans) == nil && ans.OK != nil && !*ans.OK
	if resp.StatusCode != http.StatusOK || refused {
		return &responseURLError{Status: resp.StatusCode, Code: ans.Error}
	}
	return nil
}

// responseURLError is Slack refusing a post to a response_url. Code is
// Slack's answer ("expired_url", "used_url", "invalid_blocks"), or "" when
// it gave none; Status is the HTTP status it came with.
type responseURLError struct {
	Status int
	Code   string
}

func (e *responseURLError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("post to response_url: HTTP %d", e.Status)
	}
	return fmt.Sprintf("post to response_url: Slack answered %s (HTTP %d)", e.Code, e.Status)
}

// answer writes what a handler decided to answer Slack with: resp as JSON,
// an empty 200 for nil, 503 for a temporary failure (Slack resends), 400
// for a payload that cannot be read. Errors are answered in fixed words:
// the raw error, which may quote the payload or name internals, goes to the
// request's log line instead.
func answer(w http.ResponseWriter, resp any, err error) {
	var te *temporaryError
	if err != nil {
		noteAnswerError(w, err)
	}
	switch {
	case errors.As(err, &te):
		http.Error(w, "try again later", http.StatusServiceUnavailable)
	case err != nil:
		http.Error(w, "Sitrep could not read this request", http.StatusBadRequest)
	case resp == nil:
		w.WriteHeader(http.StatusOK)
	default:
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	}
}
