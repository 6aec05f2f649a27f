package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/slack-go/slack"
)

// syncChecklist posts the triage checklist once the card is up, and keeps
// it showing the answers.
func (s *slackDelivery) syncChecklist(ctx context.Context, inc *shown, save func() error) error {
	c := &inc.Chat
	if len(inc.Checklist) == 0 {
		return nil
	}
	return s.syncMessage(ctx, inc, postingChecklist, &c.ChecklistTS, &c.ChecklistShown, checklistText(inc.Incident), checklistBlocks(inc.Incident, s.opts.CommandName), save)
}

// syncFollowUps posts the follow-ups message with the first follow-up, and
// keeps it current.
func (s *slackDelivery) syncFollowUps(ctx context.Context, inc *shown, save func() error) error {
	c := &inc.Chat
	if len(inc.FollowUps) == 0 {
		return nil
	}
	return s.syncMessage(ctx, inc, postingFollowUps, &c.FollowUpsTS, &c.FollowUpsShown, followUpsText(inc.Incident), followUpsBlocks(inc.Incident, s.opts.CommandName), save)
}

// syncMessage posts a message that is kept up to date in place, or updates
// it when what it shows has changed. ts and shown are the message and the
// fingerprint of what it shows, saved after each step.
func (s *slackDelivery) syncMessage(ctx context.Context, inc *shown, key string, ts, shown *string, text string, blocks []slack.Block, save func() error) error {
	channel := inc.Chat.ChannelID
	h, err := hashBlocks(blocks)
	if err != nil {
		return &finalError{err}
	}
	fp := strconv.FormatUint(h, 16)
	opts := []slack.MsgOption{slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)}
	switch {
	case *ts == "":
		posted, err := s.post(ctx, inc, channel, key, save, opts...)
		if err != nil {
			return fmt.Errorf("post %q: %w", text, err)
		}
		*ts = posted
	case *shown != fp:
		if _, _, _, err := s.api.UpdateMessageContext(ctx, channel, *ts, opts...); err != nil {
			return fmt.Errorf("update %q: %w", text, err)
		}
	default:
		return nil
	}
	*shown = fp
	return save()
}

// errNoChecklist answers a request for the checklist of an incident that
// has none.
var errNoChecklist = errors.New("no checklist")

// repostChecklist posts the checklist again at the bottom of the channel,
// where people are reading, and turns the old one into a pointer to it so
// that answers are given in one place.
func (s *slackDelivery) repostChecklist(ctx context.Context, number int64) error {
	unlock, err := s.runner.Lock(ctx, integrationName, number)
	if err != nil {
		return err
	}
	inc, save, err := s.load(ctx, number)
	switch {
	case err != nil:
		unlock()
		return err
	case len(inc.Checklist) == 0:
		unlock()
		return errNoChecklist
	case inc.Chat.ChannelID == "" || inc.Chat.ChecklistTS == "":
		// Not posted yet: a pass posts it at the bottom anyway.
		unlock()
		return s.runner.Await(ctx, integrationName, number)
	}
	defer unlock()
	c := &inc.Chat
	old := c.ChecklistTS
	c.ChecklistTS, c.ChecklistShown = "", ""
	if err := s.syncMessage(ctx, inc, postingChecklist, &c.ChecklistTS, &c.ChecklistShown, checklistText(inc.Incident), checklistBlocks(inc.Incident, s.opts.CommandName), save); err != nil {
		return err
	}
	if _, _, _, err := s.api.UpdateMessageContext(ctx, c.ChannelID, old, slack.MsgOptionText("The triage checklist moved to the bottom of the channel.", false), slack.MsgOptionBlocks(movedChecklistBlocks()...)); err != nil {
		s.log.Warn("could not mark the old checklist as moved", "incident", number, "err", err)
	}
	return nil
}
