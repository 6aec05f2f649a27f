package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
)

// Block Kit limits that the renderers stay within.
const (
	maxHeader      = 150
	maxSectionText = 3000
	maxFields      = 10
	maxFieldText   = 2000
	maxBlocks      = 50
	maxTopic       = 250
)

// mention renders a user ID as a Slack mention.
func mention(userID string) string {
	if userID == "" {
		return "nobody"
	}
	return "<@" + userID + ">"
}

// channelLink renders a channel ID as a Slack channel link.
func channelLink(id string) string { return "<#" + id + ">" }

// slackDate renders t as a Slack date token, shown in each reader's own time
// zone, with a UTC fallback for clients that cannot.
func slackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// truncate shortens s to at most n characters, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// displayTitle is the incident's title as shown everywhere, "#42 Title",
// marked when it is a drill. It is mrkdwn, like the title.
func displayTitle(inc *incident.Incident) string {
	t := fmt.Sprintf("#%d %s", inc.Number, defuse(inc.Title))
	if inc.Drill {
		t = "[DRILL] " + t
	}
	return t
}

// plainTitle is displayTitle for places that show no formatting.
func plainTitle(inc *incident.Incident) string {
	t := fmt.Sprintf("#%d %s", inc.Number, plain(inc.Title))
	if inc.Drill {
		t = "[DRILL] " + t
	}
	return t
}

func statusEmoji(s incident.Status) string {
	switch s {
	case incident.Investigating:
		return ":mag:"
	case incident.Identified:
		return ":dart:"
	case incident.Monitoring:
		return ":eyes:"
	case incident.Resolved:
		return ":white_check_mark:"
	}
	return ":lock:"
}

// cardBlocks renders the incident card pinned in the incident channel.
// salt goes into the controls' block IDs: Slack clients keep what a select
// shows for as long as its block ID stays the same, so a new salt resets
// the card's controls to what the incident says. Its controls are what
// the incident's status allows: an open incident's, a resolved one's
// (postmortem, close, reopen), and none once closed.
func cardBlocks(inc *shown, cfg incident.Config, commandName, salt string) []slack.Block {
	sev, _ := cfg.Severity(inc.Severity)
	sevText := "*Severity*\n" + inc.Severity
	if sev.Description != "" {
		sevText += " · " + sev.Description
	}
	fields := []*slack.TextBlockObject{
		mrkdwn(truncate(sevText, maxFieldText)),
		mrkdwn(fmt.Sprintf("*Status*\n%s %s", statusEmoji(inc.Status), inc.Status)),
		mrkdwn("*Declared*\n" + slackDate(inc.DeclaredAt)),
	}
	if !inc.ResolvedAt.IsZero() {
		fields = append(fields, mrkdwn("*Resolved*\n"+slackDate(inc.ResolvedAt)))
	}
	if !inc.ClosedAt.IsZero() {
		fields = append(fields, mrkdwn("*Closed*\n"+slackDate(inc.ClosedAt)))
	}
	if !inc.PostmortemAt.IsZero() {
		fields = append(fields, mrkdwn(fmt.Sprintf("*Postmortem*\n%s · %s", postmortemRef(inc.Number, inc.Postmortem), slackDate(inc.PostmortemAt))))
	}
	if at, ok := cfg.UpdateDue(inc.Incident); ok {
		due := "*Next update due*\n" + slackDate(at)
		if inc.UpdatePrompts > 0 {
			due += " · :warning: overdue"
		}
		fields = append(fields, mrkdwn(due))
	}
	if answered, total := inc.ChecklistProgress(); total > 0 {
		fields = append(fields, mrkdwn(fmt.Sprintf("*Checklist*\n%d/%d answered", answered, total)))
	}
	if f := pagingField(inc.Incident); f != "" {
		fields = append(fields, mrkdwn(truncate(f, maxFieldText)))
	}
	if len(inc.Services) > 0 {
		fields = append(fields, mrkdwn(truncate("*Affected services*\n"+defuse(strings.Join(inc.Services, ", ")), maxFieldText)))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(plainTitle(inc.Incident), maxHeader), true, false)),
	}
	for len(fields) > 0 {
		n := min(len(fields), maxFields)
		blocks = append(blocks, slack.NewSectionBlock(nil, fields[:n], nil))
		fields = fields[n:]
	}
	if inc.Summary != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate("*Summary*\n"+defuse(inc.Summary), maxSectionText)), nil, nil))
	}
	if inc.Impact != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate("*Impact*\n"+defuse(inc.Impact), maxSectionText)), nil, nil))
	}
	if pub := publicCardBlock(inc.Incident, cfg.Public); pub != nil {
		blocks = append(blocks, pub)
	}
	blocks = append(blocks, cardRoles(inc.Incident, cfg, salt)...)
	if controls := cardActions(inc.Incident, cfg, salt); len(controls) > 0 {
		blocks = append(blocks, slack.NewActionBlock("card_controls."+salt, controls...))
	}
	if inc.Chat.Problem != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(truncate(":warning: *Not all of this is in Slack yet.* "+inc.Chat.Problem+
			". Everything is recorded; Sitrep keeps trying and this line goes once it is through.", maxSectionText))))
	}
	notes := []string{"Declared " + declaredBy(inc.DeclaredBy, inc.Source)}
	if inc.Private {
		notes = append(notes, ":lock: private")
	}
	if inc.Drill {
		notes = append(notes, ":test_tube: drill, not a real incident")
	}
	if inc.Status == incident.Closed {
		notes = append(notes, ":lock: closed: its record is final")
	} else {
		notes = append(notes, "`"+commandName+" help` for commands")
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(strings.Join(notes, " · "))))
	return blocks
}

