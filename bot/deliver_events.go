package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
)

// deliver does what one timeline event asks of the incident channel:
// invitations and a message everyone there sees.
func (s *slackDelivery) deliver(ctx context.Context, inc *shown, ev incident.Event, save func() error) error {
	switch ev.Kind {
	case incident.KindDeclared:
		// invite skips the declarer of an incident Sitrep declared ("").
		if err := s.invite(ctx, inc, append([]string{inc.DeclaredBy}, s.opts.Responders...)...); err != nil {
			return err
		}
	case incident.KindRole:
		if err := s.invite(ctx, inc, ev.Data["user"]); err != nil {
			return err
		}
	}
	text, blocks := channelMessage(inc.Incident, ev, s.svc.Config()), []slack.Block(nil)
	if ev.Kind == incident.KindPrompt {
		if promptAnswered(inc.Incident, ev) {
			return nil
		}
		text, blocks = promptMessage(inc.Incident, ev, s.svc.Config(), s.opts.CommandName)
	}
	if ev.Kind == incident.KindPublicDraft {
		text, blocks = publicDraftMessage(inc.Incident, ev)
	}
	if ev.Kind == incident.KindChecklist && text != "" && ev.Data["suggestion"] != "" {
		text += thirdPartyNote(s.svc.Config(), ev.Data["item"], s.opts.ThirdParties)
	}
	if text != "" {
		opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
		if blocks != nil {
			opts = append(opts, slack.MsgOptionBlocks(blocks...))
		}
		_, err := s.post(ctx, inc, inc.Chat.ChannelID, postingEvent+strconv.FormatInt(ev.Seq, 10), save, opts...)
		if err != nil && !(ev.Kind == incident.KindClosed && slackError(err) == "is_archived") {
			return fmt.Errorf("post to incident channel: %w", err)
		}
		if err == nil && ev.Kind == incident.KindPrompt {
			s.opts.Metrics.Prompt(ev.Data["prompt"])
		}
	}
	return nil
}

// archiveOnClose archives the incident channel when the event closes the
// incident and archiving is configured.
func (s *slackDelivery) archiveOnClose(ctx context.Context, inc *shown, ev incident.Event) error {
	if ev.Kind != incident.KindClosed || !s.opts.ArchiveOnClose {
		return nil
	}
	err := s.api.ArchiveConversationContext(ctx, inc.Chat.ChannelID)
	if err != nil && slackError(err) != "already_archived" {
		return fmt.Errorf("archive channel: %w", err)
	}
	return nil
}

// announces reports whether an incident's news goes to the announcement
// channel: never for private incidents, and drills only when configured.
func (s *slackDelivery) announces(inc *shown) bool {
	return s.opts.AnnounceChannel != "" && !inc.Private && (!inc.Drill || s.opts.AnnounceDrills)
}

// announce posts an event's announcement, if it has one (post joins the
// announcement channel if Sitrep is not a member yet).
func (s *slackDelivery) announce(ctx context.Context, inc *shown, ev incident.Event, save func() error) (posted bool, err error) {
	text := announcement(inc, ev, s.svc.Config())
	if text == "" || !s.announces(inc) {
		return false, nil
	}
	_, err = s.post(ctx, inc, s.opts.AnnounceChannel, postingAnnounce+strconv.FormatInt(ev.Seq, 10), save, slack.MsgOptionText(text, false))
	if err != nil {
		return false, fmt.Errorf("announce in %s: %w", s.opts.AnnounceChannel, err)
	}
	return true, nil
}

// invite adds people to the incident channel in one call (Slack takes up
// to 1,000 at once). force asks Slack to invite those it can even if some
// cannot be (deactivated, unknown); people already there are fine; whoever
// Slack names as not invitable is logged rather than holding up the
// incident.
func (s *slackDelivery) invite(ctx context.Context, inc *shown, users ...string) error {
	users = slices.DeleteFunc(slices.Compact(slices.Sorted(slices.Values(users))), func(u string) bool { return u == "" })
	if len(users) == 0 {
		return nil
	}
	_, err := s.api.ForceInviteUsersToConversationContext(ctx, inc.Chat.ChannelID, users...)
	switch code := slackError(err); {
	case err == nil, code == "already_in_channel", code == "cant_invite_self":
		s.members.joined(inc.Chat.ChannelID, users...)
	case retryable(err):
		return fmt.Errorf("invite %s: %w", strings.Join(users, ","), err)
	default:
		s.log.Warn("could not invite to incident channel", "incident", inc.Number, "users", users, "refused", refusedInvitees(err), "err", err)
	}
	return nil
}

// refusedInvitees lists the people a refused invitation names, with why.
func refusedInvitees(err error) []string {
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		return nil
	}
	var out []string
	for _, e := range se.Errors {
		if ie := e.ConversationsInviteResponseError; ie != nil {
			out = append(out, ie.User+": "+ie.Error)
		}
	}
	return out
}

// promptAnswered reports whether what a prompt asks for was done between
// recording the prompt and delivering it, so that nobody is asked for an
// update they have just posted.
func promptAnswered(inc *incident.Incident, ev incident.Event) bool {
	if incident.PromptKind(ev.Data["prompt"]) == incident.PromptPostmortem {
		// Reopened or closed meanwhile: no postmortem is owed now.
		return inc.Status != incident.Resolved || !inc.PostmortemAt.IsZero()
	}
	return inc.LastUpdateAt.After(ev.At) || !inc.Status.Open()
}
