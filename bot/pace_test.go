package bot

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// TestPacerKeepsSlacksPace posts bursts to three channels at once through
// the pacer and checks, from the times the fake Slack received the posts,
// that no channel got more than the burst at once and then one post per
// interval, that each channel's posts kept their order, and that nothing
// was lost.
func TestPacerKeepsSlacksPace(t *testing.T) {
	fake := slackfake.New()
	t.Cleanup(fake.Close)
	fake.AddUser(slackfake.User{ID: "U1", Name: "ann"})
	var channels []string
	for _, name := range []string{"one", "two", "three"} {
		channels = append(channels, fake.AddChannel(name, false, "U1"))
	}
	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.URL()))
	for _, ch := range channels {
		if _, _, _, err := api.JoinConversationContext(context.Background(), ch); err != nil {
			t.Fatal(err)
		}
	}
	const every, burst, posts = 40 * time.Millisecond, 3, 12
	p := newPacer(api, every, burst)

	start := time.Now()
	var wg sync.WaitGroup
	for _, ch := range channels {
		wg.Go(func() {
			for i := range posts {
				if _, _, err := p.PostMessageContext(context.Background(), ch, slack.MsgOptionText(fmt.Sprint(i), false)); err != nil {
					t.Errorf("post %d to %s: %v", i, ch, err)
				}
			}
		})
	}
	wg.Wait()

	at := map[string][]time.Time{}
	for _, c := range fake.Calls("chat.postMessage") {
		at[c.Params["channel"]] = append(at[c.Params["channel"]], c.At)
	}
	for _, ch := range channels {
		times := at[ch]
		if len(times) != posts {
			t.Fatalf("%s got %d posts, want %d", ch, len(times), posts)
		}
		// A token bucket lets through burst posts at once, then one per
		// interval: post k cannot leave before (k-burst+1) intervals
		// have passed, and it arrives later still. (Measured from the
		// start, as gaps between arrivals would vary with the network.)
		for k := burst; k < len(times); k++ {
			if took, least := times[k].Sub(start), time.Duration(k-burst+1)*every; took < least {
				t.Errorf("%s: post %d arrived %s after the start, want at least %s", ch, k, took, least)
			}
		}
		for i, m := range fake.Messages(ch) {
			if m.Text != fmt.Sprint(i) {
				t.Errorf("%s: message %d is %q", ch, i, m.Text)
			}
		}
	}
}

// TestPacerGivesUpWithItsContext: a post waiting for its turn ends when its
// context does, without posting.
func TestPacerGivesUpWithItsContext(t *testing.T) {
	fake := slackfake.New()
	t.Cleanup(fake.Close)
	ch := fake.AddChannel("one", false)
	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.URL()))
	if _, _, _, err := api.JoinConversationContext(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	p := newPacer(api, time.Hour, 1)
	if _, _, err := p.PostMessageContext(context.Background(), ch, slack.MsgOptionText("first", false)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := p.PostMessageContext(ctx, ch, slack.MsgOptionText("second", false)); err == nil {
		t.Fatal("a post an hour early went through")
	}
	if n := len(fake.Messages(ch)); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}
