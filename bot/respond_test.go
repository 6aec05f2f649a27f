package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// TestRespondReadsSlacksAnswer: Slack refuses a response_url post under a
// 200 as well as under a 4xx, with {"ok":false,"error":…}; respond reports
// either as an error naming Slack's code.
func TestRespondReadsSlacksAnswer(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	b := &Bot{client: http.DefaultClient}
	ctx := context.Background()
	msg := reply{Text: "hello"}

	used := fake.NewResponseURL()
	for range 5 {
		if err := b.respond(ctx, used, msg); err != nil {
			t.Fatalf("a fresh response_url refused a post: %v", err)
		}
	}
	failing := fake.NewResponseURL()
	plainOK := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer plainOK.Close()
	bare404 := httptest.NewServer(http.NotFoundHandler())
	defer bare404.Close()

	for _, tc := range []struct {
		name       string
		url        string
		wantCode   string // "" and wantStatus 0: no error
		wantStatus int
		retryable  bool
		before     func()
	}{
		{"used up: 200 with ok false", used, "used_url", http.StatusOK, false, nil},
		{"unknown: 404 with ok false", strings.TrimSuffix(fake.URL(), "api/") + "response-url/T0/999", "invalid_url", http.StatusNotFound, false, nil},
		{"server error with a code", failing, "internal_error", http.StatusInternalServerError, true, func() {
			fake.Fail(slackfake.ResponseURLMethod, slackfake.Failure{Status: http.StatusInternalServerError, Times: 1})
		}},
		{"refused without a body", bare404.URL, "", http.StatusNotFound, false, nil},
		{"plain ok", plainOK.URL, "", 0, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			err := b.respond(ctx, tc.url, msg)
			if tc.wantStatus == 0 {
				if err != nil {
					t.Fatalf("respond: %v", err)
				}
				return
			}
			var re *responseURLError
			if !errors.As(err, &re) {
				t.Fatalf("respond = %v, want a *responseURLError", err)
			}
			if re.Code != tc.wantCode || re.Status != tc.wantStatus {
				t.Errorf("respond refused with %q (HTTP %d), want %q (HTTP %d)", re.Code, re.Status, tc.wantCode, tc.wantStatus)
			}
			if slackError(err) != tc.wantCode {
				t.Errorf("slackError = %q, want %q", slackError(err), tc.wantCode)
			}
			if retryable(err) != tc.retryable {
				t.Errorf("retryable = %v, want %v", retryable(err), tc.retryable)
			}
		})
	}
}

// TestAnswerHidesErrors: a payload Sitrep cannot read is answered 400 in
// fixed words; the raw error goes to the request's log line.
func TestAnswerHidesErrors(t *testing.T) {
	var logs bytes.Buffer
	b := &Bot{log: slog.New(slog.NewTextHandler(&logs, nil)), metrics: noMetrics{}}
	for _, tc := range []struct {
		name       string
		err        error
		wantStatus int
	}{
		{"unreadable", fmt.Errorf("malformed event: %w", errors.New("invalid character 'x' looking for beginning of value")), http.StatusBadRequest},
		{"later", &temporaryError{errors.New("database is locked")}, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			_, req := b.startRequest(context.Background(), kindEvent, "http", "")
			rec := httptest.NewRecorder()
			answer(&statusWriter{ResponseWriter: rec, status: http.StatusOK, req: req}, nil, tc.err)
			b.endRequest(req, rec.Code)
			if rec.Code != tc.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tc.wantStatus)
			}
			raw := errors.Unwrap(tc.err).Error()
			if strings.Contains(rec.Body.String(), raw) {
				t.Errorf("the answer quotes the raw error: %q", rec.Body.String())
			}
			if !strings.Contains(logs.String(), raw) {
				t.Errorf("the request's log line lacks the raw error %q:\n%s", raw, logs.String())
			}
		})
	}
}
