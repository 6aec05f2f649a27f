package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"
)

// syncChecklist posts the triage checklist once the card is up, and keeps
// it showing the answers.
func (s *slackDelivery) syncChecklist(ctx context.Context, inc *shown, save func() error) error {
	if len(inc.Checklist) == 0 {
		return nil
	}
	return s.syncPages(ctx, inc, postingChecklist, save)
}

// syncFollowUps posts the follow-ups message with the first follow-up, and
// keeps it current.
func (s *slackDelivery) syncFollowUps(ctx context.Context, inc *shown, save func() error) error {
	if len(inc.FollowUps) == 0 {
		return nil
	}
	return s.syncPages(ctx, inc, postingFollowUps, save)
}

// pagesOf renders what the messages of key (postingChecklist or
// postingFollowUps) show, and the notification text of each.
func (s *slackDelivery) pagesOf(inc *shown, key string) (pages [][]slack.Block, text func(part int) string, what string) {
	if key == postingChecklist {
		pages = checklistPages(inc.Incident, s.opts.CommandName)
		return pages, func(part int) string { return checklistText(inc.Incident, part, len(pages)) }, "the checklist"
	}
	pages = followUpsPages(inc.Incident, s.opts.CommandName, s.opts.IssueTracker)
	return pages, func(part int) string { return followUpsText(inc.Incident, part, len(pages)) }, "the follow-ups"
}

// syncPages posts or updates the messages that show the checklist or the
// follow-ups (key), one per page. Each page is posted as its own message
// under its own posting key (key, then key:2, key:3, …), so a pass that
// stops between posting a page and saving it finds the page instead of
// posting it twice (recoverPosting). A page no longer needed is emptied,
// not deleted: Slack lets an app delete its messages, but an emptied one
// says where its contents went.
func (s *slackDelivery) syncPages(ctx context.Context, inc *shown, key string, save func() error) error {
	pages, text, what := s.pagesOf(inc, key)
	for i, blocks := range pages {
		ts, shown := inc.Chat.page(key, i+1)
		if err := s.syncMessage(ctx, inc, pageKey(key, i+1), ts, shown, text(i+1), blocks, save); err != nil {
			return err
		}
	}
	for part := len(pages) + 1; ; part++ {
		ts, shown := inc.Chat.pageIfAny(key, part)
		if ts == nil {
			return nil
		}
		if *ts == "" {
			continue
		}
		if err := s.syncMessage(ctx, inc, pageKey(key, part), ts, shown, "(empty)", emptyPageBlocks(what), save); err != nil {
			return err
		}
	}
}

// pageKey is the posting key of page part of key's messages.
func pageKey(key string, part int) string {
	if part == 1 {
		return key
	}
	return key + ":" + strconv.Itoa(part)
}

// page returns the ts and fingerprint of page part (from 1) of the
// checklist (postingChecklist) or the follow-ups (postingFollowUps),
// making room for it.
func (c *chatState) page(key string, part int) (ts, shown *string) {
	if ts, shown = c.pageIfAny(key, part); ts != nil {
		return ts, shown
	}
	more := &c.FollowUpsMore
	if key == postingChecklist {
		more = &c.ChecklistMore
	}
	for len(*more) < part-1 {
		*more = append(*more, chatPage{})
	}
	p := &(*more)[part-2]
	return &p.TS, &p.Shown
}

// pageIfAny is page for a page the state has room for, or nils.
func (c *chatState) pageIfAny(key string, part int) (ts, shown *string) {
	first, firstShown, more := &c.FollowUpsTS, &c.FollowUpsShown, c.FollowUpsMore
	if key == postingChecklist {
		first, firstShown, more = &c.ChecklistTS, &c.ChecklistShown, c.ChecklistMore
	}
	switch {
	case part == 1:
		return first, firstShown
	case part-2 < len(more):
		return &more[part-2].TS, &more[part-2].Shown
	}
	return nil, nil
}

// pageOfKey parses a posting key of the checklist or follow-ups pages
// ("checklist", "followups:3") into its messages' key and page.
func pageOfKey(posting string) (key string, part int, ok bool) {
	key, n, found := strings.Cut(posting, ":")
	if key != postingChecklist && key != postingFollowUps {
		return "", 0, false
	}
	if !found {
		return key, 1, true
	}
	part, err := strconv.Atoi(n)
	return key, part, err == nil && part >= 2
}

// messageTSs are the messages the checklist or follow-ups (key) show in.
func (c *chatState) messageTSs(key string) []string {
	var out []string
	for part := 1; ; part++ {
		ts, _ := c.pageIfAny(key, part)
		if ts == nil {
			return out
		}
		if *ts != "" {
			out = append(out, *ts)
		}
	}
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
	old := c.messageTSs(postingChecklist)
	c.ChecklistTS, c.ChecklistShown, c.ChecklistMore = "", "", nil
	if err := s.syncPages(ctx, inc, postingChecklist, save); err != nil {
		return err
	}
	for _, ts := range old {
		if _, _, _, err := s.api.UpdateMessageContext(ctx, c.ChannelID, ts, slack.MsgOptionText("The triage checklist moved to the bottom of the channel.", false), slack.MsgOptionBlocks(movedChecklistBlocks()...)); err != nil {
			s.log.Warn("could not mark the old checklist as moved", "incident", number, "err", err)
		}
	}
	return nil
}
