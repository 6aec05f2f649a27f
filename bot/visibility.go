package bot

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
)

// openIncidentsFor lists the open incidents user may see, newest first: a
// private incident only to the members of its channel.
func (b *Bot) openIncidentsFor(ctx context.Context, log *slog.Logger, user string) ([]*shown, error) {
	list, err := b.svc.List(ctx, incident.ListFilter{OpenOnly: true})
	if err != nil {
		return nil, err
	}
	incs, err := b.showAll(ctx, list)
	if err != nil {
		return nil, err
	}
	// Membership is asked of Slack while the person waits for an answer,
	// which must come within 3 s: past the budget, private incidents stay
	// hidden rather than late.
	ctx, cancel := context.WithTimeout(ctx, membershipBudget)
	defer cancel()
	return slices.DeleteFunc(incs, func(inc *shown) bool { return !b.maySee(ctx, log, user, inc) }), nil
}

// membershipBudget bounds the membership checks of one list.
const membershipBudget = 1500 * time.Millisecond

// maySee reports whether user may see inc. Membership of a private channel
// is asked of Slack each time, since people join and leave it there; when
// Slack cannot say, the incident stays hidden.
func (b *Bot) maySee(ctx context.Context, log *slog.Logger, user string, inc *shown) bool {
	if !inc.Private {
		return true
	}
	if inc.DeclaredBy == user || inc.Chat.ChannelID == "" {
		return inc.DeclaredBy == user
	}
	params := &slack.GetUsersInConversationParameters{ChannelID: inc.Chat.ChannelID, Limit: 1000}
	for {
		members, next, err := b.api.GetUsersInConversationContext(ctx, params)
		if err != nil {
			log.Warn("cannot check private incident membership; hiding it", "incident", inc.Number, "err", err)
			return false
		}
		if slices.Contains(members, user) {
			return true
		}
		if next == "" {
			return false
		}
		params.Cursor = next
	}
}
