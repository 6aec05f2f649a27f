package bot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
)

// maxHomeBlocks is Block Kit's limit for a Home tab.
const maxHomeBlocks = 100

// Bounds of the Home tab's list of finished incidents: the newest
// homeScan incidents are looked at, and at most homeRecent of those that
// are resolved or closed (and the person may see) are shown.
const (
	homeScan   = 50
	homeRecent = 10
)

// actionHomeDeclare is the Home tab's Declare button.
const actionHomeDeclare = "home_declare"

// publishHome shows user Sitrep's Home tab: a Declare button, the open
// incidents they may see, and the latest resolved and closed ones.
func (b *Bot) publishHome(ctx context.Context, log *slog.Logger, user string) {
	b.publishHomeNotice(ctx, log, user, "")
}

// publishHomeNotice is publishHome with notice at the top: something that
// went wrong on the tab.
func (b *Bot) publishHomeNotice(ctx context.Context, log *slog.Logger, user, notice string) {
	open, err := b.openIncidentsFor(ctx, log, user)
	var finished []*shown
	if err == nil {
		finished, err = b.finishedIncidentsFor(ctx, log, user)
	}
	if err != nil {
		log.Error("home: list incidents", "err", err)
		return
	}
	blocks := homeBlocks(open, finished, b.opts.CommandName, notice)
	// Who is on call, below the incidents: whom the next page wakes.
	if oc, err := b.svc.OnCall(ctx, ""); err != nil {
		log.Warn("home: who is on call", "err", err)
	} else if len(oc) > 0 {
		if more := onCallBlocks(oc); len(blocks)+1+len(more) <= 100 {
			blocks = append(append(blocks, slack.NewDividerBlock()), more...)
		}
	}
	view := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
	if _, err := b.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view}); err != nil {
		log.Error("home: publish", "err", err)
	}
}

// finishedIncidentsFor returns the latest resolved and closed incidents
// user may see, newest first, at most homeRecent of them. Who may see a
// private one is maySee's to say, as for the open ones.
func (b *Bot) finishedIncidentsFor(ctx context.Context, log *slog.Logger, user string) ([]*shown, error) {
	list, err := b.svc.List(ctx, incident.ListFilter{Limit: homeScan})
	if err != nil {
		return nil, err
	}
	list = slices.DeleteFunc(list, func(inc *incident.Incident) bool { return inc.Status.Open() })
	incs, err := b.showAll(ctx, list)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, membershipBudget)
	defer cancel()
	var out []*shown
	for _, inc := range incs {
		if len(out) == homeRecent {
			break
		}
		if !b.maySee(ctx, log, user, inc) {
			continue
		}
		// The tab links to the postmortem; a timeline that cannot be read
		// now costs only the link.
		if inc.Postmortem, err = lastPostmortem(ctx, b.svc, inc.Incident); err != nil {
			log.Warn("home: find a postmortem", "incident", inc.Number, "err", err)
		}
		out = append(out, inc)
	}
	return out, nil
}

// homeDeclare opens the declare form from the Home tab's button.
func (b *Bot) homeDeclare(ctx context.Context, log *slog.Logger, cb *slack.InteractionCallback) {
	// No channel and no response_url: the new incident shows on the Home
	// tab, where the form was opened (see submitDeclare).
	meta := b.formMeta(callbackDeclare, cb.User.ID, "", 0, "")
	if _, err := b.api.OpenViewContext(ctx, cb.TriggerID, declareModal(b.svc.Config(), "", meta)); err != nil {
		log.Error("home: open the declare form", "err", err)
		requestEnded(ctx, outcomeSlack, "views.open: "+describeSlackError(err))
		user := cb.User.ID
		notice := fmt.Sprintf(":warning: Slack would not open the form (%s). Type `%s declare [severity] <title>` in any channel instead.", describeSlackError(err), b.opts.CommandName)
		b.goAfterAck(ctx, func(ctx context.Context) { b.publishHomeNotice(ctx, log, user, notice) })
	}
}

// homeBlocks renders the Home tab: a Declare button, open incidents newest
// first, each with its severity, status, commander and channel, and the
// latest resolved and closed incidents, within Block Kit's limit however
// many there are.
func homeBlocks(open, finished []*shown, commandName, notice string) []slack.Block {
	declare := slack.NewButtonBlockElement(actionHomeDeclare, "declare", plainText("Declare an incident"))
	declare.Style = slack.StylePrimary
	var blocks []slack.Block
	if notice != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(notice, maxSectionText)), nil, nil))
	}
	blocks = append(blocks,
		slack.NewActionBlock("home_actions", declare),
		slack.NewHeaderBlock(plainText(fmt.Sprintf("Open incidents (%d)", len(open)))),
	)
	if len(open) == 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(fmt.Sprintf(":sunny: No open incidents. The button above or `%s declare` starts one.", commandName)), nil, nil))
	}
	// Each open incident takes two blocks (its section and a divider);
	// keep room for the finished incidents, their header and the closing
	// notes.
	room := (maxHomeBlocks - len(blocks) - homeRecent - 3) / 2
	for i, inc := range open {
		if i == room {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("…and %d older open incidents, not shown here. `%s list` shows more.", len(open)-i, commandName))))
			break
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(incidentSummary(inc)), nil, nil), slack.NewDividerBlock())
	}
	if len(finished) == 0 {
		return blocks
	}
	blocks = append(blocks, slack.NewHeaderBlock(plainText("Recently resolved and closed")))
	for _, inc := range finished[:min(len(finished), homeRecent)] {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(finishedSummary(inc)), nil, nil))
	}
	return blocks
}

// finishedSummary is a resolved or closed incident as the Home tab shows
// it: title, severity, status and when, its channel, and its postmortem.
func finishedSummary(inc *shown) string {
	where := "_no channel_"
	if inc.Chat.ChannelID != "" {
		where = channelLink(inc.Chat.ChannelID)
	}
	when := "resolved " + slackDate(inc.ResolvedAt)
	if inc.Status == incident.Closed {
		when = "closed " + slackDate(inc.ClosedAt)
	}
	s := fmt.Sprintf("%s *%s*\n%s · %s · %s · %s", statusEmoji(inc.Status), displayTitle(inc.Incident), inc.Severity, inc.Status, where, when)
	switch {
	case inc.PostmortemAt.IsZero() && inc.Status == incident.Resolved:
		s += " · postmortem due"
	case inc.PostmortemAt.IsZero():
	case strings.HasPrefix(inc.Postmortem, "https://"):
		s += " · postmortem " + postmortemRef(inc.Number, inc.Postmortem)
	default:
		s += " · postmortem in its channel"
	}
	if inc.Private {
		s += " · :lock: private"
	}
	return truncate(s, maxSectionText)
}
