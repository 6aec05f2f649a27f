package bot

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"
)

// createChannel creates the incident's channel, adding a suffix while Slack
// answers name_taken. Each name is saved before it is asked for, so that a
// pass after a crash adopts the channel an earlier pass created instead of
// creating a second one.
func (s *slackDelivery) createChannel(ctx context.Context, inc *shown, save func() error) (*slack.Channel, error) {
	c := &inc.Chat
	base := channelName(s.opts.ChannelPrefix, inc.Number, plain(inc.Title))
	name := base
	for i := 2; ; i++ {
		c.Posting = postingChannel + name
		if err := save(); err != nil {
			return nil, err
		}
		ch, err := s.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name, IsPrivate: inc.Private})
		if err == nil {
			return ch, nil
		}
		if slackError(err) == "name_taken" {
			if ch, err := s.ownChannel(ctx, name); err != nil || ch != nil {
				return ch, err
			}
		}
		if slackError(err) != "name_taken" || i > 20 {
			return nil, fmt.Errorf("create channel %q: %w", name, err)
		}
		name = withSuffix(base, i)
	}
}

// ownChannel returns the unarchived channel called name if Sitrep created
// it, else nil. It is asked only when Slack says a name Sitrep meant to
// take is taken: the channel of the incident whose creation's answer was
// lost, or someone else's.
func (s *slackDelivery) ownChannel(ctx context.Context, name string) (*slack.Channel, error) {
	me, err := s.botUser(ctx)
	if err != nil {
		return nil, err
	}
	params := &slack.GetConversationsParameters{Types: []string{"public_channel", "private_channel"}, ExcludeArchived: true, Limit: 1000}
	for {
		chans, next, err := s.api.GetConversationsContext(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("look for channel %q: %w", name, err)
		}
		for i := range chans {
			if chans[i].Name == name && chans[i].Creator == me {
				return &chans[i], nil
			}
		}
		if next == "" {
			return nil, nil
		}
		params.Cursor = next
	}
}

// botUser returns Sitrep's own user ID, asking Slack once.
func (s *slackDelivery) botUser(ctx context.Context) (string, error) {
	s.mu.Lock()
	me := s.me
	s.mu.Unlock()
	if me != "" {
		return me, nil
	}
	resp, err := s.api.AuthTestContext(ctx)
	if err != nil {
		return "", fmt.Errorf("auth.test: %w", err)
	}
	s.mu.Lock()
	s.me = resp.UserID
	s.mu.Unlock()
	return resp.UserID, nil
}
