package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"
)

// What Chat.Posting names: a channel being created, or a message being
// posted, by its key.
const (
	postingChannel   = "channel:"
	postingCard      = "card"
	postingTopic     = "topic"
	postingChecklist = "checklist"
	postingFollowUps = "followups"
	postingAlerts    = "alerts"
	postingEvent     = "event:"
	postingAnnounce  = "announce:"
	postMetadataType = "sitrep_post"
)

// post posts a message that must appear once. It saves key as Chat.Posting
// before asking Slack and tags the message with metadata naming the
// incident and key, so that if the answer is lost (a crash, a cut
// connection) the next pass finds the message instead of posting it again
// (recoverPosting). On success the caller records the result and clears
// Posting in one save.
func (s *slackDelivery) post(ctx context.Context, inc *shown, channel, key string, save func() error, opts ...slack.MsgOption) (string, error) {
	inc.Chat.Posting = key
	if err := save(); err != nil {
		return "", err
	}
	md := slack.SlackMetadata{EventType: postMetadataType, EventPayload: map[string]any{"incident": inc.ID, "key": key}}
	opts = append(opts, slack.MsgOptionMetadata(md))
	_, ts, err := s.api.PostMessageContext(ctx, channel, opts...)
	if slackError(err) == "not_in_channel" {
		// Removed from the channel, or never asked in (the announcement
		// channel): join and post again. Slack refuses to let an app join
		// a private channel; that refusal is what people are shown.
		if _, _, _, jerr := s.api.JoinConversationContext(ctx, channel); jerr != nil {
			return "", fmt.Errorf("join %s to post there: %w", channel, jerr)
		}
		_, ts, err = s.api.PostMessageContext(ctx, channel, opts...)
	}
	if err != nil {
		return "", err
	}
	inc.Chat.Posting = ""
	return ts, nil
}

// recoverPosting finishes what a pass that stopped while posting left:
// if the message it was posting is in the channel, it is recorded as
// posted; either way Posting is cleared, and the pass goes on to post
// what is still missing.
func (s *slackDelivery) recoverPosting(ctx context.Context, inc *shown, save func() error) error {
	c := &inc.Chat
	key := c.Posting
	if key == "" || strings.HasPrefix(key, postingChannel) {
		if key != "" {
			c.Posting = ""
			return save()
		}
		return nil
	}
	if key == postingTopic {
		ch, err := s.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: c.ChannelID})
		switch {
		case err != nil && !isFinal(err):
			return fmt.Errorf("read channel topic: %w", err)
		case err == nil:
			c.Topic = ch.Topic.Value // set again only if it differs
		}
		c.Posting = ""
		return save()
	}
	channel := c.ChannelID
	if strings.HasPrefix(key, postingAnnounce) {
		channel = s.opts.AnnounceChannel
	}
	ts, err := s.findPosted(ctx, channel, inc.ID, key)
	if err != nil && !isFinal(err) {
		return err
	}
	if err != nil {
		// The channel cannot be read (archived, left): posting there
		// will fail the same way and say so.
		s.log.Warn("could not look for a message whose posting was interrupted", "incident", inc.Number, "key", key, "err", err)
	}
	if ts != "" {
		s.log.Info("found a message whose posting was interrupted", "incident", inc.Number, "key", key)
		seq := func(prefix string) int64 { n, _ := strconv.ParseInt(strings.TrimPrefix(key, prefix), 10, 64); return n }
		switch {
		case key == postingCard:
			c.CardTS, c.CardVersion = ts, 0 // shown again at the current version
		case isPage(key):
			k, part, _ := pageOfKey(key)
			pts, shown := c.page(k, part)
			*pts, *shown = ts, "" // shown again as it is now
		case key == postingMoved:
			c.MovedFrom = ""
		case key == postingAlerts:
			c.AlertsTS, c.AlertsShown = ts, ""
		case strings.HasPrefix(key, postingEvent):
			c.Cursor = max(c.Cursor, seq(postingEvent))
		case strings.HasPrefix(key, postingAnnounce):
			c.AnnounceCursor = max(c.AnnounceCursor, seq(postingAnnounce))
		}
	}
	c.Posting = ""
	return save()
}

// findPosted returns the ts of the newest message in channel's latest
// hundred that Sitrep posted for incident under key, or "" if there is
// none.
func (s *slackDelivery) findPosted(ctx context.Context, channel, incidentID, key string) (string, error) {
	resp, err := s.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: 100, IncludeAllMetadata: true})
	if err != nil {
		return "", fmt.Errorf("read channel history: %w", err)
	}
	for _, m := range resp.Messages {
		md := m.Metadata
		if md.EventType == postMetadataType && md.EventPayload["incident"] == incidentID && md.EventPayload["key"] == key {
			return m.Timestamp, nil
		}
	}
	return "", nil
}

// isPage reports whether a posting key names a page of the checklist or
// the follow-ups.
func isPage(key string) bool {
	_, _, ok := pageOfKey(key)
	return ok
}
