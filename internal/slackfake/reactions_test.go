package slackfake_test

import (
	"testing"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// TestReactions checks that reactions people add show on the message and
// in conversations.history as Slack shows them, once per person and emoji.
func TestReactions(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	alice := fake.AddUser(slackfake.User{Name: "alice"})
	bob := fake.AddUser(slackfake.User{Name: "bob"})
	ch := fake.AddChannel("general", false, alice, bob, fake.BotUserID())
	ts := fake.AddMessage(ch, alice, "Checkout is down")

	for _, r := range []struct {
		user, name string
		isNew      bool
	}{{alice, "pushpin", true}, {bob, "pushpin", true}, {alice, "pushpin", false}, {bob, "eyes", true}} {
		if got := fake.AddReaction(ch, ts, r.user, r.name); got != r.isNew {
			t.Errorf("AddReaction(%s, %s) = %v, want %v", r.user, r.name, got, r.isNew)
		}
	}
	m, _ := fake.Message(ch, ts)
	if len(m.Reactions) != 2 || m.Reactions[0].Name != "pushpin" || len(m.Reactions[0].Users) != 2 || m.Reactions[1].Name != "eyes" {
		t.Errorf("reactions on the message: %+v", m.Reactions)
	}

	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.URL()))
	hist, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: ch})
	if err != nil {
		t.Fatal(err)
	}
	got := hist.Messages[0].Reactions
	if len(got) != 2 || got[0].Name != "pushpin" || got[0].Count != 2 || len(got[0].Users) != 2 || got[1].Count != 1 {
		t.Errorf("conversations.history reactions: %+v", got)
	}
	if users := fake.Users(); len(users) != 3 || users[0].ID != fake.BotUserID() || users[1].Name != "alice" {
		t.Errorf("Users() = %+v", users)
	}
}
