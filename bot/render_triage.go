package bot

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/postmortem"
)

// Action IDs of the checklist, follow-ups and prompt messages. A checklist
// button's action ID is actionAnswer + answer + ":" + item (Slack wants
// action IDs unique within a message), and its value is the item.
const (
	actionAnswer        = "checklist_"
	actionFollowUpDone  = "followup_done:"  // + follow-up ID, which is also the value
	actionFollowUpIssue = "followup_issue:" // + follow-up ID, which is also the value
	actionPostmortem    = "prompt_postmortem"
)

// answerMark is how an answered (or unanswered) item is marked.
func answerMark(answer string) string {
	switch answer {
	case "":
		return ":white_large_square:"
	case "yes":
		return ":large_orange_circle:"
	case "no":
		return ":large_green_circle:"
	case "unknown":
		return ":grey_question:"
	case "skipped":
		return ":fast_forward:"
	}
	return ":white_check_mark:"
}

func answerLabel(answer string) string {
	return strings.ToUpper(answer[:1]) + answer[1:]
}

// checklistPages renders the triage checklist message: each item with its
// answer and buttons to answer or change it, and a progress line. A closed
// incident's checklist keeps its answers and loses its buttons. A long
// checklist takes several messages (see paginate).
func checklistPages(inc *incident.Incident, commandName string) [][]slack.Block {
	answered, total := inc.ChecklistProgress()
	head := func(part, parts int) slack.Block {
		text := fmt.Sprintf("*Triage checklist* for %s%s\n%d/%d answered. Restore service first; fix it for good second.", displayTitle(inc), partOf(part, parts), answered, total)
		if part > 1 {
			text = fmt.Sprintf("*Triage checklist* for %s, continued%s", displayTitle(inc), partOf(part, parts))
		}
		return slack.NewSectionBlock(mrkdwn(truncate(text, maxSectionText)), nil, nil)
	}
	var items [][]slack.Block
	for _, it := range inc.Checklist {
		text := fmt.Sprintf("%s *%s*", answerMark(it.Answer), defuse(it.Text))
		if it.Answer != "" {
			text += fmt.Sprintf("\n_%s_ · %s · %s", it.Answer, mention(it.AnsweredBy), slackDate(it.AnsweredAt))
		}
		if it.Answer == "yes" && it.Suggestion != "" {
			text += "\n:bulb: " + defuse(it.Suggestion)
		}
		item := []slack.Block{slack.NewSectionBlock(mrkdwn(truncate(text, maxSectionText)), nil, nil)}
		if inc.Status != incident.Closed {
			var buttons []slack.BlockElement
			for _, a := range it.Kind.Answers() {
				b := slack.NewButtonBlockElement(actionAnswer+a+":"+it.ID, it.ID, plainText(answerLabel(a)))
				if a == it.Answer {
					b.Style = slack.StylePrimary
				}
				buttons = append(buttons, b)
			}
			item = append(item, slack.NewActionBlock("checklist:"+it.ID, buttons...))
		}
		items = append(items, item)
	}
	foot := slack.NewContextBlock("", mrkdwn("Answers go on the timeline and into the postmortem. `"+commandName+" checklist` brings this list back to the bottom of the channel."))
	return paginate(items, head, foot)
}

// checklistText is the notification fallback of a checklist message.
func checklistText(inc *incident.Incident, part, parts int) string {
	answered, total := inc.ChecklistProgress()
	return fmt.Sprintf("Triage checklist for %s%s: %d/%d answered", displayTitle(inc), partOf(part, parts), answered, total)
}

// movedChecklistBlocks replace the checklist where it was, once it has been
// posted again further down.
func movedChecklistBlocks() []slack.Block {
	return []slack.Block{slack.NewContextBlock("", mrkdwn(":arrow_down: The triage checklist moved to the bottom of the channel."))}
}

// followUpsPages renders the follow-ups message: each follow-up with its
// owner, its issue when it is tracked, a Done button while it is open, and
// a Create issue button while it has no issue and tracker (the tracker the
// button makes issues in) is not "". Many follow-ups take several messages
// (see paginate).
func followUpsPages(inc *incident.Incident, commandName, tracker string) [][]slack.Block {
	done := 0
	for _, f := range inc.FollowUps {
		if f.Done() {
			done++
		}
	}
	head := func(part, parts int) slack.Block {
		text := fmt.Sprintf("*Follow-ups* of %s%s\n%d of %d done.", displayTitle(inc), partOf(part, parts), done, len(inc.FollowUps))
		if part > 1 {
			text = fmt.Sprintf("*Follow-ups* of %s, continued%s", displayTitle(inc), partOf(part, parts))
		}
		return slack.NewSectionBlock(mrkdwn(truncate(text, maxSectionText)), nil, nil)
	}
	var items [][]slack.Block
	for _, f := range inc.FollowUps {
		owner := "no owner yet"
		if f.Owner != "" {
			owner = "owner " + mention(f.Owner)
		}
		issue := issueText(f)
		if f.Done() {
			by := "done by " + mention(f.DoneBy)
			if f.DoneBy == "" {
				by = "done in " + incident.TrackerTitle(f.Issue.Tracker)
			}
			meta := fmt.Sprintf("\n_%s · %s_%s", by, slackDate(f.DoneAt), issue)
			text := truncateKeep(":white_check_mark: "+defuse(f.Text)+meta, meta, maxSectionText)
			items = append(items, []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil)})
			continue
		}
		meta := fmt.Sprintf("\n_%s_%s", owner, issue)
		text := truncateKeep(":white_large_square: "+defuse(f.Text)+meta, meta, maxSectionText)
		var accessory *slack.Accessory
		if inc.Status != incident.Closed {
			accessory = slack.NewAccessory(slack.NewButtonBlockElement(actionFollowUpDone+strconv.Itoa(f.ID), strconv.Itoa(f.ID), plainText("Done")))
		}
		item := []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, accessory)}
		if tracker != "" && inc.Status != incident.Closed && !f.Tracked() && f.ExportTo == "" {
			button := slack.NewButtonBlockElement(actionFollowUpIssue+strconv.Itoa(f.ID), strconv.Itoa(f.ID), plainText("Create "+incident.TrackerTitle(tracker)+" issue"))
			item = append(item, slack.NewActionBlock("", button))
		}
		items = append(items, item)
	}
	foot := slack.NewContextBlock("", mrkdwn("Add one with `"+commandName+" followup <text> [@owner]`. They are listed in the postmortem."))
	return paginate(items, head, foot)
}

