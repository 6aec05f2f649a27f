package slackfake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // TestUsersInfo needs Europe/Paris on any machine

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

// t0 is the fixed time of the test clock.
var t0 = time.Unix(1700000000, 0)

// testClock is a settable clock for WithClock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newFake starts a fake with a fixed clock and a slack-go client pointed at
// it.
func newFake(t *testing.T, opts ...Option) (*Server, *slack.Client, *testClock) {
	t.Helper()
	clock := &testClock{now: t0}
	s := New(append([]Option{WithClock(clock.Now)}, opts...)...)
	t.Cleanup(s.Close)
	return s, slack.New(s.BotToken(), slack.OptionAPIURL(s.URL())), clock
}

// slackErr returns the Slack error code of err ("" for nil).
func slackErr(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e slack.SlackErrorResponse
	if errors.As(err, &e) {
		return e.Err
	}
	t.Fatalf("not a Slack error response: %#v", err)
	return ""
}

// fixture is a workspace with users alice and bob, a public channel the bot
// is in (#ops, with alice), a public one it is not in (#random), and a
// private one it is not in (#secret).
type fixture struct {
	s                   *Server
	api                 *slack.Client
	clock               *testClock
	alice, bob          string
	ops, random, secret string
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	s, api, clock := newFake(t, opts...)
	f := &fixture{s: s, api: api, clock: clock}
	f.alice = s.AddUser(User{ID: "U0ALICE", Name: "alice", RealName: "Alice A", TZ: "Europe/Paris"})
	f.bob = s.AddUser(User{ID: "U0BOB", Name: "bob", RealName: "Bob B"})
	f.ops = s.AddChannel("ops", false, s.BotUserID(), f.alice)
	f.random = s.AddChannel("random", false, f.alice)
	f.secret = s.AddChannel("secret", true, f.alice)
	return f
}

func TestURL(t *testing.T) {
	s := New()
	defer s.Close()
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || !strings.HasSuffix(s.URL(), "/api/") {
		t.Errorf("URL() = %q, want http://127.0.0.1:<port>/api/", s.URL())
	}
}

func TestAuthTest(t *testing.T) {
	s, api, _ := newFake(t, WithTeam("T0SITREP"))
	got, err := api.AuthTest()
	if err != nil {
		t.Fatal(err)
	}
	got.Header = nil
	want := &slack.AuthTestResponse{
		URL:    "https://fake.slack.com/",
		Team:   "Fake Workspace",
		User:   "sitrep",
		TeamID: "T0SITREP",
		UserID: s.BotUserID(),
		BotID:  s.BotID(),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AuthTest() mismatch (-want +got):\n%s", diff)
	}
}

func TestAuthErrors(t *testing.T) {
	s, _, _ := newFake(t)
	tests := []struct {
		name, token string
		want        string
	}{
		{"no token", "", "not_authed"},
		{"wrong token", "xoxb-wrong", "invalid_auth"},
		{"right token", s.BotToken(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := slack.New(tt.token, slack.OptionAPIURL(s.URL()))
			_, err := api.AuthTest()
			if got := slackErr(t, err); got != tt.want {
				t.Errorf("AuthTest() error = %q, want %q", got, tt.want)
			}
		})
	}
}

