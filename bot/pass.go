package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/notify"
)

// passOnce does the incident's Slack work in the order people need it:
// the channel, the card, the topic, the checklist and follow-ups, then the
// timeline's messages and announcements. events are the timeline after the
// delivery's cursor; each is done once, past the chat state's own cursors.
func (s *slackDelivery) passOnce(ctx context.Context, inc *shown, events []incident.Event, save func() error) error {
	c := &inc.Chat
	if c.ChannelGone != "" {
		return s.passWithoutChannel(ctx, inc, events, save)
	}
	if c.ChannelID == "" {
		ch, err := s.createChannel(ctx, inc, save)
		if err != nil {
			return err
		}
		c.ChannelID, c.ChannelName, c.Posting = ch.ID, ch.Name, ""
		if err := save(); err != nil {
			return err
		}
	}
	if err := s.recoverPosting(ctx, inc, save); err != nil {
		return err
	}
	if c.MovedFrom != "" {
		if err := s.settleMove(ctx, inc, save); err != nil {
			return err
		}
	}
	if err := s.syncCard(ctx, inc, save); err != nil {
		return err
	}
	later, err := s.touches(ctx, inc, save)
	if err != nil {
		return err
	}
	// The checklist and follow-ups help, but a refusal of one of them
	// (say, a configured checklist Slack will not show) must not hold up
	// the incident itself: say so and carry on.
	for _, m := range []struct {
		key, what string
		sync      func(context.Context, *shown, func() error) error
	}{{warnChecklist, "the checklist", s.syncChecklist}, {warnFollowUps, "the follow-ups", s.syncFollowUps}, {warnAlerts, "the alert summary", s.syncAlerts}} {
		err := m.sync(ctx, inc, save)
		if err != nil && (!isFinal(err) || slackError(err) == "channel_not_found") {
			return err // a lost channel is the incident's trouble, not the message's
		}
		if err != nil {
			s.log.Error("message not posted", "incident", inc.Number, "what", m.what, "err", err)
		}
		c.warn(m.key, m.what, err)
	}
	// An event is committed with its change, so the events read may
	// include a change newer than the card and topic just shown. That only
	// matters for closing, which archives the channel: the card must say
	// "closed" first, so a pass that meets a close it has not shown starts
	// over. Everything else is delivered now.
	now, err := s.svc.Get(ctx, inc.Number)
	if err != nil {
		return err
	}
	stale := now.Version != inc.Version
	for _, ev := range events {
		if stale && ev.Kind == incident.KindClosed {
			return errStale
		}
		if ev.Seq <= c.Cursor && ev.Seq <= c.AnnounceCursor {
			continue
		}
		if ev.Seq > c.Cursor {
			if err := s.deliver(ctx, inc, ev, save); err != nil {
				return fmt.Errorf("deliver event %d (%s): %w", ev.Seq, ev.Kind, err)
			}
			c.Cursor = ev.Seq
			if err := save(); err != nil {
				return err
			}
		}
		if ev.Seq > c.AnnounceCursor {
			// Archiving comes after the channel message has its own
			// cursor, so a failed archive never posts that message again.
			if err := s.archiveOnClose(ctx, inc, ev); err != nil {
				if !isFinal(err) {
					return err
				}
				s.log.Error("channel not archived", "incident", inc.Number, "err", err)
				c.warn(warnArchive, "archiving the channel", err)
			}
			if err := s.announceOrWarn(ctx, inc, ev, save); err != nil {
				return err
			}
			c.AnnounceCursor = ev.Seq
			if err := save(); err != nil {
				return err
			}
		}
	}
	if problem := c.warnings(); problem != c.Problem {
		c.Problem = problem
		if err := save(); err != nil {
			return err
		}
		s.showProblem(ctx, inc)
	}
	if stale {
		return errStale // delivered what there was; show the newer incident
	}
	if later > 0 {
		return &notify.Later{Wait: later}
	}
	return nil
}

