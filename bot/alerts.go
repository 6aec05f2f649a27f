package bot

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
)

// The alert summary shows an incident's alerts in its channel, one message
// updated in place: a storm of a thousand alerts is one message, not a
// thousand posts. Responders often cannot open the monitoring system's own
// links, so each alert shows its labels, annotations and links inline,
// cut to stay within Block Kit's limits however much a sender sends.
const (
	maxAlertsShown    = 10   // alerts with their details in the summary
	maxAlertLabelText = 900  // the labels of one alert
	maxAnnotationText = 600  // one annotation
	maxAlertText      = 2800 // one alert's section, under maxSectionText
)

// commanderOrWhoever names who is asked: the commander, or whoever takes
// command of an incident nobody commands yet.
func commanderOrWhoever(user string) string {
	if user == "" {
		return "Whoever takes command"
	}
	return mention(user)
}

// syncAlerts posts the alert summary of an incident with alerts (declared
// by them, or given them from triage), and keeps it current. Finding none
// is one indexed read.
func (s *slackDelivery) syncAlerts(ctx context.Context, inc *shown, save func() error) error {
	firing, resolved, shown, err := s.svc.IncidentAlertSummary(ctx, inc.Number, maxAlertsShown)
	if err != nil {
		return err
	}
	if firing+resolved == 0 {
		return nil
	}
	c := &inc.Chat
	text, blocks := summaryBlocks(inc.Incident, firing, resolved, shown, s.opts.CommandName)
	return s.syncMessage(ctx, inc, postingAlerts, &c.AlertsTS, &c.AlertsShown, text, blocks, save)
}

// alertCounts counts firing and resolved alerts.
func alertCounts(alerts []incident.StoredAlert) (firing, resolved int) {
	for _, a := range alerts {
		if a.Status == incident.AlertFiring {
			firing++
		} else {
			resolved++
		}
	}
	return firing, resolved
}

// summaryBlocks renders the alert summary: the counts, then the alerts
// shown (at most maxAlertsShown: firing ones first, newest first, as the
// store hands them out), the rest counted.
func summaryBlocks(inc *incident.Incident, firing, resolved int, shown []incident.StoredAlert, command string) (string, []slack.Block) {
	text := fmt.Sprintf("Alerts of incident #%d: %d firing, %d resolved", inc.Number, firing, resolved)
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(fmt.Sprintf(":rotating_light: *Alerts:* %d firing, %d resolved", firing, resolved)), nil, nil)}
	more := firing + resolved - len(shown)
	for _, a := range shown {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(alertText(a)), nil, nil))
	}
	if more > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("%d more not shown here. `%s alerts` lists them all.", more, command))))
	}
	return text, blocks
}

// sortedAlerts puts firing alerts first, then the newest.
func sortedAlerts(alerts []incident.StoredAlert) []incident.StoredAlert {
	out := slices.Clone(alerts)
	slices.SortStableFunc(out, func(a, b incident.StoredAlert) int {
		if (a.Status == incident.AlertFiring) != (b.Status == incident.AlertFiring) {
			if a.Status == incident.AlertFiring {
				return -1
			}
			return 1
		}
		return b.UpdatedAt.Compare(a.UpdatedAt)
	})
	return out
}

