package bot

import (
	"context"
	"log/slog"
	"slices"
	"time"

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
	// Membership is known (see members) or, once per channel, asked of
	// Slack while the person waits for an answer, which must come within
	// 3 s: past the budget, private incidents stay hidden rather than late.
	ctx, cancel := context.WithTimeout(ctx, membershipBudget)
	defer cancel()
	return slices.DeleteFunc(incs, func(inc *shown) bool { return !b.maySee(ctx, log, user, inc) }), nil
}

// membershipBudget bounds the membership checks of one list.
const membershipBudget = 1500 * time.Millisecond

// maySee reports whether user may see inc: a private incident only its
// channel's members (or its declarer, before there is a channel). When
// Slack cannot say, the incident stays hidden.
func (b *Bot) maySee(ctx context.Context, log *slog.Logger, user string, inc *shown) bool {
	if !inc.Private {
		return true
	}
	if inc.DeclaredBy == user || inc.Chat.ChannelID == "" {
		return inc.DeclaredBy == user
	}
	in, err := b.deliv.members.has(ctx, inc.Chat.ChannelID, user)
	if err != nil {
		log.Warn("cannot check private incident membership; hiding it", "incident", inc.Number, "err", err)
		return false
	}
	return in
}

// learnMembers reads who is in each open private incident's channel when
// Sitrep starts, so that the first list after a restart need not ask.
func (b *Bot) learnMembers(ctx context.Context) {
	list, err := b.svc.List(ctx, incident.ListFilter{OpenOnly: true})
	if err != nil {
		return // the first list asks instead
	}
	incs, err := b.showAll(ctx, list)
	if err != nil {
		return
	}
	for _, inc := range incs {
		if inc.Private && inc.Chat.ChannelID != "" {
			if _, err := b.deliv.members.read(ctx, inc.Chat.ChannelID); err != nil && ctx.Err() == nil {
				b.log.Debug("read private incident channel's members", "incident", inc.Number, "err", err)
			}
		}
	}
}