// rawCall sends a raw HTTP request to the fake and returns the body.
func rawCall(t *testing.T, method, u, contentType, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestRawRequests(t *testing.T) {
	f := newFixture(t)
	tok := f.s.BotToken()
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name                         string
		method, path, ctype, auth, b string
		want                         string
	}{
		{"unknown method", "POST", "nope.nope", form, tok, "", `{"error":"unknown_method","ok":false,"req_method":"nope.nope"}`},
		{"token in form", "POST", "auth.test", form, "", "token=" + tok, `"ok":true`},
		{"bearer with form", "POST", "conversations.info", form, tok, "channel=" + f.ops, `"ok":true`},
		{"GET with bearer", "GET", "conversations.info?channel=" + f.ops, "", tok, "", `"ok":true`},
		{"token in query is ignored", "GET", "auth.test?token=" + tok, "", "", "", `"error":"not_authed"`},
		{"token in JSON body is ignored", "POST", "auth.test", "application/json; charset=utf-8", "", `{"token":"` + tok + `"}`, `"error":"not_authed"`},
		{"JSON with bearer", "POST", "chat.postMessage", "application/json; charset=utf-8", tok,
			`{"channel":"` + f.ops + `","text":"hi","blocks":[{"type":"divider"}]}`, `"ok":true`},
		{"JSON without charset warns", "POST", "auth.test", "application/json", tok, `{}`,
			`"response_metadata":{"warnings":["missing_charset"]},"team":"Fake Workspace","team_id":"T0FAKETEAM","url":"https://fake.slack.com/","user":"sitrep","user_id":"U0FAKEBOT","warning":"missing_charset"}`},
		{"malformed JSON", "POST", "auth.test", "application/json; charset=utf-8", tok, `{`, `"error":"invalid_json"`},
		{"blocks not JSON", "POST", "chat.postMessage", form, tok, "channel=" + f.ops + "&text=x&blocks=%5Bnope", `"error":"invalid_blocks_format"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := rawCall(t, tt.method, f.s.URL()+tt.path, tt.ctype, tt.auth, tt.b)
			if status != http.StatusOK || !strings.Contains(body, tt.want) {
				t.Errorf("%s %s = %d %s, want 200 containing %s", tt.method, tt.path, status, body, tt.want)
			}
		})
	}
	// The JSON post stored its blocks, and the call log flattened them.
	msgs := f.s.Messages(f.ops)
	if len(msgs) != 1 || string(msgs[0].Blocks) != `[{"type":"divider"}]` {
		t.Errorf("Messages() = %+v, want one message with a divider", msgs)
	}
	var jsonCall *Call
	for _, c := range f.s.Calls("chat.postMessage") {
		if c.Params["text"] == "hi" {
			jsonCall = &c
		}
	}
	if jsonCall == nil || jsonCall.Params["blocks"] != `[{"type":"divider"}]` || jsonCall.Token != tok {
		t.Errorf("JSON call logged as %+v", jsonCall)
	}
}

func TestCreateConversation(t *testing.T) {
	s, api, _ := newFake(t)
	for _, private := range []bool{false, true} {
		name := fmt.Sprintf("inc-42-private-%t", private)
		ch, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: name, IsPrivate: private})
		if err != nil {
			t.Fatalf("CreateConversation(%q): %v", name, err)
		}
		if !strings.HasPrefix(ch.ID, "C") || ch.Name != name || ch.IsPrivate != private || !ch.IsMember ||
			!ch.IsChannel || ch.Creator != s.BotUserID() || ch.Created.Time() != t0 || ch.IsArchived {
			t.Errorf("CreateConversation(%q) = %+v", name, ch)
		}
		want := Channel{ID: ch.ID, Name: name, Private: private, Members: []string{s.BotUserID()}, Creator: s.BotUserID(), Created: t0}
		got, ok := s.ChannelByName(name)
		if diff := cmp.Diff(want, got); !ok || diff != "" {
			t.Errorf("ChannelByName(%q) mismatch (-want +got):\n%s", name, diff)
		}
	}
	if n := len(s.Channels()); n != 2 {
		t.Errorf("len(Channels()) = %d, want 2", n)
	}
}

func TestCreateConversationNameRules(t *testing.T) {
	s, api, _ := newFake(t)
	s.AddChannel("taken", false)
	archived := s.AddChannel("old-incident", false, s.BotUserID())
	if err := api.ArchiveConversation(archived); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, channel, want string
	}{
		{"empty", "", "invalid_name_required"},
		{"81 characters", repeat(81), "invalid_name_maxlength"},
		{"80 characters", repeat(80), ""},
		{"uppercase", "Inc-1", "invalid_name_specials"},
		{"space", "inc 1", "invalid_name_specials"},
		{"dot", "inc.1", "invalid_name_specials"},
		{"hash", "#inc-1", "invalid_name_specials"},
		{"unicode letter", "incidént", "invalid_name_specials"},
		{"only dashes", "---", "invalid_name_punctuation"},
		{"only underscore", "_", "invalid_name_punctuation"},
		{"dashes and underscores", "-_-", "invalid_name_punctuation"},
		{"digits only", "2024", ""},
		{"punctuation around letters", "-inc_1-", ""},
		{"taken", "taken", "name_taken"},
		{"taken by archived channel", "old-incident", "name_taken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: tt.channel})
			if got := slackErr(t, err); got != tt.want {
				t.Errorf("CreateConversation(%q) error = %q, want %q", tt.channel, got, tt.want)
			}
		})
	}
}

func TestInvite(t *testing.T) {
	tests := []struct {
		name    string
		channel func(f *fixture) string
		users   func(f *fixture) []string
		force   bool
		want    string
		// wantErrors are the per-user errors slack-go decodes.
		wantErrors  []slack.ConversationsInviteResponseError
		wantMembers func(f *fixture) []string // nil: unchanged
	}{
		{
			name:        "invite",
			channel:     func(f *fixture) string { return f.ops },
			users:       func(f *fixture) []string { return []string{f.bob} },
			wantMembers: func(f *fixture) []string { return []string{f.s.BotUserID(), f.alice, f.bob} },
		},
		{
			name:        "already in channel alongside a new user",
			channel:     func(f *fixture) string { return f.ops },
			users:       func(f *fixture) []string { return []string{f.alice, f.bob} },
			wantMembers: func(f *fixture) []string { return []string{f.s.BotUserID(), f.alice, f.bob} },
		},
		{
			name:       "already in channel",
			channel:    func(f *fixture) string { return f.ops },
			users:      func(f *fixture) []string { return []string{f.alice} },
			want:       "already_in_channel",
			wantErrors: []slack.ConversationsInviteResponseError{{User: "U0ALICE", Error: "already_in_channel"}},
		},
		{
			name:    "bot not in channel",
			channel: func(f *fixture) string { return f.random },
			users:   func(f *fixture) []string { return []string{f.bob} },
			want:    "not_in_channel",
		},
		{
			name:    "private channel the bot is not in",
			channel: func(f *fixture) string { return f.secret },
			users:   func(f *fixture) []string { return []string{f.bob} },
			want:    "channel_not_found",
		},
		{
			name:    "unknown channel",
			channel: func(f *fixture) string { return "C0NOPE" },
			users:   func(f *fixture) []string { return []string{f.bob} },
			want:    "channel_not_found",
		},
		{
			name:       "unknown user invites nobody",
			channel:    func(f *fixture) string { return f.ops },
			users:      func(f *fixture) []string { return []string{f.bob, "U0GHOST"} },
			want:       "user_not_found",
			wantErrors: []slack.ConversationsInviteResponseError{{User: "U0GHOST", Error: "user_not_found"}},
		},
		{
			name:        "unknown user with force",
			channel:     func(f *fixture) string { return f.ops },
			users:       func(f *fixture) []string { return []string{f.bob, "U0GHOST"} },
			force:       true,
			wantMembers: func(f *fixture) []string { return []string{f.s.BotUserID(), f.alice, f.bob} },
		},
		{
			name:       "self",
			channel:    func(f *fixture) string { return f.ops },
			users:      func(f *fixture) []string { return []string{f.s.BotUserID()} },
			want:       "cant_invite_self",
			wantErrors: []slack.ConversationsInviteResponseError{{User: DefaultBotUserID, Error: "cant_invite_self"}},
		},
		{
			name: "archived",
			channel: func(f *fixture) string {
				if err := f.api.ArchiveConversation(f.ops); err != nil {
					panic(err)
				}
				return f.ops
			},
			users: func(f *fixture) []string { return []string{f.bob} },
			want:  "is_archived",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			channel := tt.channel(f)
			before, _ := f.s.Channel(channel)
			invite := f.api.InviteUsersToConversation
			if tt.force {
				invite = f.api.ForceInviteUsersToConversation
			}
			ch, err := invite(channel, tt.users(f)...)
			if got := slackErr(t, err); got != tt.want {
				t.Fatalf("invite error = %q, want %q", got, tt.want)
			}
			if err != nil {
				var gotErrors []slack.ConversationsInviteResponseError
				for _, e := range err.(slack.SlackErrorResponse).Errors {
					gotErrors = append(gotErrors, *e.ConversationsInviteResponseError)
				}
				if diff := cmp.Diff(tt.wantErrors, gotErrors); diff != "" {
					t.Errorf("invite errors mismatch (-want +got):\n%s", diff)
				}
			} else if ch.ID != channel {
				t.Errorf("invite returned channel %q, want %q", ch.ID, channel)
			}
			wantMembers := before.Members
			if tt.wantMembers != nil {
				wantMembers = tt.wantMembers(f)
			}
			after, _ := f.s.Channel(channel)
			if diff := cmp.Diff(wantMembers, after.Members); diff != "" {
				t.Errorf("members mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJoin(t *testing.T) {
	f := newFixture(t)
	archived := f.s.AddChannel("archived", false, f.s.BotUserID())
	if err := f.api.ArchiveConversation(archived); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, channel, want, wantWarning string
	}{
		{"public", f.random, "", ""},
		{"already member", f.ops, "", "already_in_channel"},
		{"private", f.secret, "method_not_supported_for_channel_type", ""},
		{"archived", archived, "is_archived", ""},
		{"unknown", "C0NOPE", "channel_not_found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, warning, _, err := f.api.JoinConversation(tt.channel)
			if got := slackErr(t, err); got != tt.want {
				t.Fatalf("JoinConversation error = %q, want %q", got, tt.want)
			}
			if err == nil && (!ch.IsMember || warning != tt.wantWarning) {
				t.Errorf("JoinConversation = member %t, warning %q; want member, warning %q", ch.IsMember, warning, tt.wantWarning)
			}
		})
	}
	if got, _ := f.s.Channel(f.random); !contains(got.Members, f.s.BotUserID()) {
		t.Errorf("bot not in #random after join: %v", got.Members)
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func TestSetTopic(t *testing.T) {
	f := newFixture(t)
	archived := f.s.AddChannel("archived", false, f.s.BotUserID())
	if err := f.api.ArchiveConversation(archived); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, channel, topic, want string
	}{
		{"set", f.ops, "SEV1: checkout down", ""},
		{"250 characters", f.ops, repeat(250), ""},
		{"251 characters", f.ops, repeat(251), "too_long"},
		{"not in channel", f.random, "x", "not_in_channel"},
		{"private not in channel", f.secret, "x", "channel_not_found"},
		{"archived", archived, "x", "is_archived"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.s.Messages(tt.channel))
			ch, err := f.api.SetTopicOfConversation(tt.channel, tt.topic)
			if got := slackErr(t, err); got != tt.want {
				t.Fatalf("SetTopicOfConversation error = %q, want %q", got, tt.want)
			}
			msgs := f.s.Messages(tt.channel)
			if err != nil {
				if len(msgs) != before {
					t.Errorf("a failed setTopic posted a message")
				}
				return
			}
			if ch.Topic.Value != tt.topic || ch.Topic.Creator != f.s.BotUserID() {
				t.Errorf("returned topic = %+v, want %q by the bot", ch.Topic, tt.topic)
			}
			if got, _ := f.s.Channel(tt.channel); got.Topic != tt.topic {
				t.Errorf("Channel().Topic = %q, want %q", got.Topic, tt.topic)
			}
			last := msgs[len(msgs)-1]
			want := Message{TS: last.TS, Channel: tt.channel, User: f.s.BotUserID(), Subtype: "channel_topic", Text: "set the channel topic: " + tt.topic}
			if diff := cmp.Diff(want, last); diff != "" {
				t.Errorf("topic message mismatch (-want +got):\n%s", diff)
			}
		})
	}
	// The system message shows up in history with its topic.
	h, err := f.api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: f.ops, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 1 || h.Messages[0].SubType != "channel_topic" || h.Messages[0].Topic != repeat(250) {
		t.Errorf("history = %+v, want the last channel_topic message", h.Messages)
	}
}

func TestPostUpdatePin(t *testing.T) {
	f := newFixture(t)
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "SEV1", false, false)),
		slack.NewActionBlock("actions", slack.NewButtonBlockElement("ack", "inc-1", slack.NewTextBlockObject(slack.PlainTextType, "Ack", false, false))),
	}
	channel, ts, err := f.api.PostMessage(f.ops, slack.MsgOptionText("SEV1 declared", false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		t.Fatal(err)
	}
	if channel != f.ops || ts != "1700000000.000000" {
		t.Errorf("PostMessage = %q, %q; want %q, 1700000000.000000", channel, ts, f.ops)
	}
	msg, ok := f.s.Message(f.ops, ts)
	if !ok || msg.Text != "SEV1 declared" || msg.User != f.s.BotUserID() || msg.BotID != f.s.BotID() ||
		!strings.Contains(string(msg.Blocks), `"action_id":"ack"`) || msg.Edited {
		t.Errorf("Message() = %+v", msg)
	}

	// A thread reply.
	_, replyTS, err := f.api.PostMessage(f.ops, slack.MsgOptionText("update", false), slack.MsgOptionTS(ts))
	if err != nil {
		t.Fatal(err)
	}
	if reply, _ := f.s.Message(f.ops, replyTS); reply.ThreadTS != ts || replyTS <= ts {
		t.Errorf("reply = %+v, want thread_ts %s and a later ts", reply, ts)
	}

	// Update the text; blocks not sent are kept.
	_, _, text, err := f.api.UpdateMessage(f.ops, ts, slack.MsgOptionText("SEV1 resolved", false))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ = f.s.Message(f.ops, ts)
	if text != "SEV1 resolved" || msg.Text != "SEV1 resolved" || !msg.Edited || msg.Blocks == nil {
		t.Errorf("after update: text %q, message %+v", text, msg)
	}
	// An empty blocks array removes the blocks.
	if _, _, _, err := f.api.UpdateMessage(f.ops, ts, slack.MsgOptionBlocks()); err != nil {
		t.Fatal(err)
	}
	if msg, _ = f.s.Message(f.ops, ts); msg.Blocks != nil || msg.Text != "SEV1 resolved" {
		t.Errorf("after clearing blocks: %+v", msg)
	}

	// Pin, then pin again.
	if err := f.api.AddPin(f.ops, slack.NewRefToMessage(f.ops, ts)); err != nil {
		t.Fatal(err)
	}
	if got := slackErr(t, f.api.AddPin(f.ops, slack.NewRefToMessage(f.ops, ts))); got != "already_pinned" {
		t.Errorf("second AddPin error = %q, want already_pinned", got)
	}
	if diff := cmp.Diff([]string{ts}, f.s.Pins(f.ops)); diff != "" {
		t.Errorf("Pins() mismatch (-want +got):\n%s", diff)
	}
	// pins.list needs pins:read, which Sitrep's manifest does not ask
	// for (TestScopes lists pins with it).
	if _, _, err := f.api.ListPins(f.ops); err == nil || err.Error() != "missing_scope" {
		t.Errorf("ListPins without pins:read: %v, want missing_scope", err)
	}

	link, err := f.api.GetPermalink(&slack.PermalinkParameters{Channel: f.ops, Ts: ts})
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://fake.slack.com/archives/" + f.ops + "/p1700000000000000"; link != want {
		t.Errorf("GetPermalink() = %q, want %q", link, want)
	}
	link, err = f.api.GetPermalink(&slack.PermalinkParameters{Channel: f.ops, Ts: replyTS})
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://fake.slack.com/archives/" + f.ops + "/p1700000000000001?thread_ts=" + ts + "&cid=" + f.ops; link != want {
		t.Errorf("GetPermalink(reply) = %q, want %q", link, want)
	}
}

func TestPostMessageErrors(t *testing.T) {
	f := newFixture(t)
	archived := f.s.AddChannel("archived", false, f.s.BotUserID())
	if err := f.api.ArchiveConversation(archived); err != nil {
		t.Fatal(err)
	}
	text := func(s string) slack.MsgOption { return slack.MsgOptionText(s, false) }
	tests := []struct {
		name, channel string
		opts          []slack.MsgOption
		want          string
	}{
		{"ok", f.ops, []slack.MsgOption{text("hi")}, ""},
		{"by name", "#ops", []slack.MsgOption{text("hi")}, ""},
		{"unknown channel", "C0NOPE", []slack.MsgOption{text("hi")}, "channel_not_found"},
		{"public, bot not a member", f.random, []slack.MsgOption{text("hi")}, "not_in_channel"},
		{"private, bot not a member", f.secret, []slack.MsgOption{text("hi")}, "channel_not_found"},
		{"archived", archived, []slack.MsgOption{text("hi")}, "is_archived"},
		{"no text", f.ops, nil, "no_text"},
		{"empty blocks and no text", f.ops, []slack.MsgOption{slack.MsgOptionBlocks()}, "no_text"},
		{"blocks without text", f.ops, []slack.MsgOption{slack.MsgOptionBlocks(slack.NewDividerBlock())}, ""},
		{"40000 characters", f.ops, []slack.MsgOption{text(repeat(40000))}, ""},
		{"40001 characters", f.ops, []slack.MsgOption{text(repeat(40001))}, "msg_too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.s.Calls("chat.postMessage"))
			_, _, err := f.api.PostMessage(tt.channel, tt.opts...)
			if got := slackErr(t, err); got != tt.want {
				t.Errorf("PostMessage error = %q, want %q", got, tt.want)
			}
			if n := len(f.s.Calls("chat.postMessage")); n != before+1 {
				t.Errorf("call log grew by %d, want 1", n-before)
			}
		})
	}
}

func TestUpdateErrors(t *testing.T) {
	f := newFixture(t)
	_, ts, err := f.api.PostMessage(f.ops, slack.MsgOptionText("mine", false))
	if err != nil {
		t.Fatal(err)
	}
	humanTS := f.s.AddMessage(f.ops, f.alice, "hello")
	tests := []struct {
		name, channel, ts string
		opts              []slack.MsgOption
		want              string
	}{
		{"ok", f.ops, ts, []slack.MsgOption{slack.MsgOptionText("edited", false)}, ""},
		{"unknown message", f.ops, "1600000000.000000", []slack.MsgOption{slack.MsgOptionText("x", false)}, "message_not_found"},
		{"someone else's message", f.ops, humanTS, []slack.MsgOption{slack.MsgOptionText("x", false)}, "cant_update_message"},
		{"unknown channel", "C0NOPE", ts, []slack.MsgOption{slack.MsgOptionText("x", false)}, "channel_not_found"},
		{"nothing to update", f.ops, ts, nil, "no_text"},
		{"invalid blocks", f.ops, ts, []slack.MsgOption{slack.MsgOptionBlocks(
			slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, repeat(151), false, false)))}, "invalid_blocks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := f.api.UpdateMessage(tt.channel, tt.ts, tt.opts...)
			if got := slackErr(t, err); got != tt.want {
				t.Errorf("UpdateMessage error = %q, want %q", got, tt.want)
			}
		})
	}
	if m, _ := f.s.Message(f.ops, ts); m.Text != "edited" {
		t.Errorf("text after failed updates = %q, want %q", m.Text, "edited")
	}
}

func TestInvalidBlocks(t *testing.T) {
	f := newFixture(t, WithoutRateLimits()) // one channel takes every case
	txt := func(typ, s string) *slack.TextBlockObject { return slack.NewTextBlockObject(typ, s, false, false) }
	btn := func(id, label string) *slack.ButtonBlockElement {
		return slack.NewButtonBlockElement(id, "v", txt(slack.PlainTextType, label))
	}
	many := func(n int, b func(i int) slack.Block) []slack.Block {
		out := make([]slack.Block, n)
		for i := range out {
			out[i] = b(i)
		}
		return out
	}
	tests := []struct {
		name   string
		blocks []slack.Block
		want   []string
	}{
		{
			name:   "section text",
			blocks: []slack.Block{slack.NewSectionBlock(txt(slack.MarkdownType, repeat(3001)), nil, nil)},
			want: []string{
				"failed to match all allowed schemas [json-pointer:/blocks/0/text]",
				"must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
			},
		},
		{
			name:   "header text",
			blocks: []slack.Block{slack.NewHeaderBlock(txt(slack.PlainTextType, repeat(151)))},
			want:   []string{"must be less than 151 characters [json-pointer:/blocks/0/text/text]"},
		},
		{
			name:   "51 blocks",
			blocks: many(51, func(int) slack.Block { return slack.NewDividerBlock() }),
			want:   []string{"no more than 50 items allowed [json-pointer:/blocks]"},
		},
		{
			name: "11 fields",
			blocks: []slack.Block{slack.NewSectionBlock(nil, func() []*slack.TextBlockObject {
				var fs []*slack.TextBlockObject
				for range 11 {
					fs = append(fs, txt(slack.MarkdownType, "f"))
				}
				return fs
			}(), nil)},
			want: []string{"no more than 10 items allowed [json-pointer:/blocks/0/fields]"},
		},
		{
			name: "11 context elements",
			blocks: []slack.Block{slack.NewContextBlock("", func() []slack.MixedElement {
				var es []slack.MixedElement
				for range 11 {
					es = append(es, txt(slack.MarkdownType, "c"))
				}
				return es
			}()...)},
			want: []string{"no more than 10 items allowed [json-pointer:/blocks/0/elements]"},
		},
		{
			name: "26 buttons",
			blocks: []slack.Block{slack.NewActionBlock("", func() []slack.BlockElement {
				var es []slack.BlockElement
				for i := range 26 {
					es = append(es, btn(fmt.Sprint(i), "b"))
				}
				return es
			}()...)},
			want: []string{"no more than 25 items allowed [json-pointer:/blocks/0/elements]"},
		},
		{
			name:   "button text",
			blocks: []slack.Block{slack.NewActionBlock("", btn("a", repeat(76)))},
			want:   []string{"must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"},
		},
		{
			name: "button value",
			blocks: []slack.Block{slack.NewActionBlock("",
				slack.NewButtonBlockElement("a", repeat(2001), txt(slack.PlainTextType, "b")))},
			want: []string{"must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]"},
		},
		{
			name:   "button url",
			blocks: []slack.Block{slack.NewActionBlock("", btn("a", "b").WithURL(repeat(3001)))},
			want:   []string{"must be less than 3001 characters [json-pointer:/blocks/0/elements/0/url]"},
		},
		{
			name:   "action_id length",
			blocks: []slack.Block{slack.NewActionBlock("", btn(repeat(256), "b"))},
			want:   []string{"must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]"},
		},
		{
			name:   "duplicate action_id",
			blocks: []slack.Block{slack.NewActionBlock("", btn("vote", "a"), btn("vote", "b"))},
			want:   []string{"`action_id` \"vote\" already exists [json-pointer:/blocks/0/elements/1/action_id]"},
		},
		{
			name:   "block_id length",
			blocks: []slack.Block{slack.NewActionBlock(repeat(256), btn("a", "b"))},
			want:   []string{"must be less than 256 characters [json-pointer:/blocks/0/block_id]"},
		},
		{
			name:   "duplicate block_id",
			blocks: []slack.Block{slack.NewActionBlock("x", btn("a", "b")), slack.NewActionBlock("x", btn("c", "d"))},
			want:   []string{"`block_id` \"x\" already exists [json-pointer:/blocks/1/block_id]"},
		},
		{
			name:   "header mrkdwn",
			blocks: []slack.Block{slack.NewHeaderBlock(txt(slack.MarkdownType, "*x*"))},
			want:   []string{"unsupported type: mrkdwn [json-pointer:/blocks/0/text/type]"},
		},
		{
			name:   "empty section",
			blocks: []slack.Block{slack.NewSectionBlock(nil, nil, nil)},
			want:   []string{"must define either `text` or `fields` [json-pointer:/blocks/0/type]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := f.api.PostMessage(f.ops, slack.MsgOptionText("fallback", false), slack.MsgOptionBlocks(tt.blocks...))
			var got slack.SlackErrorResponse
			if !errors.As(err, &got) {
				t.Fatalf("PostMessage error = %v, want invalid_blocks", err)
			}
			var gotErrors []string
			for _, e := range got.Errors {
				if e.Message != nil {
					gotErrors = append(gotErrors, *e.Message)
				}
			}
			var wantMessages []string
			for _, w := range tt.want {
				wantMessages = append(wantMessages, "[ERROR] "+w)
			}
			if got.Err != "invalid_blocks" {
				t.Errorf("error = %q, want invalid_blocks", got.Err)
			}
			if diff := cmp.Diff(tt.want, gotErrors); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantMessages, got.ResponseMetadata.Messages); diff != "" {
				t.Errorf("response_metadata.messages mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if n := len(f.s.Messages(f.ops)); n != 0 {
		t.Errorf("%d messages stored, want none", n)
	}
}

func TestPostEphemeral(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, channel, user, want string
	}{
		{"ok", f.ops, "U0ALICE", ""},
		{"user not in channel", f.ops, "U0BOB", "user_not_in_channel"},
		{"unknown user", f.ops, "U0GHOST", "user_not_found"},
		{"private channel the bot is not in", f.secret, "U0ALICE", "channel_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := f.api.PostEphemeral(tt.channel, tt.user, slack.MsgOptionText("only you", false))
			if got := slackErr(t, err); got != tt.want {
				t.Fatalf("PostEphemeral error = %q, want %q", got, tt.want)
			}
			if err == nil && ts == "" {
				t.Error("PostEphemeral returned no message_ts")
			}
		})
	}
	want := []Ephemeral{{TS: "1700000000.000000", Channel: f.ops, User: f.alice, Text: "only you"}}
	if diff := cmp.Diff(want, f.s.Ephemerals(f.ops)); diff != "" {
		t.Errorf("Ephemerals() mismatch (-want +got):\n%s", diff)
	}
	if n := len(f.s.Messages(f.ops)); n != 0 {
		t.Errorf("ephemeral message stored in history (%d messages)", n)
	}
}

func TestPinErrors(t *testing.T) {
	f := newFixture(t)
	humanTS := f.s.AddMessage(f.random, f.alice, "hi")
	tests := []struct {
		name, channel, ts, want string
	}{
		{"unknown channel", "C0NOPE", "1.0", "channel_not_found"},
		{"private not a member", f.secret, "1.0", "channel_not_found"},
		{"not in channel", f.random, humanTS, "not_in_channel"},
		{"unknown message", f.ops, "1600000000.000000", "message_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.api.AddPin(tt.channel, slack.NewRefToMessage(tt.channel, tt.ts))
			if got := slackErr(t, err); got != tt.want {
				t.Errorf("AddPin error = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUsersInfo(t *testing.T) {
	f := newFixture(t)
	u, err := f.api.GetUserInfo(f.alice)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != f.alice || u.Name != "alice" || u.RealName != "Alice A" || u.TZ != "Europe/Paris" ||
		u.TZOffset != 3600 || u.TZLabel != "CET" || u.Profile.RealName != "Alice A" || u.IsBot || u.TeamID != f.s.TeamID() {
		t.Errorf("GetUserInfo() = %+v", u)
	}
	bot, err := f.api.GetUserInfo(f.s.BotUserID())
	if err != nil || !bot.IsBot || bot.Profile.BotID != f.s.BotID() {
		t.Errorf("GetUserInfo(bot) = %+v, %v", bot, err)
	}
	_, err = f.api.GetUserInfo("U0GHOST")
	if got := slackErr(t, err); got != "user_not_found" {
		t.Errorf("GetUserInfo(unknown) error = %q, want user_not_found", got)
	}
}

func TestConversationQueries(t *testing.T) {
	f := newFixture(t)
	mine := f.s.AddChannel("mine", true, f.s.BotUserID())
	for i := range 5 {
		if _, _, err := f.api.PostMessage(f.ops, slack.MsgOptionText(fmt.Sprint("m", i), false)); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("history pages newest first", func(t *testing.T) {
		var texts []string
		cursor := ""
		for page := 0; ; page++ {
			h, err := f.api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: f.ops, Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range h.Messages {
				texts = append(texts, m.Text)
			}
			if !h.HasMore {
				break
			}
			cursor = h.ResponseMetaData.NextCursor
			if page > 5 {
				t.Fatal("pagination does not end")
			}
		}
		if diff := cmp.Diff([]string{"m4", "m3", "m2", "m1", "m0"}, texts); diff != "" {
			t.Errorf("history mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("history oldest and latest", func(t *testing.T) {
		msgs := f.s.Messages(f.ops)
		h, err := f.api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: f.ops, Oldest: msgs[1].TS, Latest: msgs[3].TS})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Messages) != 1 || h.Messages[0].Text != "m2" {
			t.Errorf("exclusive range = %+v, want [m2]", h.Messages)
		}
		h, err = f.api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: f.ops, Oldest: msgs[1].TS, Latest: msgs[3].TS, Inclusive: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Messages) != 3 {
			t.Errorf("inclusive range has %d messages, want 3", len(h.Messages))
		}
	})
	t.Run("history needs membership", func(t *testing.T) {
		_, err := f.api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: f.random})
		if got := slackErr(t, err); got != "not_in_channel" {
			t.Errorf("error = %q, want not_in_channel", got)
		}
	})
	t.Run("list", func(t *testing.T) {
		var names []string
		cursor := ""
		for {
			chs, next, err := f.api.GetConversations(&slack.GetConversationsParameters{
				Types: []string{"public_channel", "private_channel"}, Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range chs {
				names = append(names, c.Name)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		// #secret is private and the bot is not in it.
		if diff := cmp.Diff([]string{"ops", "random", "mine"}, names); diff != "" {
			t.Errorf("list mismatch (-want +got):\n%s", diff)
		}
		chs, _, err := f.api.GetConversations(&slack.GetConversationsParameters{})
		if err != nil {
			t.Fatal(err)
		}
		if len(chs) != 2 {
			t.Errorf("default types listed %d channels, want the 2 public ones", len(chs))
		}
	})
	t.Run("info and members", func(t *testing.T) {
		ch, err := f.api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: mine})
		if err != nil || ch.Name != "mine" || !ch.IsPrivate || !ch.IsMember {
			t.Errorf("GetConversationInfo() = %+v, %v", ch, err)
		}
		_, err = f.api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: f.secret})
		if got := slackErr(t, err); got != "channel_not_found" {
			t.Errorf("info on a hidden private channel: error %q, want channel_not_found", got)
		}
		members, _, err := f.api.GetUsersInConversation(&slack.GetUsersInConversationParameters{ChannelID: f.ops})
		if diff := cmp.Diff([]string{f.s.BotUserID(), f.alice}, members); err != nil || diff != "" {
			t.Errorf("members mismatch (-want +got):\n%s (err %v)", diff, err)
		}
	})
	t.Run("archive", func(t *testing.T) {
		if err := f.api.ArchiveConversation(mine); err != nil {
			t.Fatal(err)
		}
		if got := slackErr(t, f.api.ArchiveConversation(mine)); got != "already_archived" {
			t.Errorf("second archive error = %q, want already_archived", got)
		}
		if got := slackErr(t, f.api.ArchiveConversation(f.random)); got != "not_in_channel" {
			t.Errorf("archive without membership error = %q, want not_in_channel", got)
		}
		if ch, _ := f.s.Channel(mine); !ch.Archived {
			t.Error("channel not archived")
		}
		chs, _, err := f.api.GetConversations(&slack.GetConversationsParameters{Types: []string{"private_channel"}, ExcludeArchived: true})
		if err != nil || len(chs) != 0 {
			t.Errorf("exclude_archived listed %+v, %v", chs, err)
		}
	})
}

func TestRateLimit(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter time.Duration
		want       time.Duration
	}{
		{"whole seconds", 3 * time.Second, 3 * time.Second},
		{"rounded up", 1500 * time.Millisecond, 2 * time.Second},
		{"at least a second", 0, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.s.Fail("chat.postMessage", Failure{Status: http.StatusTooManyRequests, RetryAfter: tt.retryAfter, Times: 1})
			_, _, err := f.api.PostMessage(f.ops, slack.MsgOptionText("hi", false))
			var rl *slack.RateLimitedError
			if !errors.As(err, &rl) {
				t.Fatalf("PostMessage error = %#v, want *slack.RateLimitedError", err)
			}
			if rl.RetryAfter != tt.want {
				t.Errorf("RetryAfter = %v, want %v", rl.RetryAfter, tt.want)
			}
			// Times: 1 — the next call goes through, and other methods were never affected.
			if _, _, err := f.api.PostMessage(f.ops, slack.MsgOptionText("hi", false)); err != nil {
				t.Errorf("second PostMessage: %v", err)
			}
			if n := len(f.s.Calls("chat.postMessage")); n != 2 {
				t.Errorf("logged %d calls, want 2 (the rate-limited one included)", n)
			}
			if n := len(f.s.Messages(f.ops)); n != 1 {
				t.Errorf("%d messages stored, want 1", n)
			}
		})
	}
	t.Run("raw answer", func(t *testing.T) {
		f := newFixture(t)
		f.s.Fail("auth.test", Failure{Status: 429, RetryAfter: 30 * time.Second})
		resp, err := http.Post(f.s.URL()+"auth.test", "application/x-www-form-urlencoded", strings.NewReader("token="+f.s.BotToken()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "30" || string(body) != `{"error":"ratelimited","ok":false}` {
			t.Errorf("got %d Retry-After %q body %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	})
}

func TestInjectedFailures(t *testing.T) {
	t.Run("500", func(t *testing.T) {
		f := newFixture(t)
		f.s.Fail("conversations.create", Failure{Status: http.StatusInternalServerError})
		for range 2 { // Times 0: until cleared
			_, err := f.api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-1"})
			var sc slack.StatusCodeError
			if !errors.As(err, &sc) || sc.Code != 500 {
				t.Fatalf("CreateConversation error = %#v, want StatusCodeError 500", err)
			}
		}
		f.s.ClearFailures()
		if _, err := f.api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-1"}); err != nil {
			t.Errorf("after ClearFailures: %v", err)
		}
	})
	t.Run("error code", func(t *testing.T) {
		f := newFixture(t)
		f.s.Fail("pins.add", Failure{Error: "too_many_pins", Times: 2})
		for i, want := range []string{"too_many_pins", "too_many_pins", "message_not_found"} {
			if got := slackErr(t, f.api.AddPin(f.ops, slack.NewRefToMessage(f.ops, "1.0"))); got != want {
				t.Errorf("call %d: error %q, want %q", i, got, want)
			}
		}
	})
	t.Run("queued failures apply in order", func(t *testing.T) {
		f := newFixture(t)
		f.s.Fail("auth.test", Failure{Error: "fatal_error", Times: 1})
		f.s.Fail("auth.test", Failure{Status: 429, Times: 1})
		_, err1 := f.api.AuthTest()
		_, err2 := f.api.AuthTest()
		_, err3 := f.api.AuthTest()
		var rl *slack.RateLimitedError
		if slackErr(t, err1) != "fatal_error" || !errors.As(err2, &rl) || err3 != nil {
			t.Errorf("errors = %v, %v, %v; want fatal_error, rate limit, nil", err1, err2, err3)
		}
	})
	t.Run("failure applies before auth", func(t *testing.T) {
		f := newFixture(t)
		f.s.Fail("auth.test", Failure{Error: "team_added_to_org", Times: 1})
		api := slack.New("xoxb-wrong", slack.OptionAPIURL(f.s.URL()))
		if _, err := api.AuthTest(); slackErr(t, err) != "team_added_to_org" {
			t.Errorf("error = %v, want team_added_to_org", err)
		}
	})
	t.Run("delay respects cancellation", func(t *testing.T) {
		f := newFixture(t)
		f.s.Fail("chat.postMessage", Failure{Delay: time.Hour})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, _, err := f.api.PostMessageContext(ctx, f.ops, slack.MsgOptionText("hi", false))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("took %v", d)
		}
		// Close (in Cleanup) waits for the handler: it must have given up.
	})
	t.Run("delay then normal handling", func(t *testing.T) {
		f := newFixture(t)
		f.s.Fail("chat.postMessage", Failure{Delay: time.Millisecond, Times: 1})
		if _, _, err := f.api.PostMessage(f.ops, slack.MsgOptionText("hi", false)); err != nil {
			t.Errorf("PostMessage: %v", err)
		}
		if n := len(f.s.Messages(f.ops)); n != 1 {
			t.Errorf("%d messages, want 1", n)
		}
	})
}

func TestResponseURL(t *testing.T) {
	f := newFixture(t)
	u := f.s.NewResponseURL()
	if strings.Contains(u, "/api/") || !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Errorf("NewResponseURL() = %q", u)
	}
	blocks := []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*ack*", false, false), nil, nil)}
	if _, _, err := f.api.PostMessage("", slack.MsgOptionResponseURL(u, slack.ResponseTypeEphemeral),
		slack.MsgOptionText("Declaring…", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.api.PostMessage("", slack.MsgOptionReplaceOriginal(u),
		slack.MsgOptionText("Declared", false), slack.MsgOptionBlocks(blocks...)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.api.PostMessage("", slack.MsgOptionResponseURL(u, slack.ResponseTypeInChannel),
		slack.MsgOptionBlocks(slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, repeat(151), false, false)))); slackErr(t, err) != "invalid_blocks" {
		t.Errorf("invalid blocks to response_url: error %v, want invalid_blocks", err)
	}
	want := []Response{
		{Text: "Declaring…", ResponseType: "ephemeral", At: t0},
		{Text: "Declared", Blocks: []byte(`[{"type":"section","text":{"type":"mrkdwn","text":"*ack*"}}]`), ReplaceOriginal: true, At: t0},
	}
	if diff := cmp.Diff(want, f.s.Responses(u)); diff != "" {
		t.Errorf("Responses() mismatch (-want +got):\n%s", diff)
	}
	if calls := f.s.Calls(ResponseURLMethod); len(calls) != 3 || calls[0].Params["url"] != u || calls[0].Params["response_type"] != "ephemeral" {
		t.Errorf("Calls(ResponseURLMethod) = %+v", calls)
	}

	t.Run("five uses", func(t *testing.T) {
		u := f.s.NewResponseURL()
		for i := range 6 {
			_, _, err := f.api.PostMessage("", slack.MsgOptionResponseURL(u, slack.ResponseTypeEphemeral), slack.MsgOptionText("x", false))
			want := ""
			if i == 5 {
				want = "used_url"
			}
			if got := slackErr(t, err); got != want {
				t.Errorf("post %d: error %q, want %q", i+1, got, want)
			}
		}
	})
	t.Run("thirty minutes", func(t *testing.T) {
		u := f.s.NewResponseURL()
		f.clock.Advance(30*time.Minute + time.Second)
		_, _, err := f.api.PostMessage("", slack.MsgOptionResponseURL(u, slack.ResponseTypeEphemeral), slack.MsgOptionText("x", false))
		if got := slackErr(t, err); got != "expired_url" {
			t.Errorf("error %q, want expired_url", got)
		}
	})
	t.Run("unknown URL", func(t *testing.T) {
		_, _, err := f.api.PostMessage("", slack.MsgOptionResponseURL(strings.TrimSuffix(u, "1")+"999", slack.ResponseTypeEphemeral), slack.MsgOptionText("x", false))
		var sc slack.StatusCodeError
		if !errors.As(err, &sc) || sc.Code != 404 {
			t.Errorf("error %#v, want 404", err)
		}
	})
	t.Run("failure injection", func(t *testing.T) {
		u := f.s.NewResponseURL()
		f.s.Fail(ResponseURLMethod, Failure{Status: 500, Times: 1})
		_, _, err := f.api.PostMessage("", slack.MsgOptionResponseURL(u, slack.ResponseTypeEphemeral), slack.MsgOptionText("x", false))
		var sc slack.StatusCodeError
		if !errors.As(err, &sc) || sc.Code != 500 {
			t.Errorf("error %#v, want 500", err)
		}
		if n := len(f.s.Responses(u)); n != 0 {
			t.Errorf("%d responses recorded, want 0", n)
		}
	})
}

func TestTimestamps(t *testing.T) {
	f := newFixture(t)
	var got []string
	for range 3 {
		_, ts, err := f.api.PostMessage(f.ops, slack.MsgOptionText("x", false))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ts)
	}
	f.clock.Advance(2 * time.Second)
	_, ts, err := f.api.PostMessage(f.ops, slack.MsgOptionText("x", false))
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, ts)
	want := []string{"1700000000.000000", "1700000000.000001", "1700000000.000002", "1700000002.000000"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("timestamps mismatch (-want +got):\n%s", diff)
	}
}

func TestConcurrency(t *testing.T) {
	s := New() // real clock
	defer s.Close()
	api := slack.New(s.BotToken(), slack.OptionAPIURL(s.URL()))
	const workers, posts = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*(posts+1))
	for w := range workers {
		wg.Go(func() {
			ch, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: fmt.Sprint("inc-", w)})
			if err != nil {
				errs <- err
				return
			}
			for i := range posts {
				if _, _, err := api.PostMessage(ch.ID, slack.MsgOptionText(fmt.Sprint(i), false)); err != nil {
					errs <- err
				}
				_ = s.Messages(ch.ID)
				_ = s.Calls("")
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for _, ch := range s.Channels() {
		msgs := s.Messages(ch.ID)
		if len(msgs) != posts {
			t.Errorf("%s has %d messages, want %d", ch.Name, len(msgs), posts)
		}
		for _, m := range msgs {
			if seen[m.TS] {
				t.Errorf("duplicate ts %s", m.TS)
			}
			seen[m.TS] = true
		}
	}
	if n := len(s.Calls("chat.postMessage")); n != workers*posts {
		t.Errorf("logged %d posts, want %d", n, workers*posts)
	}
}

func TestAccessorsReturnCopies(t *testing.T) {
	f := newFixture(t)
	ch, _ := f.s.Channel(f.ops)
	ch.Members[0] = "U0MUTATED"
	if got, _ := f.s.Channel(f.ops); got.Members[0] != f.s.BotUserID() {
		t.Error("Channel() shares its Members slice")
	}
	if _, _, err := f.api.PostMessage(f.ops, slack.MsgOptionText("x", false), slack.MsgOptionBlocks(slack.NewDividerBlock())); err != nil {
		t.Fatal(err)
	}
	m := f.s.Messages(f.ops)[0]
	m.Blocks[0] = 'X'
	if got := f.s.Messages(f.ops)[0]; got.Blocks[0] != '[' {
		t.Error("Messages() shares its Blocks")
	}
	c := f.s.Calls("")[0]
	c.Params["channel"] = "mutated"
	if got := f.s.Calls("")[0]; got.Params["channel"] == "mutated" {
		t.Error("Calls() shares its Params")
	}
}

// TestCallLog checks that the call log holds what slack-go sent.
func TestCallLog(t *testing.T) {
	f := newFixture(t)
	if _, err := f.api.InviteUsersToConversation(f.ops, f.bob); err != nil {
		t.Fatal(err)
	}
	calls := f.s.Calls("conversations.invite")
	want := []Call{{
		Method: "conversations.invite",
		Params: map[string]string{"channel": f.ops, "users": f.bob, "token": f.s.BotToken()},
		Token:  f.s.BotToken(),
		At:     t0,
	}}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("Calls() mismatch (-want +got):\n%s", diff)
	}
	if all := f.s.Calls(""); len(all) != 1 {
		t.Errorf("Calls(\"\") = %d calls, want 1", len(all))
	}
}
