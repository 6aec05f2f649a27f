package bot

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

func TestSlackMethod(t *testing.T) {
	for url, want := range map[string]string{
		"https://slack.com/api/chat.postMessage":                       "chat.postMessage",
		"http://127.0.0.1:4000/api/conversations.create":               "conversations.create",
		"https://hooks.slack.com/commands/T111/1234/abcd":              "response_url",
		"https://hooks.slack.com/actions/T111/1234/abcd":               "response_url",
		"http://127.0.0.1:4000/response-url/T111/3":                    "response_url",
		"https://files.slack.com/upload/v1/CwABAAAAXgoAAZnQO2hkBGr1AA": "file_upload",
		"https://slack.com/api/":                                       "file_upload",
	} {
		req, err := http.NewRequest(http.MethodPost, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := slackMethod(req); got != want {
			t.Errorf("slackMethod(%s) = %q, want %q", url, got, want)
		}
	}
}

func TestReadResult(t *testing.T) {
	for body, want := range map[string]string{
		`{"ok":true,"channel":"C1"}`:                        "ok",
		`{"ok":false,"error":"name_taken"}`:                 "name_taken",
		`{"ok":false}`:                                      "unknown_error",
		`not json at all`:                                   "ok",
		`{"ok":false,"error":"invalid_blocks","errors":[]}`: "invalid_blocks",
	} {
		got, rest, err := readResult(io.NopCloser(strings.NewReader(body)))
		if err != nil || got != want {
			t.Errorf("readResult(%s) = %q, %v; want %q", body, got, err, want)
		}
		if again, _ := io.ReadAll(rest); string(again) != body {
			t.Errorf("the body reads %q after measuring, want %q", again, body)
		}
	}
}

func TestAuthRefusal(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		wantCode  string
		wantToken bool
	}{
		{"revoked token", slack.SlackErrorResponse{Err: "token_revoked"}, "token_revoked", true},
		{"wrapped", fmt.Errorf("socket mode: %w", slack.SlackErrorResponse{Err: "invalid_auth"}), "invalid_auth", true},
		{"bot token where an app token belongs", slack.SlackErrorResponse{Err: "not_allowed_token_type"}, "not_allowed_token_type", true},
		{"missing scope", slack.SlackErrorResponse{Err: "missing_scope"}, "missing_scope", false},
		{"another refusal", slack.SlackErrorResponse{Err: "channel_not_found"}, "", false},
		// Only Slack's typed answer counts, never the words of an error.
		{"the code in text only", errors.New("invalid_auth"), "", false},
		{"no error", nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, token := authRefusal(tc.err)
			if code != tc.wantCode || token != tc.wantToken {
				t.Errorf("authRefusal(%v) = %q, %v; want %q, %v", tc.err, code, token, tc.wantCode, tc.wantToken)
			}
		})
	}
}
