package bot

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/slack-go/slack"
)

// maxHomeBlocks is Block Kit's limit for a Home tab.
const maxHomeBlocks = 100

// publishHome shows user the open incidents they may see on Sitrep's Home
// tab.
func (b *Bot) publishHome(ctx context.Context, log *slog.Logger, user string) {
	incs, err := b.openIncidentsFor(ctx, log, user)
	if err != nil {
		log.Error("home: list incidents", "err", err)
		return
	}
	view := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: homeBlocks(incs, b.opts.CommandName)}}
	if _, err := b.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view}); err != nil {
		log.Error("home: publish", "err", err)
	}
}

// homeBlocks renders the Home tab: open incidents newest first, each with
// its severity, status, commander and channel, within Block Kit's limit
// however many there are.
func homeBlocks(incs []*shown, commandName string) []slack.Block {
	blocks := []slack.Block{
		slack.NewHeaderBlock(plainText(fmt.Sprintf("Open incidents (%d)", len(incs)))),
	}
	if len(incs) == 0 {
		return append(blocks, slack.NewSectionBlock(mrkdwn(fmt.Sprintf(":sunny: No open incidents. `%s declare` starts one.", commandName)), nil, nil))
	}
	// Each incident takes two blocks (its section and a divider); keep
	// room for the header and a closing note.
	room := (maxHomeBlocks - 2) / 2
	for i, inc := range incs {
		if i == room {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("…and %d older open incidents, not shown here. `%s list` shows more.", len(incs)-i, commandName))))
			break
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(incidentSummary(inc)), nil, nil), slack.NewDividerBlock())
	}
	return blocks
}