// cardRoles shows who holds each role, each with a people picker to hand
// it over while the incident is not closed: a picker alone shows only a
// name, so the role's label stands beside it.
func cardRoles(inc *incident.Incident, cfg incident.Config, salt string) []slack.Block {
	var blocks []slack.Block
	for _, role := range cfg.AllRoles() {
		holder := "_unassigned_"
		if role == incident.CommanderRole {
			holder = "_nobody yet: take command_"
		}
		if u := inc.Roles[role]; u != "" {
			holder = mention(u)
		}
		var picker *slack.Accessory
		if inc.Status != incident.Closed {
			p := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plainText("Assign "+roleTitle(role)), actionRole+role)
			p.InitialUser = inc.Roles[role]
			picker = slack.NewAccessory(p)
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(fmt.Sprintf("*%s*\n%s", roleTitle(role), holder)), nil, picker, slack.SectionBlockOptionBlockID("card_role."+role+"."+salt)))
	}
	return blocks
}

// cardActions are the card's buttons and selects for what the incident's
// status allows. An open incident: take command (while nobody has), post
// an update, change status or severity, resolve. A resolved one: write the
// postmortem, close once it exists, reopen. A closed one: none.
func cardActions(inc *incident.Incident, cfg incident.Config, salt string) []slack.BlockElement {
	number := strconv.FormatInt(inc.Number, 10)
	switch inc.Status {
	case incident.Closed:
		return nil
	case incident.Resolved:
		pm := slack.NewButtonBlockElement(actionPostmortem, number, plainText("Write postmortem"))
		controls := []slack.BlockElement{pm}
		if inc.PostmortemAt.IsZero() {
			pm.Style = slack.StylePrimary
		} else {
			pm.Text = plainText("Write postmortem again")
			closeIt := slack.NewButtonBlockElement(actionClose, number, plainText("Close"))
			closeIt.Style = slack.StylePrimary
			closeIt.Confirm = slack.NewConfirmationBlockObject(plainText("Close the incident?"),
				plainText(truncate(fmt.Sprintf("Closing makes the record of #%d final: it cannot be reopened or changed afterwards.", inc.Number), 300)),
				plainText("Close it"), plainText("Not yet"))
			controls = append(controls, closeIt)
		}
		return append(controls, slack.NewButtonBlockElement(actionReopen, number, plainText("Reopen")))
	}
	update := slack.NewButtonBlockElement(actionUpdate, number, plainText("Post update"))
	update.Style = slack.StylePrimary
	var statusOpts []*slack.OptionBlockObject
	for _, st := range []incident.Status{incident.Investigating, incident.Identified, incident.Monitoring} {
		if st != inc.Status {
			statusOpts = append(statusOpts, slack.NewOptionBlockObject(string(st), plainText(string(st)), nil))
		}
	}
	status := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Change status"), actionStatus, statusOpts...)
	var sevOpts []*slack.OptionBlockObject
	for _, o := range severityOptions(cfg) {
		if o.Value != inc.Severity {
			sevOpts = append(sevOpts, o)
		}
	}
	severity := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Change severity"), actionSeverity, sevOpts...)
	controls := []slack.BlockElement{update, status}
	if inc.Commander() == "" {
		take := slack.NewButtonBlockElement(actionTakeCommand, number, plainText("Take command"))
		take.Style = slack.StylePrimary
		update.Style = ""
		controls = []slack.BlockElement{take, update, status}
	}
	if len(sevOpts) > 0 {
		controls = append(controls, severity)
	}
	resolve := slack.NewButtonBlockElement(actionResolve, number, plainText("Resolve"))
	resolve.Confirm = slack.NewConfirmationBlockObject(plainText("Resolve the incident?"),
		plainText(truncate(fmt.Sprintf("#%d moves to resolved and the postmortem is due. It can be reopened if the trouble comes back.", inc.Number), 300)),
		plainText("Resolve"), plainText("Not yet"))
	return append(controls, resolve)
}

