package bot

import (
	"context"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/time/rate"
)

// Slack lets an app post about one message a second to a channel, with short
// bursts allowed (https://api.slack.com/docs/rate-limits). A declaration
// posts three or four messages at once, so a burst of postBurst goes out at
// once; a backlog, say after an outage, then flows at postEvery a message
// instead of drawing 429s.
const (
	postEvery = time.Second
	postBurst = 10
	// maxPacedChannels bounds the limiters kept; idle ones are dropped
	// first.
	maxPacedChannels = 1000
)

// pacer is a slackAPI that keeps chat.postMessage to each channel at
// Slack's pace. Every other call passes straight through.
type pacer struct {
	slackAPI
	every time.Duration
	burst int

	mu       sync.Mutex
	channels map[string]*rate.Limiter
}

func newPacer(api slackAPI, every time.Duration, burst int) *pacer {
	return &pacer{slackAPI: api, every: every, burst: burst, channels: map[string]*rate.Limiter{}}
}

// PostMessageContext waits for channel's turn, then posts.
func (p *pacer) PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error) {
	if err := p.limiter(channelID).Wait(ctx); err != nil {
		return "", "", err
	}
	return p.slackAPI.PostMessageContext(ctx, channelID, options...)
}

func (p *pacer) limiter(channel string) *rate.Limiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.channels[channel]
	if l != nil {
		return l
	}
	if len(p.channels) >= maxPacedChannels {
		// A full bucket has not been used for a while: forgetting it
		// changes nothing.
		now := time.Now()
		for ch, l := range p.channels {
			if l.TokensAt(now) >= float64(p.burst) {
				delete(p.channels, ch)
			}
		}
	}
	l = rate.NewLimiter(rate.Every(p.every), p.burst)
	p.channels[channel] = l
	return l
}
