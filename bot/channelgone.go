package bot

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
)

// postingMoved is Chat.Posting while the new channel of an incident whose
// old one Slack lost says what happened.
const postingMoved = "moved"

// warnChannel is the warning of a closed incident whose channel is gone.
const warnChannel = "channel"

// channelGone asks Slack what became of an incident channel after a call
// there answered channel_not_found or is_archived, and says how it went
// ("" if Sitrep can still work there, and the answer was about something
// else). Slack answers channel_not_found both for a deleted channel and
// for a private one Sitrep was removed from: either way Sitrep cannot post
// there until a person acts.
func (s *slackDelivery) channelGone(ctx context.Context, id string) (string, error) {
	ch, err := s.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
	switch {
	case slackError(err) == "channel_not_found":
		return "is gone from Slack (deleted, or private and Sitrep was removed from it)", nil
	case err != nil:
		return "", fmt.Errorf("look at channel %s: %w", id, err)
	case ch.IsArchived:
		return "was archived", nil
	}
	return "", nil
}

// moveOrLeave is what Sitrep does about an incident channel it can no
// longer post to. An incident that is not closed still needs a channel for
// its people, its card and its commands, so Sitrep makes a new one,
// invites everyone with a role, and says there what happened (settleMove);
// the timeline is all recorded, so nothing is lost, only the old
// channel's messages stay where they were. A closed incident needs no
// channel: Sitrep stops posting to it, and its delivery problem says why.
// Either way the pass does not retry what cannot work: before this, every
// pass met channel_not_found again, for ever.
func (s *slackDelivery) moveOrLeave(inc *shown, how string, save func() error) error {
	c := &inc.Chat
	name := c.ChannelName
	if name == "" {
		name = c.ChannelID
	}
	if inc.Status == incident.Closed {
		s.log.Warn("the incident channel is gone; nothing more is posted there", "incident", inc.Number, "channel", c.ChannelID, "how", how)
		c.ChannelGone = "#" + name + " " + how
		if c.Warnings == nil {
			c.Warnings = map[string]string{}
		}
		c.Warnings[warnChannel] = "its channel " + c.ChannelGone + ", so Sitrep no longer posts there (the record is complete in Sitrep)"
		c.Posting = ""
		return save()
	}
	s.log.Warn("the incident channel is gone; making a new one", "incident", inc.Number, "channel", c.ChannelID, "how", how)
	*c = chatState{
		// What was delivered stays delivered: the new card shows the
		// incident as it is, and the timeline has the rest. The old
		// channel's reference goes, so the incident is found by the new one.
		Cursor: c.Cursor, AnnounceCursor: c.AnnounceCursor, Warnings: c.Warnings, Problem: c.Problem,
		MovedFrom: "#" + name + " " + how,
	}
	return save()
}

// settleMove finishes the move to a new channel: it invites the incident's
// people and tells them why they are in a new channel.
func (s *slackDelivery) settleMove(ctx context.Context, inc *shown, save func() error) error {
	c := &inc.Chat
	people := append([]string{inc.DeclaredBy}, s.opts.Responders...)
	for _, role := range s.svc.Config().AllRoles() {
		people = append(people, inc.Roles[role])
	}
	if err := s.invite(ctx, inc, people...); err != nil {
		return err
	}
	text := fmt.Sprintf(":warning: Incident #%d's channel %s, so Sitrep made this one. Everything is recorded: %s shows the timeline so far.",
		inc.Number, c.MovedFrom, "`"+s.opts.CommandName+" timeline`")
	if _, err := s.post(ctx, inc, c.ChannelID, postingMoved, save, slack.MsgOptionText(text, false)); err != nil {
		return fmt.Errorf("say why the channel is new: %w", err)
	}
	c.MovedFrom = ""
	return save()
}
