package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/slack-go/slack"
)

// createChannel creates the incident's channel, adding a suffix while Slack
// answers name_taken. Each name is saved before it is asked for, so that a
// pass after a crash carries on from the name last tried, and adopts the
// channel an earlier pass created instead of creating a second one.
func (s *slackDelivery) createChannel(ctx context.Context, inc *shown, save func() error) (*slack.Channel, error) {
	c := &inc.Chat
	base := channelName(s.opts.ChannelPrefix, inc.Number, plain(inc.Title))
	// The name an earlier pass asked for, whose answer it never had.
	tried, _ := strings.CutPrefix(c.Posting, postingChannel)
	names := channelNames(base)
	if i := slices.Index(names, tried); i > 0 {
		names = names[i:] // the names before it were someone else's
	}
	for _, name := range names {
		if name != tried {
			c.Posting = postingChannel + name
			if err := save(); err != nil {
				return nil, err
			}
		}
		ch, err := s.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name, IsPrivate: inc.Private})
		if err == nil {
			return ch, nil
		}
		if slackError(err) != "name_taken" {
			return nil, fmt.Errorf("create channel %q: %w", name, err)
		}
		if name == tried {
			// Taken, but perhaps by Sitrep itself, whose answer was
			// lost: only then is the workspace worth searching.
			ch, err := s.findChannel(ctx, inc, name, save)
			if err != nil || ch != nil {
				return ch, err
			}
		}
	}
	return nil, &finalError{fmt.Errorf("create channel: %q and %d more names are all taken", base, len(names)-1)}
}

// channelNames are the names an incident's channel may take, in order.
func channelNames(base string) []string {
	names := []string{base}
	for i := 2; i <= 20; i++ {
		names = append(names, withSuffix(base, i))
	}
	return names
}

// channelScan is where a search of the workspace for a channel got to, kept
// in the chat state: the search pages through every channel with
// conversations.list (Tier 2, 20 calls a minute), so on a large workspace
// it may be cut short by a rate limit or a restart, and the next pass
// carries on from here rather than from the start.
type channelScan struct {
	Name   string `json:"name"`
	Cursor string `json:"cursor"`
}

// findChannel returns the channel called name if Sitrep created it and it
// is not archived, else nil. It stops at the channel holding the name,
// archived or not (Slack keeps archived channels' names taken).
func (s *slackDelivery) findChannel(ctx context.Context, inc *shown, name string, save func() error) (*slack.Channel, error) {
	me, err := s.botUser(ctx)
	if err != nil {
		return nil, err
	}
	c := &inc.Chat
	if c.Scan.Name != name {
		c.Scan = channelScan{Name: name}
	}
	params := &slack.GetConversationsParameters{Types: []string{"public_channel", "private_channel"}, Limit: 1000, Cursor: c.Scan.Cursor}
	for {
		chans, next, err := s.api.GetConversationsContext(ctx, params)
		if slackError(err) == "invalid_cursor" && params.Cursor != "" {
			params.Cursor = "" // too old to resume: start again
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("look for channel %q: %w", name, err)
		}
		for i := range chans {
			if chans[i].Name != name {
				continue
			}
			c.Scan = channelScan{}
			if chans[i].Creator == me && !chans[i].IsArchived {
				return &chans[i], nil
			}
			return nil, save()
		}
		c.Scan.Cursor = next
		if next == "" {
			// Not seen: a private channel Sitrep is not in holds it.
			c.Scan = channelScan{}
			return nil, save()
		}
		if err := save(); err != nil {
			return nil, err
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
