package slackfake

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

// thread sets up #ops with: "before", a parent by alice with three replies
// (alice, the bot, bob), and "after".
type thread struct {
	*fixture
	before, parent, after string
	replies               []string
}

func newThread(t *testing.T) *thread {
	t.Helper()
	f := newFixture(t)
	th := &thread{fixture: f}
	th.before = f.s.AddMessage(f.ops, f.alice, "before")
	th.parent = f.s.AddMessage(f.ops, f.alice, "checkout is down")
	th.replies = append(th.replies, f.s.AddReply(f.ops, th.parent, f.alice, "r1"))
	_, ts, err := f.api.PostMessage(f.ops, slack.MsgOptionText("r2", false), slack.MsgOptionTS(th.parent))
	if err != nil {
		t.Fatal(err)
	}
	th.replies = append(th.replies, ts)
	th.after = f.s.AddMessage(f.ops, f.alice, "after")
	// Replying to a reply joins the parent's thread.
	th.replies = append(th.replies, f.s.AddReply(f.ops, th.replies[0], f.bob, "r3"))
	return th
}

func texts(msgs []slack.Message) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, m.Text)
	}
	return out
}

func TestAddReply(t *testing.T) {
	th := newThread(t)
	parent, _ := th.s.Message(th.ops, th.parent)
	if parent.ThreadTS != th.parent {
		t.Errorf("parent ThreadTS = %q, want its own ts", parent.ThreadTS)
	}
	for i, ts := range th.replies {
		if m, _ := th.s.Message(th.ops, ts); m.ThreadTS != th.parent {
			t.Errorf("reply %d ThreadTS = %q, want %q", i, m.ThreadTS, th.parent)
		}
	}
	for _, bad := range []func(){
		func() { th.s.AddReply("C0NOPE", th.parent, th.alice, "x") },
		func() { th.s.AddReply(th.ops, th.parent, "U0GHOST", "x") },
		func() { th.s.AddReply(th.ops, "1.000001", th.alice, "x") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("AddReply did not panic")
				}
			}()
			bad()
		}()
	}
}

func TestConversationReplies(t *testing.T) {
	th := newThread(t)
	want := []string{"checkout is down", "r1", "r2", "r3"}

	for _, ts := range []string{th.parent, th.replies[1]} {
		msgs, hasMore, next, err := th.api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: th.ops, Timestamp: ts})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, texts(msgs)); diff != "" || hasMore || next != "" {
			t.Errorf("replies of %s mismatch (-want +got):\n%s (has_more %v, next %q)", ts, diff, hasMore, next)
		}
	}

	msgs, _, _, err := th.api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: th.ops, Timestamp: th.parent})
	if err != nil {
		t.Fatal(err)
	}
	p := msgs[0]
	if p.ReplyCount != 3 || p.LatestReply != th.replies[2] || p.ThreadTimestamp != th.parent ||
		!cmp.Equal(p.ReplyUsers, []string{th.alice, th.s.BotUserID(), th.bob}) {
		t.Errorf("parent = %+v", p.Msg)
	}
	if r := msgs[2]; r.ThreadTimestamp != th.parent || r.ParentUserId != th.alice || r.BotID != th.s.BotID() {
		t.Errorf("bot reply = %+v", r.Msg)
	}

	t.Run("unthreaded message", func(t *testing.T) {
		msgs, _, _, err := th.api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: th.ops, Timestamp: th.before})
		if err != nil || len(msgs) != 1 || msgs[0].Text != "before" {
			t.Errorf("replies = %v, %v", texts(msgs), err)
		}
	})
	t.Run("pages", func(t *testing.T) {
		var got []string
		cursor := ""
		for page := 0; ; page++ {
			msgs, hasMore, next, err := th.api.GetConversationReplies(&slack.GetConversationRepliesParameters{
				ChannelID: th.ops, Timestamp: th.parent, Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, texts(msgs)...)
			if !hasMore {
				break
			}
			if cursor = next; page > 3 || cursor == "" {
				t.Fatalf("pagination does not end (page %d, cursor %q)", page, cursor)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pages mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("oldest and latest", func(t *testing.T) {
		tests := []struct {
			name           string
			oldest, latest string
			inclusive      bool
			want           []string
		}{
			{"exclusive", th.replies[0], th.replies[2], false, []string{"checkout is down", "r2"}},
			{"inclusive", th.replies[0], th.replies[2], true, []string{"checkout is down", "r1", "r2", "r3"}},
			{"latest only", "", th.replies[1], true, []string{"checkout is down", "r1", "r2"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				msgs, _, _, err := th.api.GetConversationReplies(&slack.GetConversationRepliesParameters{
					ChannelID: th.ops, Timestamp: th.parent, Oldest: tt.oldest, Latest: tt.latest, Inclusive: tt.inclusive})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, texts(msgs)); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s", diff)
				}
			})
		}
	})
	t.Run("errors", func(t *testing.T) {
		randomTS := th.s.AddMessage(th.random, th.alice, "hi")
		tests := []struct {
			name, channel, ts, want string
		}{
			{"unknown ts", th.ops, "1600000000.000000", "thread_not_found"},
			{"no ts", th.ops, "", "thread_not_found"},
			{"not in channel", th.random, randomTS, "not_in_channel"},
			{"hidden private channel", th.secret, "1.0", "channel_not_found"},
			{"unknown channel", "C0NOPE", th.parent, "channel_not_found"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, _, _, err := th.api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: tt.channel, Timestamp: tt.ts})
				if got := slackErr(t, err); got != tt.want {
					t.Errorf("error = %q, want %q", got, tt.want)
				}
			})
		}
		_, _, _, err := th.api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: th.ops, Timestamp: th.parent, Oldest: "x"})
		if got := slackErr(t, err); got != "invalid_ts_oldest" {
			t.Errorf("bad oldest: error %q, want invalid_ts_oldest", got)
		}
	})
}

