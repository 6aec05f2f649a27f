package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
)

// fileLinkPrefix marks a postmortem recorded by its Slack file ID alone,
// when no link to it was found (see postmortemFileLink).
const fileLinkPrefix = "slack-file:"

// postmortemFileLink returns a link to the postmortem file just uploaded to
// channel: the file's permalink, from the message that shared it, or that
// message's own permalink. It reports "" when the message is not in the
// channel's newest messages (Slack shares an upload asynchronously, so it
// may not be yet); the file ID is recorded then, and the card names the
// file without a link.
func (b *Bot) postmortemFileLink(ctx context.Context, channel, fileID string) string {
	hist, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: 20})
	if err != nil {
		b.log.Warn("postmortem: find the shared file", "channel", channel, "err", err)
		return ""
	}
	for _, m := range hist.Messages {
		i := slices.IndexFunc(m.Files, func(f slack.File) bool { return f.ID == fileID })
		if i < 0 {
			continue
		}
		if link := m.Files[i].Permalink; strings.HasPrefix(link, "https://") {
			return link
		}
		link, err := b.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: m.Timestamp})
		if err != nil {
			b.log.Warn("postmortem: permalink of the shared file", "channel", channel, "err", err)
			return ""
		}
		return link
	}
	return ""
}

// lastPostmortem returns where incident inc's postmortem was last
// published, as recorded on its timeline ("" when it has none since it was
// last resolved).
func lastPostmortem(ctx context.Context, svc *incident.Service, inc *incident.Incident) (string, error) {
	if inc.PostmortemAt.IsZero() {
		return "", nil
	}
	evs, err := svc.Events(ctx, inc.ID, 0)
	if err != nil {
		return "", fmt.Errorf("postmortem of #%d: %w", inc.Number, err)
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == incident.KindPostmortem {
			return evs[i].Source, nil
		}
	}
	return "", nil
}

// postmortemRef renders where a postmortem is, for mrkdwn: a link when
// one was recorded, else the file's name.
func postmortemRef(number int64, where string) string {
	name := fmt.Sprintf("incident-%d-postmortem.md", number)
	if strings.HasPrefix(where, "https://") {
		return "<" + where + "|" + name + ">"
	}
	return "`" + name + "` in this channel"
}