// touches pins the card and keeps the channel's topic current. Both help
// people find their way but are not what they wait for, and both are
// Slack's Tier 2 (20 a minute across the workspace): when many incidents
// start at once, a touch with no turn free now is put off, and the pass
// says how long to come back after, rather than hold back the timeline and
// announcements.
func (s *slackDelivery) touches(ctx context.Context, inc *shown, save func() error) (later time.Duration, err error) {
	c := &inc.Chat
	if !c.CardPinned {
		if d := s.pace.delay("pins.add"); d > 0 {
			later = d
		} else {
			err := s.api.AddPinContext(ctx, c.ChannelID, slack.NewRefToMessage(c.ChannelID, c.CardTS))
			if err != nil && slackError(err) != "already_pinned" {
				return 0, fmt.Errorf("pin card: %w", err)
			}
			c.CardPinned = true
			if err := save(); err != nil {
				return 0, err
			}
		}
	}
	if t := topic(inc.Incident); t != c.Topic {
		if d := s.pace.delay("conversations.setTopic"); d > 0 {
			return max(later, d), nil
		}
		// Slack posts a message for every topic change, even to the same
		// topic, so this is guarded like a post.
		c.Posting = postingTopic
		if err := save(); err != nil {
			return 0, err
		}
		if _, err := s.api.SetTopicOfConversationContext(ctx, c.ChannelID, t); err != nil {
			return 0, fmt.Errorf("set topic: %w", err)
		}
		c.Topic, c.Posting = t, ""
		if err := save(); err != nil {
			return 0, err
		}
	}
	return later, nil
}

// finalError marks a failure that retrying soon will not fix.
type finalError struct{ err error }

func (e *finalError) Error() string { return e.err.Error() }
func (e *finalError) Unwrap() error { return e.err }

// isFinal reports whether err is a failure that retrying soon will not fix.
func isFinal(err error) bool {
	var fe *finalError
	return errors.As(err, &fe) || !retryable(err)
}

// What a pass warns of: work Slack refused that must not hold up the
// incident itself. Each warning stays until the same work goes through,
// whatever passes come between.
const (
	warnChecklist = "checklist"
	warnFollowUps = "followups"
	warnArchive   = "archive"
	warnAnnounce  = "announce"
	warnAlerts    = "alerts"
)

// warn records the outcome of one kind of work: its refusal as a warning
// for people, or, with err nil, that it went through.
func (c *chatState) warn(key, what string, err error) {
	if err == nil {
		delete(c.Warnings, key)
		return
	}
	if c.Warnings == nil {
		c.Warnings = map[string]string{}
	}
	c.Warnings[key] = what + ": " + describeSlackError(err) + needsAdmin(err)
}

// warnings words the warnings standing, in a fixed order.
func (c *chatState) warnings() string {
	var out []string
	for _, k := range []string{warnChannel, warnChecklist, warnFollowUps, warnAlerts, warnArchive, warnAnnounce} {
		if w := c.Warnings[k]; w != "" {
			out = append(out, w)
		}
	}
	return strings.Join(out, "; ")
}

// announceOrWarn posts ev's announcement, if it has one. A refusal (a
// misconfigured announcement channel) must not hold up the incident
// itself: it is logged and shown as a warning, and only passing trouble
// is returned.
func (s *slackDelivery) announceOrWarn(ctx context.Context, inc *shown, ev incident.Event, save func() error) error {
	posted, err := s.announce(ctx, inc, ev, save)
	if err != nil && !isFinal(err) {
		return fmt.Errorf("announce event %d (%s): %w", ev.Seq, ev.Kind, err)
	}
	if err != nil {
		s.log.Error("announcement not posted", "incident", inc.Number, "channel", s.opts.AnnounceChannel, "err", err)
	}
	if err != nil || posted {
		inc.Chat.warn(warnAnnounce, "the announcement channel", err)
	}
	return nil
}

// passWithoutChannel is the pass of a closed incident whose channel is gone
// (see moveOrLeave): what was for the channel is passed over, since there
// is nowhere to post it, and the announcements still go out.
func (s *slackDelivery) passWithoutChannel(ctx context.Context, inc *shown, events []incident.Event, save func() error) error {
	c := &inc.Chat
	for _, ev := range events {
		if ev.Seq <= c.AnnounceCursor {
			c.Cursor = max(c.Cursor, ev.Seq)
			continue
		}
		if err := s.announceOrWarn(ctx, inc, ev, save); err != nil {
			return err
		}
		c.Cursor, c.AnnounceCursor = max(c.Cursor, ev.Seq), ev.Seq
		if err := save(); err != nil {
			return err
		}
	}
	if problem := c.warnings(); problem != c.Problem {
		c.Problem = problem
		return save()
	}
	return nil
}
