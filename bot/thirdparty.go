package bot

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/thirdparty"
)

// thirdPartyReply answers /incident thirdparty: each third party's page,
// what it said when last read, and its open incidents. It reads what the
// poller keeps, so it never waits on a vendor.
func (b *Bot) thirdPartyReply() reply {
	cfg := b.svc.Config()
	if len(cfg.StatusPages) == 0 {
		return reply{Text: "No third parties are configured. Add their status pages under `status_pages:` in the config file (with `summary:` for a Statuspage-style page, so Sitrep can show their open incidents here)."}
	}
	var statuses []thirdparty.Status
	if b.opts.ThirdParties != nil {
		statuses = b.opts.ThirdParties()
	} else {
		for _, l := range cfg.StatusPages {
			statuses = append(statuses, thirdparty.Status{Page: thirdparty.Page{Name: l.Name, URL: l.URL}})
		}
	}
	return thirdPartyBlocks(statuses)
}

// thirdPartyBlocks renders the third parties' statuses.
func thirdPartyBlocks(statuses []thirdparty.Status) reply {
	blocks := []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "Third parties' status", false, false))}
	var lines []string
	for i, s := range statuses {
		if i == 40 {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("%d more are configured; the config file lists them.", len(statuses)-i))))
			break
		}
		var b strings.Builder
		name := fmt.Sprintf("*<%s|%s>*", s.URL, fromPlain(s.Name))
		switch {
		case s.Summary == "":
			fmt.Fprintf(&b, ":link: %s: not polled (no `summary:` configured); open the page to check.", name)
		case s.CheckedAt.IsZero() && s.Problem == "":
			fmt.Fprintf(&b, ":hourglass: %s: not read yet.", name)
		case s.CheckedAt.IsZero():
			fmt.Fprintf(&b, ":grey_question: %s: could not be read (%s); open the page to check.", name, fromPlain(s.Problem))
		default:
			fmt.Fprintf(&b, "%s %s: %s (as of %s)", indicatorEmoji(s.Indicator), name, fromPlain(s.Description), slackDate(s.CheckedAt))
			if s.Problem != "" {
				fmt.Fprintf(&b, " · :warning: not readable since: %s", fromPlain(s.Problem))
			}
			for j, inc := range s.Incidents {
				if j == 5 {
					fmt.Fprintf(&b, "\n    … and %d more on their page", len(s.Incidents)-j)
					break
				}
				title := fromPlain(inc.Name)
				if inc.URL != "" {
					title = fmt.Sprintf("<%s|%s>", inc.URL, title)
				}
				fmt.Fprintf(&b, "\n    • %s: %s, %s impact", title, inc.Status, orNone(inc.Impact))
			}
		}
		line := truncate(b.String(), maxSectionText)
		lines = append(lines, line)
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(line), nil, nil))
	}
	return reply{Text: strings.Join(lines, "\n"), Blocks: blocks}
}

func indicatorEmoji(indicator string) string {
	switch indicator {
	case "none":
		return ":large_green_circle:"
	case "minor":
		return ":large_yellow_circle:"
	case "major":
		return ":large_orange_circle:"
	case "critical":
		return ":red_circle:"
	}
	return ":white_circle:"
}

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// thirdPartyNote is what the third parties' pages say now, for the answer
// to a checklist question that asks about them (status_pages: true): the
// ones not fully operational, with their open incidents; "" when all are,
// or none is polled.
func thirdPartyNote(cfg incident.Config, itemID string, statuses func() []thirdparty.Status) string {
	if statuses == nil {
		return ""
	}
	asks := false
	for _, it := range cfg.Checklist {
		if it.ID == itemID && it.StatusPages {
			asks = true
		}
	}
	if !asks {
		return ""
	}
	var lines []string
	for _, s := range statuses() {
		if s.CheckedAt.IsZero() || (s.Indicator == "none" && len(s.Incidents) == 0) {
			continue
		}
		line := fmt.Sprintf("%s <%s|%s>: %s", indicatorEmoji(s.Indicator), s.URL, fromPlain(s.Name), fromPlain(s.Description))
		for i, inc := range s.Incidents {
			if i == 3 {
				break
			}
			line += fmt.Sprintf(" · %s (%s)", fromPlain(inc.Name), inc.Status)
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return "\nThird parties' pages report nothing open."
	}
	return "\n*Third parties reporting trouble now:*\n" + strings.Join(lines, "\n")
}