// escapeAlert makes a sender's text safe as mrkdwn: it is not Slack markup,
// so &, < and > are escaped rather than read as links or mentions.
func escapeAlert(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// escapeCut escapes a sender's text (escapeAlert) and cuts it to n
// characters, never in the middle of an entity.
func escapeCut(s string, n int) string {
	e := escapeAlert(strings.ToValidUTF8(s, "\uFFFD"))
	if utf8.RuneCountInString(e) <= n {
		return e
	}
	out := string([]rune(e)[:n-1])
	if i := strings.LastIndex(out, "&"); i >= 0 && !strings.Contains(out[i:], ";") {
		out = out[:i]
	}
	return out + "…"
}

// alertText is one alert as mrkdwn: its state and title, labels,
// annotations and links, within one section's limit.
func alertText(a incident.StoredAlert) string {
	var b strings.Builder
	state := ":red_circle: firing since " + slackDate(a.StartsAt)
	if a.Status == incident.AlertResolved {
		state = ":large_green_circle: resolved " + slackDate(a.EndsAt)
	}
	fmt.Fprintf(&b, "*%s* (%s) %s", escapeCut(a.Title, 200), escapeCut(a.Source, 40), state)
	if len(a.Labels) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
			parts = append(parts, k+"="+a.Labels[k])
		}
		b.WriteString("\n`" + escapeCut(strings.ReplaceAll(strings.Join(parts, " "), "`", "'"), maxAlertLabelText) + "`")
	}
	for _, k := range slices.Sorted(maps.Keys(a.Annotations)) {
		if strings.HasSuffix(k, "_url") {
			continue // shown as links
		}
		fmt.Fprintf(&b, "\n_%s:_ %s", escapeCut(k, 60), escapeCut(a.Annotations[k], maxAnnotationText))
	}
	var links []string
	for _, l := range a.Links {
		label := l.Text
		if label == "" {
			label = "link"
		}
		links = append(links, "<"+strings.NewReplacer("&", "&amp;", "|", "%7C", ">", "%3E", "<", "%3C").Replace(l.URL)+"|"+escapeCut(label, 60)+">")
	}
	if len(links) > 0 {
		b.WriteString("\n" + strings.Join(links, " · "))
	}
	return truncateMarkup(b.String(), maxAlertText)
}

// truncateMarkup cuts mrkdwn to n characters without leaving a link or an
// entity cut in half: it drops whole lines from the end.
func truncateMarkup(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	lines := strings.Split(s, "\n")
	for len(lines) > 1 && len([]rune(strings.Join(lines, "\n")))+2 > n {
		lines = lines[:len(lines)-1]
	}
	out := strings.Join(lines, "\n")
	if len([]rune(out))+2 > n {
		// One line alone is too long: it has no link (links come on
		// their own line), so a plain cut is safe up to an entity.
		out = truncate(out, n-2)
		if i := strings.LastIndex(out, "&"); i >= 0 && !strings.Contains(out[i:], ";") {
			out = out[:i] + "…"
		}
	}
	return out + "\n…"
}

// Limits of the /incident alerts answer: each alert is one line, lines are
// packed into sections, and the sections stay under the message's blocks.
const (
	maxAlertLine     = 400
	maxAlertSections = 40
)

// alertsReply lists an incident's alerts for /incident alerts: every one
// that fits, firing first, one line each.
func alertsReply(inc *incident.Incident, alerts []incident.StoredAlert) reply {
	if len(alerts) == 0 {
		return reply{Text: fmt.Sprintf("Incident #%d has no alerts: it was not declared by one, and none has been attached.", inc.Number)}
	}
	firing, resolved := alertCounts(alerts)
	head := fmt.Sprintf("*Alerts of %s:* %d firing, %d resolved", displayTitle(inc), firing, resolved)
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(truncate(head, maxSectionText)), nil, nil)}
	var section strings.Builder
	shown := 0
	sorted := sortedAlerts(alerts)
	for _, a := range sorted {
		line := alertLine(a)
		if section.Len()+len(line)+1 > maxSectionText {
			if len(blocks) >= maxAlertSections {
				break
			}
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(section.String()), nil, nil))
			section.Reset()
		}
		if section.Len() > 0 {
			section.WriteString("\n")
		}
		section.WriteString(line)
		shown++
	}
	if section.Len() > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(section.String()), nil, nil))
	}
	if more := len(sorted) - shown; more > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("%d more not shown; the postmortem lists them all.", more))))
	}
	return reply{Text: fmt.Sprintf("Alerts of incident #%d: %d firing, %d resolved", inc.Number, firing, resolved), Blocks: blocks}
}

// alertLine is one alert on one line: its state, title, source and labels.
func alertLine(a incident.StoredAlert) string {
	state := ":red_circle:"
	if a.Status == incident.AlertResolved {
		state = ":large_green_circle:"
	}
	var labels []string
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		labels = append(labels, k+"="+a.Labels[k])
	}
	line := fmt.Sprintf("%s *%s* (%s)", state, escapeCut(a.Title, 150), escapeCut(a.Source, 40))
	if len(labels) > 0 {
		if rest := maxAlertLine - utf8.RuneCountInString(line) - 3; rest > 20 {
			line += " `" + escapeCut(strings.ReplaceAll(strings.Join(labels, " "), "`", "'"), rest) + "`"
		}
	}
	return line
}
