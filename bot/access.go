package bot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
)

// What a payload says (the channel, the message, the form's incident, who
// acts) is checked against what Sitrep recorded or asks Slack before
// anything changes: a click acts only on the incident whose message it was
// on, a form only on the incident and for the person it was opened for
// (formseal.go), and a private incident only for the people in its
// channel, on every path that changes or shows one.

// errNotMember refuses a change to a private incident by someone outside
// its channel. It names no incident: the person may not know of it.
var errNotMember = incident.Errorf(incident.EFORBIDDEN, "This incident is private: only the people in its channel may see or change it. Ask someone in it to invite you.")

// mayAct returns errNotMember unless user may act on inc: anyone on a
// public incident, only members of the channel on a private one. Slack is
// asked each time, within membershipBudget, and when it cannot say, the
// answer is no.
func (b *Bot) mayAct(ctx context.Context, log *slog.Logger, user string, inc *incident.Incident) error {
	if !inc.Private {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, membershipBudget)
	defer cancel()
	sh, err := b.show(ctx, inc)
	if err != nil {
		return err
	}
	if !b.maySee(ctx, log, user, sh) {
		log.Warn("refused: not a member of the private incident's channel", "incident", inc.Number, "user", user)
		return errNotMember
	}
	return nil
}

// errForeignMessage refuses a click whose message is not one of its
// incident's.
var errForeignMessage = &incident.Error{Code: incident.EFORBIDDEN, Hint: "help",
	Message: "That control is not on one of this incident's messages, so Sitrep did nothing. Use the controls on the incident card, or {cmd}."}

// clickedIncident returns the incident a click on a message belongs to. The
// payload names a channel and a message; the message must be one Sitrep
// posted for the incident of that channel: its card, checklist or
// follow-ups as recorded, or else (a prompt, an older checklist) a message
// Slack says Sitrep posted there for that incident.
func (b *Bot) clickedIncident(ctx context.Context, log *slog.Logger, cb *slack.InteractionCallback) (*shown, error) {
	channel, ts := cb.Container.ChannelID, cb.Container.MessageTs
	if cb.Container.Type != "message" || channel == "" || ts == "" || cb.Channel.ID != "" && cb.Channel.ID != channel {
		log.Warn("refused: a click not on a message, or naming two channels", "container", cb.Container.Type, "channel", cb.Channel.ID, "container_channel", channel)
		return nil, errForeignMessage
	}
	found, err := b.svc.ByRef(ctx, integrationName, channel)
	if err != nil {
		return nil, err
	}
	inc, err := b.show(ctx, found)
	if err != nil {
		return nil, err
	}
	if ts == inc.Chat.CardTS || slices.Contains(inc.Chat.messageTSs(postingChecklist), ts) || slices.Contains(inc.Chat.messageTSs(postingFollowUps), ts) {
		return inc, nil
	}
	if err := b.postedFor(ctx, inc.Incident, channel, ts); err != nil {
		log.Warn("refused: a click on a message that is not the incident's", "incident", inc.Number, "channel", channel, "ts", ts, "err", err)
		if isFinal(err) || slackError(err) == "" {
			return nil, errForeignMessage
		}
		return nil, fmt.Errorf("check the clicked message: %w", err)
	}
	return inc, nil
}

// postedFor checks with Slack that the message at ts in channel is one
// Sitrep posted for inc: its own, tagged with the incident (sync.go's
// post).
func (b *Bot) postedFor(ctx context.Context, inc *incident.Incident, channel, ts string) error {
	me, err := b.deliv.botUser(ctx)
	if err != nil {
		return err
	}
	hist, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: channel, Latest: ts, Inclusive: true, Limit: 1, IncludeAllMetadata: true})
	if err != nil {
		return err
	}
	for _, m := range hist.Messages {
		if m.Timestamp != ts {
			continue
		}
		if m.User == me && m.Metadata.EventType == postMetadataType && m.Metadata.EventPayload["incident"] == inc.ID {
			return nil
		}
		return fmt.Errorf("message %s is not Sitrep's for incident #%d", ts, inc.Number)
	}
	return fmt.Errorf("no message %s in %s", ts, channel)
}