// issueText is the line that shows a follow-up's issue, or that one is
// being made; "" when it has none.
func issueText(f incident.FollowUp) string {
	switch {
	case f.Tracked() && (strings.ContainsAny(f.Issue.URL, "<>| ") || f.Issue.URL == ""):
		return fmt.Sprintf("\n:link: %s %s", incident.TrackerTitle(f.Issue.Tracker), slackLinkText(f.Issue.Key))
	case f.Tracked():
		return fmt.Sprintf("\n:link: %s <%s|%s>", incident.TrackerTitle(f.Issue.Tracker), f.Issue.URL, slackLinkText(f.Issue.Key))
	case f.ExportTo != "":
		return fmt.Sprintf("\n:hourglass_flowing_sand: creating the %s issue…", incident.TrackerTitle(f.ExportTo))
	}
	return ""
}

// slackLinkText makes text safe as a link's label: Slack ends the label at
// > and would read |.
func slackLinkText(s string) string {
	return strings.NewReplacer("<", "‹", ">", "›", "|", "¦", "&", "&amp;").Replace(s)
}

// truncateKeep truncates text to n bytes, keeping its tail (who owns or
// did a follow-up, its issue's link) whole: a long follow-up is shortened,
// never what is said of it.
func truncateKeep(text, tail string, n int) string {
	if len(text) <= n || tail == "" || len(tail) >= n {
		return truncate(text, n)
	}
	return truncate(strings.TrimSuffix(text, tail), n-len(tail)) + tail
}

// followUpsText is the notification fallback of a follow-ups message.
func followUpsText(inc *incident.Incident, part, parts int) string {
	return fmt.Sprintf("Follow-ups of %s%s: %d", displayTitle(inc), partOf(part, parts), len(inc.FollowUps))
}

// promptMessage renders a prompt event: who is asked for what, with a
// button that does it.
func promptMessage(inc *incident.Incident, ev incident.Event, cfg incident.Config, commandName string) (string, []slack.Block) {
	d := ev.Data
	// An incident Sitrep declared for an alert may have nobody in command
	// yet: the prompt goes to whoever takes it.
	asked := func(user string) string {
		if user == "" {
			return "Whoever takes command"
		}
		return mention(user)
	}
	var text string
	var button *slack.ButtonBlockElement
	switch incident.PromptKind(d["prompt"]) {
	case incident.PromptPostmortem:
		text = fmt.Sprintf(":memo: %s, incident #%d was resolved %s and has no postmortem yet. Sitrep writes it from the timeline: press the button or type `%s postmortem`.",
			asked(d["commander"]), inc.Number, slackDate(inc.ResolvedAt), commandName)
		button = slack.NewButtonBlockElement(actionPostmortem, strconv.FormatInt(inc.Number, 10), plainText("Write postmortem"))
	default:
		every := ""
		if sev, err := cfg.Severity(inc.Severity); inc.UpdateEvery > 0 {
			every = fmt.Sprintf(" (the last update promised the next within %s)", postmortem.Duration(inc.UpdateEvery))
		} else if err == nil && sev.Cadence > 0 {
			every = fmt.Sprintf(" (every %s at %s)", postmortem.Duration(sev.Cadence), inc.Severity)
		}
		if d["level"] == "1" {
			text = fmt.Sprintf(":alarm_clock: %s, a status update on incident #%d is due%s. What do we know, and what are we doing?", asked(d["commander"]), inc.Number, every)
		} else {
			who := asked(d["commander"])
			if d["comms"] != "" && d["comms"] != d["commander"] {
				who += " and " + mention(d["comms"])
			}
			text = fmt.Sprintf(":rotating_light: %s: the status update on incident #%d is overdue%s. People are waiting to hear; post what you know, even if it is little.", who, inc.Number, every)
		}
		button = slack.NewButtonBlockElement(actionUpdate, strconv.FormatInt(inc.Number, 10), plainText("Post update"))
	}
	button.Style = slack.StylePrimary
	return text, []slack.Block{
		slack.NewSectionBlock(mrkdwn(truncate(text, maxSectionText)), nil, nil),
		slack.NewActionBlock("prompt", button),
	}
}