func TestHistoryAndThreads(t *testing.T) {
	th := newThread(t)
	h, err := th.api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: th.ops})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"after", "checkout is down", "before"}, texts(h.Messages)); diff != "" {
		t.Errorf("history mismatch (-want +got):\n%s", diff)
	}

	// The bot fetches one message with latest=<ts>&inclusive=true&limit=1.
	for _, ts := range []string{th.before, th.parent, th.after} {
		h, err := th.api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: th.ops, Latest: ts, Inclusive: true, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Messages) != 1 || h.Messages[0].Timestamp != ts {
			t.Errorf("history latest=%s inclusive limit=1 = %+v", ts, h.Messages)
		}
	}
	if h, _ := th.api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: th.ops, Latest: th.before, Inclusive: true, Limit: 1}); h.HasMore {
		t.Error("has_more set for the oldest message")
	}
	if h, _ := th.api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: th.ops, Latest: th.after, Inclusive: true, Limit: 1}); !h.HasMore {
		t.Error("has_more not set when older messages exist")
	}

	// A broadcast reply shows in the channel too.
	_, ts, err := th.api.PostMessage(th.ops, slack.MsgOptionText("broadcast", false), slack.MsgOptionTS(th.parent), slack.MsgOptionBroadcast())
	if err != nil {
		t.Fatal(err)
	}
	h, err = th.api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: th.ops, Limit: 1})
	if err != nil || len(h.Messages) != 1 || h.Messages[0].Timestamp != ts || h.Messages[0].SubType != "thread_broadcast" {
		t.Errorf("history after a broadcast = %+v, %v", h.Messages, err)
	}
	msgs, _, _, err := th.api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: th.ops, Timestamp: th.parent})
	if err != nil || len(msgs) != 5 || msgs[4].Text != "broadcast" {
		t.Errorf("replies after a broadcast = %v, %v", texts(msgs), err)
	}
}

func TestPermalinkOfReplies(t *testing.T) {
	th := newThread(t)
	for _, ts := range th.replies {
		link, err := th.api.GetPermalink(&slack.PermalinkParameters{Channel: th.ops, Ts: ts})
		if err != nil {
			t.Fatal(err)
		}
		want := "https://fake.slack.com/archives/" + th.ops + "/p" + ts[:10] + ts[11:] + "?thread_ts=" + th.parent + "&cid=" + th.ops
		if link != want {
			t.Errorf("GetPermalink(%s) = %q, want %q", ts, link, want)
		}
	}
	link, err := th.api.GetPermalink(&slack.PermalinkParameters{Channel: th.ops, Ts: th.parent})
	if want := "https://fake.slack.com/archives/" + th.ops + "/p" + th.parent[:10] + th.parent[11:]; err != nil || link != want {
		t.Errorf("GetPermalink(parent) = %q, %v; want %q", link, err, want)
	}
}
