package slackfake

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep"
)

// TestScopesDefaultToTheManifest: unless told otherwise the fake grants
// exactly the bot scopes manifest.yaml asks for.
func TestScopesDefaultToTheManifest(t *testing.T) {
	want, err := sitrep.BotScopes()
	if err != nil || len(want) == 0 {
		t.Fatalf("BotScopes() = %v, %v", want, err)
	}
	s, _, _ := newFake(t)
	if diff := cmp.Diff(want, s.Scopes()); diff != "" {
		t.Errorf("Scopes() (-manifest +fake):\n%s", diff)
	}
}

// TestScopes: a call answers missing_scope, naming the scope needed and
// the scopes provided, when the token lacks the scope its method needs for
// the channel's type; the same call succeeds with the scope.
func TestScopes(t *testing.T) {
	public := []string{"channels:manage", "channels:read", "channels:history", "chat:write", "pins:write"}
	s, api, _ := newFake(t, WithScopes(public...))
	alice := s.AddUser(User{ID: "U0ALICE", Name: "alice"})
	pub := s.AddChannel("pub", false, alice, s.BotUserID())
	priv := s.AddChannel("priv", true, alice, s.BotUserID())

	_, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "open"})
	if err != nil {
		t.Errorf("public conversations.create with channels:manage: %v", err)
	}
	_, err = api.CreateConversation(slack.CreateConversationParams{ChannelName: "closed", IsPrivate: true})
	checkMissingScope(t, "private conversations.create", err, "groups:write")
	if _, ok := s.ChannelByName("closed"); ok {
		t.Error("the refused private channel was created")
	}

	if _, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: pub}); err != nil {
		t.Errorf("history of a public channel: %v", err)
	}
	_, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: priv})
	checkMissingScope(t, "history of a private channel", err, "groups:history")
	_, err = api.SetTopicOfConversation(priv, "t")
	checkMissingScope(t, "topic of a private channel", err, "groups:write")
	_, _, err = api.GetConversations(&slack.GetConversationsParameters{Types: []string{"public_channel", "private_channel"}})
	checkMissingScope(t, "conversations.list of private channels", err, "groups:read")
	_, err = api.GetUserInfo(alice)
	checkMissingScope(t, "users.info", err, "users:read")
	// An unknown channel is not found, whatever the scopes.
	_, err = api.SetTopicOfConversation("C0NOPE", "t")
	if got := slackErr(t, err); got != "channel_not_found" {
		t.Errorf("topic of an unknown channel: %q, want channel_not_found", got)
	}

	_, ts, err := api.PostMessage(pub, slack.MsgOptionText("pin me", false))
	if err != nil {
		t.Fatal(err)
	}
	if err := api.AddPin(pub, slack.NewRefToMessage(pub, ts)); err != nil {
		t.Fatal(err)
	}
	_, _, err = api.ListPins(pub)
	checkMissingScope(t, "pins.list", err, "")

	s2, api2, _ := newFake(t, WithScopes(append(slices.Clone(public), "pins:read")...))
	s2.AddUser(User{ID: "U0ALICE", Name: "alice"})
	pub2 := s2.AddChannel("pub", false, "U0ALICE", s2.BotUserID())
	_, ts2, err := api2.PostMessage(pub2, slack.MsgOptionText("pin me", false))
	if err != nil {
		t.Fatal(err)
	}
	if err := api2.AddPin(pub2, slack.NewRefToMessage(pub2, ts2)); err != nil {
		t.Fatal(err)
	}
	items, _, err := api2.ListPins(pub2)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Type != "message" || items[0].Message == nil || items[0].Message.Timestamp != ts2 {
		t.Errorf("ListPins() = %+v", items)
	}
}

// checkMissingScope checks that a call was refused with missing_scope,
// naming the scope needed. slack-go's ListPins keeps only Slack's code
// (needed ""); TestMissingScopeShape reads the whole answer.
func checkMissingScope(t *testing.T, what string, err error, needed string) {
	t.Helper()
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &se):
		if se.Err != "missing_scope" || se.Needed != needed {
			t.Errorf("%s: %q needing %q, want missing_scope needing %q", what, se.Err, se.Needed, needed)
		}
	case needed != "" || err == nil || err.Error() != "missing_scope":
		t.Errorf("%s: %v, want missing_scope", what, err)
	}
}

// TestMissingScopeShape reads a missing_scope answer off the wire.
func TestMissingScopeShape(t *testing.T) {
	s, _, _ := newFake(t, WithScopes("chat:write", "channels:manage"))
	resp, err := http.Post(s.URL()+"conversations.create", "application/x-www-form-urlencoded", strings.NewReader("token="+s.BotToken()+"&name=closed&is_private=true"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"ok": false, "error": "missing_scope", "needed": "groups:write", "provided": strings.Join([]string{"chat:write", "channels:manage"}, ",")}
	if diff := cmp.Diff(want, ans); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
}
