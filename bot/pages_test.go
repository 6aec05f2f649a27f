package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// TestFollowUpsPagesAcrossALostAnswer keeps a hundred long follow-ups in a
// channel of the fake Slack, which refuses messages whose blocks carry too
// much text. They take several messages; when Slack's answer to posting a
// later page is lost, the next pass finds that page instead of posting it
// again; each page is updated in place, and a page no longer needed is
// emptied.
func TestFollowUpsPagesAcrossALostAnswer(t *testing.T) {
	fake := slackfake.New()
	t.Cleanup(fake.Close)
	fake.AddUser(slackfake.User{ID: "U1", Name: "ann"})
	channel := fake.AddChannel("inc-1-pages", false, "U1", fake.BotUserID())
	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.URL()))
	s := newSlackDelivery(api, nil, Options{CommandName: "/incident"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()

	inc := &shown{Incident: &incident.Incident{ID: "inc-id-1", Number: 1, Title: "Pages", Severity: "sev2", Status: incident.Investigating}}
	inc.Chat.ChannelID = channel
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for i := range 100 {
		inc.FollowUps = append(inc.FollowUps, incident.FollowUp{ID: i + 1, Text: fmt.Sprintf("fu%d. %s", i+1, strings.Repeat("f", 200)), CreatedAt: at})
	}
	// saved is the chat state as a crash would leave it in the database.
	var saved chatState
	save := func() error {
		saved = inc.Chat
		saved.FollowUpsMore = append([]chatPage(nil), inc.Chat.FollowUpsMore...)
		return nil
	}

	// A few pages: the fake Slack takes ten posts to a channel at once.
	pages := len(followUpsPages(inc.Incident, "/incident", ""))
	if pages < 3 || pages > 8 {
		t.Fatalf("%d pages; the test wants three to eight", pages)
	}
	// The second page is posted, and Slack's answer is lost.
	fake.Fail("chat.postMessage", slackfake.Failure{Lost: true, Skip: 1, Times: 1})
	if err := s.syncFollowUps(ctx, inc, save); err == nil {
		t.Fatal("the pass went on past a lost answer")
	}
	if saved.Posting != "followups:2" {
		t.Fatalf("Posting = %q at the crash, want followups:2", saved.Posting)
	}
	// The next pass starts from what was saved.
	inc.Chat = saved
	if err := s.recoverPosting(ctx, inc, save); err != nil {
		t.Fatal(err)
	}
	if err := s.syncFollowUps(ctx, inc, save); err != nil {
		t.Fatal(err)
	}
	followUpsMessages := func() []slackfake.Message {
		var out []slackfake.Message
		for _, m := range fake.Messages(channel) {
			if strings.HasPrefix(m.Text, "Follow-ups of") || m.Text == "(empty)" {
				out = append(out, m)
			}
		}
		return out
	}
	msgs := followUpsMessages()
	if len(msgs) != pages {
		t.Fatalf("%d follow-ups messages for %d pages", len(msgs), pages)
	}
	all := ""
	for i, m := range msgs {
		if want := fmt.Sprintf("(part %d of %d)", i+1, pages); !strings.Contains(m.Text, want) {
			t.Errorf("message %d is %q, want %q", i+1, m.Text, want)
		}
		all += slackfake.BlockText(m.Blocks)
	}
	for i := 1; i <= 100; i++ {
		if strings.Count(all, fmt.Sprintf("fu%d. ", i)) != 1 {
			t.Errorf("follow-up %d is shown %d times, want once", i, strings.Count(all, fmt.Sprintf("fu%d. ", i)))
		}
	}

	// Shorter texts fit on fewer pages (as a checklist does when answers
	// lose their suggestions): the first page is updated in place and the
	// pages no longer needed are emptied.
	inc.FollowUps = inc.FollowUps[:40]
	for i := range inc.FollowUps {
		inc.FollowUps[i].Text = fmt.Sprintf("fu%d. short", i+1)
	}
	inc.FollowUps[0].DoneBy, inc.FollowUps[0].DoneAt = "U1", at
	if err := s.syncFollowUps(ctx, inc, save); err != nil {
		t.Fatal(err)
	}
	after := followUpsMessages()
	if len(after) != pages {
		t.Fatalf("%d follow-ups messages after the update, want the same %d", len(after), pages)
	}
	if text := slackfake.BlockText(after[0].Blocks); !strings.Contains(text, "1 of 40 done") || !strings.Contains(text, "fu40. short") {
		t.Errorf("the first message does not show all the short follow-ups:\n%s", text)
	}
	for _, m := range after[1:] {
		if !strings.Contains(slackfake.BlockText(m.Blocks), "is empty now") {
			t.Errorf("a page no longer needed shows %q", slackfake.BlockText(m.Blocks))
		}
	}
}

// TestTooLongIsAWarning: should Slack still refuse a page as too long
// (its limit is not documented), the refusal is final, not retried as if
// Slack were busy, and the pass words it as a warning that says what is
// wrong and where the rest is.
func TestTooLongIsAWarning(t *testing.T) {
	fake := slackfake.New(slackfake.WithBlocksTextLimit(50))
	t.Cleanup(fake.Close)
	channel := fake.AddChannel("inc-1-long", false, fake.BotUserID())
	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.URL()))
	s := newSlackDelivery(api, nil, Options{CommandName: "/incident"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	inc := &shown{Incident: &incident.Incident{ID: "inc-id-1", Number: 1, Title: "Long", Severity: "sev2", Status: incident.Investigating,
		FollowUps: []incident.FollowUp{{ID: 1, Text: strings.Repeat("long ", 20)}}}}
	inc.Chat.ChannelID = channel
	err := s.syncFollowUps(context.Background(), inc, func() error { return nil })
	if slackError(err) != "msg_blocks_too_long" || !isFinal(err) {
		t.Fatalf("syncFollowUps = %v (final %v), want a final msg_blocks_too_long", err, isFinal(err))
	}
	inc.Chat.warn(warnFollowUps, "the follow-ups", err)
	if got, want := inc.Chat.warnings(), "the follow-ups: Slack answered `msg_blocks_too_long` (the message is too long for Slack; the timeline and the postmortem have all of it)"; got != want {
		t.Errorf("warning %q, want %q", got, want)
	}
}

// TestBlocksSizeCountsAsTheFake: Sitrep budgets its messages by the same
// measure the fake Slack refuses them by.
func TestBlocksSizeCountsAsTheFake(t *testing.T) {
	inc := bigIncident()
	inc.FollowUps = []incident.FollowUp{{ID: 1, Text: "Add a canary stage", Owner: "U2"}, {ID: 2, Text: "Alert on p99", DoneBy: "U1", DoneAt: inc.DeclaredAt}}
	inc.Checklist = []incident.CheckItem{{ID: "a", Kind: incident.Question, Text: "Deploy?", Answer: "yes", Suggestion: "Roll back", AnsweredBy: "U1", AnsweredAt: inc.DeclaredAt}}
	for _, blocks := range [][]slack.Block{followUpsPages(inc.Incident, "/incident", "")[0], checklistPages(inc.Incident, "/incident")[0], cardBlocks(inc, incident.DefaultConfig(), "/incident", "v1")} {
		raw, err := json.Marshal(blocks)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := blocksSize(blocks...), slackfake.BlocksSize(raw); got != want {
			t.Errorf("blocksSize = %d, the fake counts %d", got, want)
		}
	}
}
