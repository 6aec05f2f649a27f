package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/oncall"
)

// onCallCommand answers /incident oncall [schedule] and /incident oncall
// override <schedule> @user <duration>.
func (b *Bot) onCallCommand(ctx context.Context, log *slog.Logger, sc slashCommand, cmd Command) reply {
	if cmd.Override {
		o, err := b.svc.SetOverride(ctx, sc.UserID, cmd.Schedule, cmd.User, cmd.For)
		if err != nil {
			return b.errorReply(ctx, log, cmd, err)
		}
		log.Info("on-call override recorded", "schedule", o.Schedule, "on_call", o.User, "until", o.End)
		return reply{Text: fmt.Sprintf(":white_check_mark: %s is on call for *%s* from now until %s (%s), set by %s. Pages for %s go to them until then.",
			mention(o.User), o.Schedule, slackDate(o.End), incident.FormatDuration(o.End.Sub(o.Start)), mention(o.SetBy), o.Schedule)}
	}
	now, err := b.svc.OnCall(ctx, cmd.Schedule)
	if err != nil {
		return b.errorReply(ctx, log, cmd, err)
	}
	if len(now) == 0 {
		return reply{Text: "No on-call schedules are configured. An admin adds them under `oncall.schedules` in the config file."}
	}
	return reply{Text: onCallText(now), Blocks: onCallBlocks(now)}
}

// shiftLine tells one shift: who, until when, and what makes it special.
func shiftLine(sh oncall.Shift) string {
	s := fmt.Sprintf("%s until %s", mention(sh.User), slackDate(sh.End))
	if sh.Provisional {
		s += fmt.Sprintf(" · _provisional_, with %s as backup", mention(sh.Backup))
	}
	if sh.Override != nil {
		s += fmt.Sprintf(" · override set by %s", mention(sh.Override.SetBy))
	}
	return s
}

// onCallText is the on-call answer as plain text, for notifications.
func onCallText(now []incident.OnCallNow) string {
	var parts []string
	for _, n := range now {
		parts = append(parts, fmt.Sprintf("%s: %s", n.Schedule, mention(n.Now.User)))
	}
	return "On call now: " + strings.Join(parts, "; ")
}

// onCallBlocks shows who is on call now and next, per schedule. Times are
// Slack date tokens, shown in each reader's own time zone.
func onCallBlocks(now []incident.OnCallNow) []slack.Block {
	blocks := []slack.Block{slack.NewHeaderBlock(plainText("On call"))}
	for i, n := range now {
		if i == 20 { // within Block Kit's 50 blocks, with room to spare
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("… and %d more schedules.", len(now)-20))))
			break
		}
		text := fmt.Sprintf("*%s*\n*Now:* %s\n*Next:* %s", n.Schedule, shiftLine(n.Now), shiftLine(n.Next))
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(text), nil, nil))
	}
	return blocks
}

// pageWording tells a paging event in the incident channel, as the
// timeline says it.
func pageWording(e string) wording {
	return wording{emoji: emoji(e), channel: func(s said) string {
		ev := s.ev
		ev.Text = s.text
		return ev.Describe(mention)
	}}
}

// pagingField is the card's field for the incident's pages: the time to
// acknowledge once someone has, and what each page is doing; "" when
// nobody was paged.
func pagingField(inc *incident.Incident) string {
	if len(inc.Pages) == 0 {
		return ""
	}
	var lines []string
	for _, p := range inc.Pages {
		who := p.Policy
		if who == "" {
			who = strings.TrimPrefix(strings.TrimPrefix(p.Target, "user:"), "schedule:")
			if strings.HasPrefix(p.Target, "user:") {
				who = mention(who)
			}
		}
		switch p.State {
		case incident.PageOpen:
			lines = append(lines, ":rotating_light: "+who+": waiting for an acknowledgement")
		case incident.PageAcknowledged:
			by := p.AckBy
			if p.AckVia == "slack" {
				by = mention(by)
			}
			lines = append(lines, fmt.Sprintf(":white_check_mark: %s: acknowledged by %s after %s", who, by, incident.FormatDuration(p.AckAt.Sub(p.At))))
		case incident.PageExhausted:
			lines = append(lines, ":warning: "+who+": nobody acknowledged")
		case incident.PageCancelled:
			lines = append(lines, ":no_bell: "+who+": cancelled")
		}
	}
	if len(lines) > 3 {
		lines = append(lines[len(lines)-3:], fmt.Sprintf("(%d pages in all)", len(inc.Pages)))
	}
	head := "*Paging*"
	if tta, ok := incident.TimeToAcknowledge(inc); ok {
		head += " · acknowledged in " + incident.FormatDuration(tta)
	}
	return head + "\n" + strings.Join(lines, "\n")
}
