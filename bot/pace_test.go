package bot

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// TestPacerCoversTheAPI checks that every method of slackAPI is paced by
// pacer itself rather than passed through its embedded client: a new call
// to Slack must say which limit it keeps.
func TestPacerCoversTheAPI(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "pace.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	paced := map[string]bool{}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil {
			continue
		}
		if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); ok && star.X.(*ast.Ident).Name == "pacer" {
			paced[fn.Name.Name] = true
		}
	}
	api := reflect.TypeFor[slackAPI]()
	for i := range api.NumMethod() {
		if m := api.Method(i).Name; !paced[m] {
			t.Errorf("slackAPI.%s is not paced: add it to pace.go", m)
		}
	}
}

// pacedFake is a fake Slack with a channel the bot is in, reached through a
// pacer that keeps time by a fake clock.
func pacedFake(t *testing.T) (*slackfake.Server, *pacer, *clock.Fake, string) {
	t.Helper()
	fake := slackfake.New()
	t.Cleanup(fake.Close)
	ch := fake.AddChannel("one", false, fake.BotUserID())
	clk := clock.NewFake(time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC))
	return fake, newPacer(slack.New(fake.BotToken(), slack.OptionAPIURL(fake.URL())), clk), clk, ch
}

// goAsync runs call and returns a channel that reports its error, once the
// call has either returned or is waiting on the clock.
func goAsync(clk *clock.Fake, call func() error) chan error {
	done := make(chan error, 1)
	before := clk.Waiting()
	go func() { done <- call() }()
	for clk.Waiting() == before && len(done) == 0 {
		time.Sleep(time.Millisecond)
	}
	return done
}

// TestPacerPostsAtSlacksPace: postBurst posts to a channel go at once, the
// next waits its second, and another channel is not held up.
func TestPacerPostsAtSlacksPace(t *testing.T) {
	fake, p, clk, ch := pacedFake(t)
	post := func(ch, text string) func() error {
		return func() error {
			_, _, err := p.PostMessageContext(context.Background(), ch, slack.MsgOptionText(text, false))
			return err
		}
	}
	for i := range postBurst {
		if err := post(ch, fmt.Sprint(i))(); err != nil {
			t.Fatal(err)
		}
	}
	next := goAsync(clk, post(ch, "next"))
	other := fake.AddChannel("two", false, fake.BotUserID())
	if err := post(other, "elsewhere")(); err != nil {
		t.Fatalf("post to another channel: %v", err)
	}
	if len(next) > 0 || len(fake.Messages(ch)) != postBurst {
		t.Fatalf("post %d went with the burst", postBurst+1)
	}
	clk.Advance(time.Second)
	if err := <-next; err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Messages(ch)); n != postBurst+1 {
		t.Errorf("%d messages, want %d", n, postBurst+1)
	}
}

// TestPacerHoldsAfterARateLimit: after Slack answers 429, nobody calls the
// method again before Retry-After has passed, whichever incident asks.
func TestPacerHoldsAfterARateLimit(t *testing.T) {
	fake, p, clk, ch := pacedFake(t)
	fake.Fail("conversations.setTopic", slackfake.Failure{Status: http.StatusTooManyRequests, RetryAfter: 5 * time.Second, Times: 1})
	_, err := p.SetTopicOfConversationContext(context.Background(), ch, "first")
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) {
		t.Fatalf("setTopic = %v, want the 429", err)
	}
	if d := p.delay("conversations.setTopic"); d != 5*time.Second {
		t.Errorf("delay = %v, want Retry-After's 5s", d)
	}
	again := goAsync(clk, func() error {
		_, err := p.SetTopicOfConversationContext(context.Background(), ch, "second")
		return err
	})
	clk.Advance(4 * time.Second)
	if len(again) > 0 || len(fake.Calls("conversations.setTopic")) != 1 {
		t.Fatal("setTopic called again within Retry-After")
	}
	clk.Advance(time.Second)
	if err := <-again; err != nil {
		t.Fatal(err)
	}
}

// TestPacerGivesUpWithItsContext: a call waiting for its turn ends when its
// context does, without calling Slack.
func TestPacerGivesUpWithItsContext(t *testing.T) {
	fake, p, _, ch := pacedFake(t)
	p.pace.Hold(postKey+ch, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := p.PostMessageContext(ctx, ch, slack.MsgOptionText("held", false)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("post = %v, want its context's end", err)
	}
	if n := len(fake.Calls("chat.postMessage")); n != 0 {
		t.Errorf("%d posts reached Slack, want 0", n)
	}
}