func roleTitle(role string) string {
	switch role {
	case incident.CommanderRole:
		return "Commander"
	case incident.CustomerSuccessRole:
		// "Cs" would mean nothing to a reader of the card.
		return "Customer success"
	}
	return strings.ToUpper(role[:1]) + role[1:]
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// cardText is the notification fallback of the card.
func cardText(inc *incident.Incident) string {
	return fmt.Sprintf("%s · %s · %s · %s", displayTitle(inc), inc.Severity, inc.Status, commanderText(inc))
}

// commanderText names the commander, or says there is none yet.
func commanderText(inc *incident.Incident) string {
	if c := inc.Commander(); c != "" {
		return "commander " + mention(c)
	}
	return "no commander yet"
}

// declaredBy says who declared an incident: a person, or Sitrep for a
// source (an alert).
func declaredBy(actor, source string) string {
	if actor == "" {
		return "by Sitrep for " + sourceName(source)
	}
	return "by " + mention(actor)
}

// actorText names who made a change: a person, or Sitrep.
func actorText(ev incident.Event) string {
	if ev.Actor == "" {
		return "Sitrep"
	}
	return mention(ev.Actor)
}

// sourceName is how a source that declares incidents is named to people.
func sourceName(source string) string {
	if source == "" {
		return "an integration"
	}
	return strings.ToUpper(source[:1]) + source[1:]
}

// topic is the channel topic: a one-line summary that follows every change.
// Slack shows topics without formatting, so it is plain text and names no
// one; the card shows who holds which role.
func topic(inc *incident.Incident) string {
	head := fmt.Sprintf("%s · %s · ", inc.Severity, inc.Status)
	if inc.Drill {
		head = "DRILL · " + head
	}
	return head + truncate(plain(inc.Title), maxTopic-utf8.RuneCountInString(head))
}

// said is an event as the messages about it tell it: the incident, and
// the words the incident channel and the announcement channel share,
// worked out once.
type said struct {
	inc    *incident.Incident
	ev     incident.Event
	cfg    incident.Config
	d      map[string]string
	actor  string // who did it, as a mention
	text   string // the event's text, defused
	change string // "*to* (was from)", for status and severity
	raised bool   // a severity change made it more severe
}

// wording is how one kind of event is told. emoji leads both messages;
// channel is the rest of the incident channel's message, and announce the
// rest of the announcement's after the incident's name, up to and with the
// space or line break before "Follow in #channel". Either is nil, or
// returns "", when that channel is not told.
type wording struct {
	emoji    func(s said) string
	channel  func(s said) string
	announce func(s said) string
}

func emoji(e string) func(said) string { return func(said) string { return e } }

// wordings tells every kind of event Slack hears about; a kind not here
// is only on the timeline. Adding a kind is one entry.
var wordings = map[incident.EventKind]wording{
	incident.KindDeclared: {
		emoji: emoji(":rotating_light:"),
		announce: func(s said) string {
			sev, _ := s.cfg.Severity(s.d["severity"])
			return fmt.Sprintf("declared as *%s* (%s) %s. ", s.d["severity"], sev.Description, declaredBy(s.ev.Actor, s.d["source"]))
		},
	},
	incident.KindStatus: {
		emoji: func(s said) string { return statusEmoji(incident.Status(s.d["to"])) },
		channel: func(s said) string {
			verb := "set the status to"
			if s.d["regression"] == "true" {
				verb = "moved the status back to"
			}
			return fmt.Sprintf("%s %s %s.", s.actor, verb, s.change)
		},
		announce: func(s said) string { return fmt.Sprintf("is now %s. ", s.change) },
	},
	incident.KindSeverity: {
		emoji: emoji(":rotating_light:"),
		channel: func(s said) string {
			msg := fmt.Sprintf("%s %s the severity to %s.", s.actor, raisedOrLowered(s.raised), s.change)
			if s.d["checklist_added"] != "" {
				msg += fmt.Sprintf(" The checklist has %s more items for %s.", s.d["checklist_added"], s.d["to"])
			}
			return msg
		},
		announce: func(s said) string { return fmt.Sprintf("severity %s to %s. ", raisedOrLowered(s.raised), s.change) },
	},
	incident.KindRole: {
		emoji: emoji(":bust_in_silhouette:"),
		channel: func(s said) string {
			return fmt.Sprintf("%s is now *%s*, named by %s.", mention(s.d["user"]), s.d["role"], s.actor)
		},
	},
	incident.KindNote: {
		emoji:   emoji(":memo:"),
		channel: func(s said) string { return fmt.Sprintf("Note from %s: %s", s.actor, s.text) },
	},
	incident.KindUpdate: {
		emoji: emoji(":loudspeaker:"),
		channel: func(s said) string {
			return fmt.Sprintf("*Status update* from %s (%s, %s):\n%s", s.actor, s.d["severity"], s.d["status"], s.text)
		},
		announce: func(s said) string { return fmt.Sprintf("(%s, %s): %s\n", s.d["severity"], s.d["status"], s.text) },
	},
	incident.KindPublished: {
		emoji: emoji(":globe_with_meridians:"),
		channel: func(s said) string {
			by := s.actor
			if s.d["approved_by"] != "" {
				by = fmt.Sprintf("%s, approved by %s", mention(s.d["author"]), mention(s.d["approved_by"]))
			}
			return fmt.Sprintf("*Published to the status page* by %s:\n%s", by, publicSummary(s.d["title"], s.d["status"], s.d["components"], s.ev.Text))
		},
	},
	incident.KindResolved: {
		emoji: emoji(":white_check_mark:"),
		channel: func(s said) string {
			return fmt.Sprintf("%s resolved incident #%d.", s.actor, s.inc.Number) + prefixed("\n*Summary:* ", s.text)
		},
		announce: func(s said) string { return "is resolved." + prefixed(" ", s.text) + " " },
	},
	incident.KindClosed: {
		emoji: emoji(":lock:"),
		channel: func(s said) string {
			return fmt.Sprintf("%s closed incident #%d. Its record is final.", s.actor, s.inc.Number)
		},
	},
	incident.KindReopened: {
		emoji: emoji(":leftwards_arrow_with_hook:"),
		channel: func(s said) string {
			return fmt.Sprintf("%s reopened incident #%d.", s.actor, s.inc.Number) + prefixed(" Reason: ", s.text)
		},
		announce: func(s said) string { return "was reopened. " },
	},
	incident.KindChecklist: {
		emoji: emoji(":bulb:"),
		// The checklist message shows answers in place; only a
		// suggestion, offered once, is worth a message of its own.
		channel: func(s said) string {
			if s.d["suggestion"] == "" {
				return ""
			}
			return fmt.Sprintf("%s answered yes to _%s_\n*Suggestion:* %s", s.actor, s.text, defuse(s.d["suggestion"]))
		},
	},
	incident.KindFollowUp: {
		emoji: emoji(":pushpin:"),
		channel: func(s said) string {
			msg := fmt.Sprintf("%s added follow-up %s: %s", s.actor, s.d["id"], s.text)
			if s.d["owner"] != "" {
				msg += " (owner " + mention(s.d["owner"]) + ")"
			}
			return msg
		},
	},
	// What people record for the postmortem: the facts said in the
	// channel as they are recorded; the review's reflections (contributing
	// factors, what went well or badly, remediations) stay for the
	// postmortem itself, which the form publishes at once.
	incident.EventKind(incident.FieldImpact):     recordedWording(":busts_in_silhouette:"),
	incident.EventKind(incident.FieldServices):   recordedWording(":gear:"),
	incident.EventKind(incident.FieldRootCause):  recordedWording(":mag:"),
	incident.EventKind(incident.FieldMitigation): recordedWording(":adhesive_bandage:"),
	incident.EventKind(incident.FieldLearnings):  recordedWording(":bulb:"),
	// Each alert is on the timeline and in the alert summary (alerts.go),
	// never a message of its own: a storm would be a thousand posts.
	incident.KindAlertsResolved: {
		emoji: emoji(":white_check_mark:"),
		channel: func(s said) string {
			return fmt.Sprintf("All the alerts of incident #%d have resolved. %s, is it over? If so, resolve it.", s.inc.Number, commanderOrWhoever(s.d["commander"]))
		},
	},
	// Paging is told in the channel, so that responders see who was
	// woken and who answered.
	incident.KindPage:          pageWording(":rotating_light:"),
	incident.KindPageAck:       pageWording(":white_check_mark:"),
	incident.KindPageCancelled: pageWording(":no_bell:"),
	incident.KindPagerDuty:     pageWording(":pager:"),
	incident.KindPageProblem:   pageWording(":warning:"),
	incident.KindPageExhausted: {
		emoji: emoji(":warning:"),
		channel: func(s said) string {
			return fmt.Sprintf("Nobody acknowledged the page; its escalation policy has run out. %s, page someone by hand with the page subcommand.", commanderOrWhoever(s.d["commander"]))
		},
	},
	incident.KindFollowUpDone: {
		emoji: emoji(":white_check_mark:"),
		channel: func(s said) string {
			if s.d["tracker"] != "" {
				return fmt.Sprintf("Follow-up %s was closed as done in %s (%s): %s", s.d["id"], incident.TrackerTitle(s.d["tracker"]), slackLinkText(s.d["key"]), s.text)
			}
			return fmt.Sprintf("%s completed follow-up %s: %s", s.actor, s.d["id"], s.text)
		},
	},
	incident.KindFollowUpReopened: {
		emoji: emoji(":arrows_counterclockwise:"),
		channel: func(s said) string {
			return fmt.Sprintf("Follow-up %s was reopened in %s (%s): %s", s.d["id"], incident.TrackerTitle(s.d["tracker"]), slackLinkText(s.d["key"]), s.text)
		},
	},
	incident.KindFollowUpIssue: {
		emoji: emoji(":link:"),
		channel: func(s said) string {
			key := slackLinkText(s.d["key"])
			if u := s.d["url"]; u != "" && !strings.ContainsAny(u, "<>| ") {
				key = "<" + u + "|" + key + ">"
			}
			return fmt.Sprintf("Follow-up %s is tracked in %s as %s.", s.d["id"], incident.TrackerTitle(s.d["tracker"]), key)
		},
	},
	// A tracker's refusal is told once, here, in words: what to fix. The
	// request is dropped, so the button offers it again once it is fixed.
	incident.KindFollowUpRefused: {
		emoji: emoji(":warning:"),
		channel: func(s said) string {
			who := ""
			if s.d["commander"] != "" {
				who = mention(s.d["commander"]) + ", "
			}
			return fmt.Sprintf("%sSitrep could not create the %s issue for follow-up %s. %s", who, incident.TrackerTitle(s.d["tracker"]), s.d["id"], s.text)
		},
	},
}

// recordedWording tells of a field recorded for the postmortem.
func recordedWording(e string) wording {
	return wording{emoji: emoji(e), channel: func(s said) string {
		what := incident.Field(s.ev.Kind).Label()
		switch {
		case s.d["added"] == "true":
			return fmt.Sprintf("%s added to the %s: %s", s.actor, what, s.text)
		case s.text == "":
			return fmt.Sprintf("%s cleared the %s.", s.actor, what)
		}
		return fmt.Sprintf("%s recorded the %s:\n%s", s.actor, what, s.text)
	}}
}

func raisedOrLowered(raised bool) string {
	if raised {
		return "raised"
	}
	return "lowered"
}

// prefixed is prefix and s, or "" when s is.
func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// saying works out the shared words of ev.
func saying(inc *incident.Incident, ev incident.Event, cfg incident.Config) said {
	d := ev.Data
	return said{inc: inc, ev: ev, cfg: cfg, d: d, actor: actorText(ev), text: defuse(ev.Text),
		change: fmt.Sprintf("*%s* (was %s)", d["to"], d["from"]), raised: cfg.Escalated(d["from"], d["to"])}
}

// channelMessage is what is posted in the incident channel for an event, so
// that everyone there sees changes made with slash commands (which Slack
// shows only to whoever typed them). "" means nothing is posted.
func channelMessage(inc *incident.Incident, ev incident.Event, cfg incident.Config) string {
	w, ok := wordings[ev.Kind]
	if !ok || w.channel == nil {
		return ""
	}
	s := saying(inc, ev, cfg)
	msg := w.channel(s)
	if msg == "" {
		return ""
	}
	return w.emoji(s) + " " + msg
}

// announcement is what is posted in the announcement channel for an event,
// or "" when the event is not announced. Declarations, severity and status
// changes, status updates, resolutions and reopenings are announced; notes
// and roles stay in the incident channel.
func announcement(inc *shown, ev incident.Event, cfg incident.Config) string {
	w, ok := wordings[ev.Kind]
	if !ok || w.announce == nil {
		return ""
	}
	s := saying(inc.Incident, ev, cfg)
	msg := w.announce(s)
	if msg == "" {
		return ""
	}
	return fmt.Sprintf("%s *%s* %sFollow in %s.", w.emoji(s), displayTitle(inc.Incident), msg, channelLink(inc.Chat.ChannelID))
}

// timelineBlocks renders the timeline for one reader. It stays within Block
// Kit's limits and pageText however long the timeline is: when it cannot
// all be shown, the newest entries are kept and the reader is told how many
// are left out and where to read them all.
func timelineBlocks(inc *incident.Incident, events []incident.Event, commandName string) []slack.Block {
	header := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate("Timeline of "+plainTitle(inc), maxHeader), true, false))
	if len(events) == 0 {
		return []slack.Block{header, slack.NewSectionBlock(mrkdwn("Nothing recorded yet."), nil, nil)}
	}
	var followUps slack.Block
	if len(inc.FollowUps) > 0 {
		lines := []string{"*Follow-ups*"}
		for _, f := range inc.FollowUps {
			mark := ":white_large_square:"
			if f.Done() {
				mark = ":white_check_mark:"
			}
			line := fmt.Sprintf("%s %d. %s", mark, f.ID, defuse(f.Text))
			if f.Owner != "" {
				line += " · owner " + mention(f.Owner)
			}
			lines = append(lines, line)
		}
		followUps = slack.NewSectionBlock(mrkdwn(truncate(strings.Join(lines, "\n"), maxSectionText)), nil, nil)
	}
	leftOut := func(n int) slack.Block {
		return slack.NewContextBlock("", mrkdwn(fmt.Sprintf("%d earlier entries are not shown here. The postmortem has them all: `%s postmortem` writes it into the channel, and `sitrep postmortem %d` prints it from Sitrep's database.", n, commandName, inc.Number)))
	}
	// What the entries may take: the page less the header, the note on
	// what is left out (at its longest) and the follow-ups.
	budget := pageText - blocksSize(header, leftOut(len(events)))
	if followUps != nil {
		budget -= blocksSize(followUps)
	}
	lines := make([]string, len(events))
	for i, ev := range events {
		line := fmt.Sprintf("%s  %s · %s", slackDate(ev.At), defuse(ev.Describe(mention)), mention(ev.Actor))
		lines[i] = truncate(line, maxSectionText)
	}
	// Fill sections from the newest entry backwards, so that when not all
	// fit it is the oldest that are left out; then put them in order.
	// Lengths are in characters, as Slack counts them.
	var sections []string
	var cur []string
	// total is what the sections cost (blocksSize): their text, the line
	// breaks, and blockOverhead for each section.
	curLen, total, shown := 0, blockOverhead, 0
	for i := len(lines) - 1; i >= 0; i-- {
		n := utf8.RuneCountInString(lines[i])
		newSection := len(cur) > 0 && curLen+1+n > maxSectionText
		cost := n + 1
		if newSection {
			cost += blockOverhead
		}
		if total+cost > budget {
			break
		}
		if newSection {
			if len(sections) == maxBlocks-4 { // header, context note, follow-ups, and this last section
				break
			}
			sections = append(sections, strings.Join(cur, "\n"))
			cur, curLen = nil, 0
		}
		if len(cur) > 0 {
			curLen++
		}
		cur = append([]string{lines[i]}, cur...)
		curLen += n
		total += cost
		shown++
	}
	if len(cur) > 0 {
		sections = append(sections, strings.Join(cur, "\n"))
	}
	blocks := []slack.Block{header}
	if left := len(events) - shown; left > 0 {
		blocks = append(blocks, leftOut(left))
	}
	for i := len(sections) - 1; i >= 0; i-- {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(sections[i]), nil, nil))
	}
	if followUps != nil {
		blocks = append(blocks, followUps)
	}
	return blocks
}

