package bot

import (
	"context"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// TestMissingScopeNamesTheScope: a call Slack refuses for a scope the app
// lacks is final, and the hint people see names the scope Slack wanted.
func TestMissingScopeNamesTheScope(t *testing.T) {
	fake := slackfake.New(slackfake.WithScopes("channels:manage", "chat:write"))
	t.Cleanup(fake.Close)
	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.URL()))
	_, err := api.CreateConversationContext(context.Background(), slack.CreateConversationParams{ChannelName: "inc-1-private", IsPrivate: true})
	if slackError(err) != "missing_scope" || !isFinal(err) {
		t.Fatalf("create = %v (final %v), want a final missing_scope", err, isFinal(err))
	}
	if got := needsAdmin(err); !strings.Contains(got, "`groups:write` scope") || !strings.Contains(got, "manifest.yaml") {
		t.Errorf("hint %q does not name the scope and the manifest", got)
	}
}
