package slackfake

import (
	"testing"

	"github.com/slack-go/slack"
)

// TestEphemeralNeedsTheBotInTheChannel: Slack shows an app's ephemeral
// message only where the app is a member, public channel or not.
func TestEphemeralNeedsTheBotInTheChannel(t *testing.T) {
	f := newFixture(t)
	f.s.AddMember(f.random, f.alice)
	for _, tc := range []struct{ name, channel, want string }{
		{"member", f.ops, ""},
		{"public, bot not a member", f.random, "not_in_channel"},
		{"private, bot not a member", f.secret, "channel_not_found"},
	} {
		_, err := f.api.PostEphemeral(tc.channel, f.alice, slack.MsgOptionText("psst", false))
		if got := slackErr(t, err); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if n := len(f.s.Ephemerals(f.random)); n != 0 {
		t.Errorf("%d ephemerals kept where the bot is not", n)
	}
}

// TestDirectMessages: conversations.open opens the one DM between the bot
// and a user (the same one each time), which chat.postMessage posts to;
// DMs are not channels.
func TestDirectMessages(t *testing.T) {
	f := newFixture(t, WithScopes("chat:write", "im:write"))
	ch, _, _, err := f.api.OpenConversation(&slack.OpenConversationParameters{Users: []string{f.alice}})
	if err != nil {
		t.Fatal(err)
	}
	again, _, already, err := f.api.OpenConversation(&slack.OpenConversationParameters{Users: []string{f.alice}})
	if err != nil || again.ID != ch.ID || !already {
		t.Errorf("second open = %q, already_open %v, %v; want %q, true", again.ID, already, err, ch.ID)
	}
	if id, ok := f.s.DM(f.alice); !ok || id != ch.ID {
		t.Errorf("DM(alice) = %q, %v, want %q", id, ok, ch.ID)
	}
	if _, _, err := f.api.PostMessage(ch.ID, slack.MsgOptionText("hello alice", false)); err != nil {
		t.Fatal(err)
	}
	if m := f.s.Messages(ch.ID); len(m) != 1 || m[0].Text != "hello alice" {
		t.Errorf("DM messages = %+v", m)
	}
	for _, c := range f.s.Channels() {
		if c.ID == ch.ID {
			t.Error("Channels() lists the DM")
		}
	}
	for _, tc := range []struct {
		name  string
		users []string
		want  string
	}{{"unknown user", []string{"U0NOPE"}, "user_not_found"}, {"no user", nil, "users_list_not_supplied"}} {
		_, _, _, err := f.api.OpenConversation(&slack.OpenConversationParameters{Users: tc.users})
		if got := slackErr(t, err); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}

	noIM := newFixture(t, WithScopes("chat:write"))
	_, _, _, err = noIM.api.OpenConversation(&slack.OpenConversationParameters{Users: []string{noIM.alice}})
	checkMissingScope(t, "conversations.open without im:write", err, "im:write")
}