// timelineText is the plain-text fallback of the timeline.
func timelineText(inc *incident.Incident, events []incident.Event) string {
	return fmt.Sprintf("Timeline of %s: %d entries", displayTitle(inc), len(events))
}

// listBlocks renders open incidents, newest first.
func listBlocks(incs []*shown) []slack.Block {
	if len(incs) == 0 {
		return []slack.Block{slack.NewSectionBlock(mrkdwn(":sunny: No open incidents."), nil, nil)}
	}
	blocks := []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, fmt.Sprintf("Open incidents (%d)", len(incs)), false, false))}
	more := func(n int) slack.Block { return slack.NewContextBlock("", mrkdwn(fmt.Sprintf("…and %d more.", n))) }
	text := blocksSize(blocks[0], more(len(incs)))
	for i, inc := range incs {
		b := slack.NewSectionBlock(mrkdwn(incidentSummary(inc)), nil, nil)
		n := blocksSize(b)
		if i == maxBlocks-2 || text+n > pageText {
			return append(blocks, more(len(incs)-i))
		}
		blocks = append(blocks, b)
		text += n
	}
	return blocks
}

// incidentSummary is an incident as list and the Home tab show it: title,
// severity, status, commander, channel, when declared, and anything amiss.
func incidentSummary(inc *shown) string {
	where := "_channel pending_"
	if inc.Chat.ChannelID != "" {
		where = channelLink(inc.Chat.ChannelID)
	}
	s := fmt.Sprintf("%s *%s*\n%s · %s · %s · %s · declared %s",
		statusEmoji(inc.Status), displayTitle(inc.Incident), inc.Severity, inc.Status, commanderText(inc.Incident), where, slackDate(inc.DeclaredAt))
	if inc.Private {
		s += " · :lock: private"
	}
	if inc.Chat.Problem != "" {
		s += "\n:warning: " + inc.Chat.Problem
	}
	return truncate(s, maxSectionText)
}
