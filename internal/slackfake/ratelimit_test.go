package slackfake

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// TestTierLimits checks that each method is limited per workspace by its
// tier: a minute's allowance at once, then the tier's steady pace, with a
// refused call answered 429 with Retry-After and taking no effect.
func TestTierLimits(t *testing.T) {
	rc := &testClock{now: t0}
	s, api, _ := newFake(t, WithRateClock(rc.Now))
	for i := range 20 { // Tier 2: 20 a minute
		if _, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: fmt.Sprint("inc-", i)}); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	_, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-over"})
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second {
		t.Fatalf("21st create: %#v, want a 429 with Retry-After 3 s (Tier 2's pace)", err)
	}
	if _, ok := s.ChannelByName("inc-over"); ok {
		t.Error("a refused create made its channel")
	}
	// Other methods have limits of their own.
	ch, _ := s.ChannelByName("inc-0")
	if _, err := api.SetTopicOfConversation(ch.ID, "topic"); err != nil {
		t.Errorf("setTopic while create is limited: %v", err)
	}
	rc.Advance(3 * time.Second)
	if _, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-over"}); err != nil {
		t.Errorf("create after Retry-After: %v", err)
	}
	if _, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-again"}); !errors.As(err, &rl) {
		t.Errorf("a second create in the same 3 s: %v, want a 429", err)
	}
}

// TestPostPace checks chat.postMessage's own limit: a burst of
// slacktier.PostBurst to one channel, then one a second, each channel
// apart.
func TestPostPace(t *testing.T) {
	rc := &testClock{now: t0}
	s, api, _ := newFake(t, WithRateClock(rc.Now))
	one := s.AddChannel("one", false, DefaultBotUserID)
	two := s.AddChannel("two", false, DefaultBotUserID)
	for i := range 10 {
		if _, _, err := api.PostMessage(one, slack.MsgOptionText(fmt.Sprint(i), false)); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	_, _, err := api.PostMessage(one, slack.MsgOptionText("over", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Fatalf("11th post: %#v, want a 429 with Retry-After 1 s", err)
	}
	if n := len(s.Messages(one)); n != 10 {
		t.Errorf("%d messages in one, want 10: a refused post must not land", n)
	}
	if _, _, err := api.PostMessage(two, slack.MsgOptionText("elsewhere", false)); err != nil {
		t.Errorf("post to another channel: %v", err)
	}
	rc.Advance(time.Second)
	if _, _, err := api.PostMessage(one, slack.MsgOptionText("later", false)); err != nil {
		t.Errorf("post a second later: %v", err)
	}
}

func TestWithoutRateLimits(t *testing.T) {
	_, api, _ := newFake(t, WithoutRateLimits())
	for i := range 30 {
		if _, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: fmt.Sprint("inc-", i)}); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
}

func TestLatency(t *testing.T) {
	_, api, _ := newFake(t, WithLatency(50*time.Millisecond))
	start := time.Now()
	if _, err := api.AuthTest(); err != nil {
		t.Fatal(err)
	}
	// A lower bound only: a slow machine can only make it longer.
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("call answered in %v, want at least the 50 ms latency", d)
	}
}
