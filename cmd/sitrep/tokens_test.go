package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// TestRefusedTokens: a token Slack refuses stops Sitrep at start-up with
// the setting to fix named, for the bot token (auth.test) and for the
// app-level token (apps.connections.open).
func TestRefusedTokens(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	for _, tc := range []struct {
		name, key, token, want string
	}{
		{"bot token", "SLACK_BOT_TOKEN", "xoxb-1-2-notthetoken", "SLACK_BOT_TOKEN: Slack rejected it (invalid_auth)"},
		{"app token", "SLACK_APP_TOKEN", "xapp-1-A1-2-notthetoken", "SLACK_APP_TOKEN: Slack refused it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := testEnv(fake, filepath.Join(t.TempDir(), "sitrep.db"), tc.key, tc.token)
			p := program{getenv: func(k string) string { return env[k] }, stdout: io.Discard, stderr: io.Discard}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := p.run(ctx, []string{"serve"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("sitrep serve with a refused %s ended with %v, want %q", tc.key, err, tc.want)
			}
			if ctx.Err() != nil {
				t.Errorf("sitrep kept running with a refused %s", tc.key)
			}
		})
	}
}
