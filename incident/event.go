package incident

import (
	"fmt"
	"strings"
	"time"
)

// EventKind says what a timeline event records.
type EventKind string

// The kinds of timeline event. Each state change makes one automatically.
const (
	KindDeclared     EventKind = "declared"   // Data: severity
	KindStatus       EventKind = "status"     // Data: from, to, regression ("true" when moving backwards)
	KindSeverity     EventKind = "severity"   // Data: from, to
	KindRole         EventKind = "role"       // Data: role, user, previous
	KindNote         EventKind = "note"       // Text: the note
	KindUpdate       EventKind = "update"     // Text: the status update; Data: severity, status at the time
	KindResolved     EventKind = "resolved"   // Text: the summary; Data: from
	KindReopened     EventKind = "reopened"   // Data: from
	KindMessage      EventKind = "message"    // Text: a chat message as written; Source: its link; Data: author
	KindPostmortem   EventKind = "postmortem" // Source: where the postmortem was published; Data: draft ("true" for an incident not yet resolved)
	KindClosed       EventKind = "closed"
	KindChecklist    EventKind = "checklist"     // Text: the item; Data: item, answer, previous, suggestion (when offered)
	KindFollowUp     EventKind = "followup"      // Text: the follow-up; Data: id, owner
	KindFollowUpDone EventKind = "followup_done" // Text: the follow-up; Data: id
	KindPrompt       EventKind = "prompt"        // Data: prompt (update, postmortem), level, commander, comms
	// The kinds of a follow-up's life in a tracker (tracked.go).
	KindFollowUpExport   EventKind = "followup_export"   // Text: the follow-up; Data: id, tracker
	KindFollowUpIssue    EventKind = "followup_issue"    // Text: the follow-up; Data: id, tracker, key, url
	KindFollowUpRefused  EventKind = "followup_refused"  // Text: what the tracker said, in words; Data: id, tracker
	KindFollowUpReopened EventKind = "followup_reopened" // Text: the follow-up; Data: id, tracker, key
	// KindAlert records an alert firing or resolving. Text: its title;
	// Data: source, key, status, route.
	KindAlert EventKind = "alert"
	// KindAlertsResolved records that all the incident's alerts have
	// resolved: the commander is asked whether to resolve it. Data:
	// commander (when there is one).
	KindAlertsResolved EventKind = "alerts_resolved"
	// The kinds of the fields people write for the postmortem (review.go)
	// are the fields' names: Text is the new value ("" when cleared), or
	// with Data added="true" the line added.
)

// OnTimeline reports whether events of kind k belong on the timeline people
// read. Prompts are Sitrep's own reminders: recorded so that each is sent
// once, but not facts of the incident.
func (k EventKind) OnTimeline() bool { return k != KindPrompt }

// Event is one append-only entry of an incident's timeline.
type Event struct {
	Seq        int64 // assigned by the Store; orders events as they were recorded
	IncidentID string
	At         time.Time // when the fact happened
	Kind       EventKind
	Actor      string // user ID of who did it
	Text       string // what a person wrote, for kinds that carry text
	Source     string // optional link to where it came from (a Slack message)
	Data       map[string]string
	// Names are the display names of the people the event concerns (its
	// actor, people it names), by user ID, as the chat knew them when it
	// happened; so that an export made without the chat names them too.
	// Empty when nobody told the Service (see WithNames).
	Names map[string]string
	// Key, when set, makes the event unique within its incident: recording
	// it a second time is refused. Used for things that may be offered more
	// than once, such as a message several people react to.
	Key string
}

// Describe renders the event as one line of prose. mention turns a user ID
// into however the caller shows people (a Slack mention, a name), so the
// domain does not decide presentation.
func (e Event) Describe(mention func(userID string) string) string {
	d := e.Data
	switch e.Kind {
	case KindDeclared:
		// Who declared it is the event's actor, which every timeline
		// shows beside it.
		if d["source"] != "" {
			return fmt.Sprintf("Declared as %s for %s", d["severity"], d["source"])
		}
		return "Declared as " + d["severity"]
	case KindStatus:
		s := fmt.Sprintf("Status %s → %s", d["from"], d["to"])
		if d["regression"] == "true" {
			s += " (moved back)"
		}
		return s
	case KindSeverity:
		return fmt.Sprintf("Severity %s → %s", d["from"], d["to"])
	case KindRole:
		s := fmt.Sprintf("%s is now %s", mention(d["user"]), d["role"])
		if d["previous"] != "" {
			s += fmt.Sprintf(" (was %s)", mention(d["previous"]))
		}
		return s
	case KindNote:
		return "Note: " + e.Text
	case KindUpdate:
		return "Status update: " + e.Text
	case KindResolved:
		if strings.TrimSpace(e.Text) == "" {
			return "Resolved"
		}
		return "Resolved: " + e.Text
	case KindReopened:
		s := fmt.Sprintf("Reopened (was %s)", d["from"])
		if e.Text != "" {
			s += ": " + e.Text
		}
		return s
	case KindPostmortem:
		if d["draft"] == "true" {
			return "Postmortem draft shared"
		}
		return "Postmortem published"
	case KindClosed:
		return "Closed"
	case KindMessage:
		return fmt.Sprintf("%s wrote: %s", mention(d["author"]), e.Text)
	case KindChecklist:
		return fmt.Sprintf("Checklist: %s → %s", e.Text, d["answer"])
	case KindFollowUp:
		s := "Follow-up: " + e.Text
		if d["owner"] != "" {
			s += fmt.Sprintf(" (owner %s)", mention(d["owner"]))
		}
		return s
	case KindFollowUpDone:
		if d["tracker"] != "" {
			return fmt.Sprintf("Follow-up done in %s (%s): %s", TrackerTitle(d["tracker"]), d["key"], e.Text)
		}
		return "Follow-up done: " + e.Text
	case KindFollowUpExport:
		return fmt.Sprintf("Follow-up %s to be tracked in %s: %s", d["id"], TrackerTitle(d["tracker"]), e.Text)
	case KindFollowUpIssue:
		return fmt.Sprintf("Follow-up %s tracked in %s as %s: %s", d["id"], TrackerTitle(d["tracker"]), d["key"], d["url"])
	case KindFollowUpRefused:
		return fmt.Sprintf("No %s issue for follow-up %s: %s", TrackerTitle(d["tracker"]), d["id"], e.Text)
	case KindFollowUpReopened:
		return fmt.Sprintf("Follow-up reopened in %s (%s): %s", TrackerTitle(d["tracker"]), d["key"], e.Text)
	case EventKind(FieldImpact), EventKind(FieldServices), EventKind(FieldRootCause), EventKind(FieldMitigation), EventKind(FieldContributing),
		EventKind(FieldWentWell), EventKind(FieldWentBadly), EventKind(FieldLearnings), EventKind(FieldRemediations):
		return describeField(e)
	case KindAlert:
		if d["status"] == string(AlertResolved) {
			return fmt.Sprintf("Alert resolved (%s): %s", d["source"], e.Text)
		}
		return fmt.Sprintf("Alert firing (%s): %s", d["source"], e.Text)
	case KindAlertsResolved:
		return "All alerts resolved"
	case KindPage, KindPageAck, KindPageCancelled, KindPageExhausted, KindPagerDuty, KindPageProblem:
		return describePage(e, mention)
	case KindPublished:
		s := fmt.Sprintf("Published to the status page (%s): %s", d["status"], e.Text)
		if d["approved_by"] != "" {
			s = fmt.Sprintf("Published to the status page (%s, approved by %s): %s", d["status"], mention(d["approved_by"]), e.Text)
		}
		return s
	case KindPublicDraft:
		return fmt.Sprintf("Drafted a public update (%s), awaiting approval: %s", d["status"], e.Text)
	case KindPrompt:
		if d["prompt"] == string(PromptPostmortem) {
			return "Reminder: the postmortem is not published yet"
		}
		if d["level"] == "1" {
			return "Reminder: a status update is due"
		}
		return "Reminder: a status update is overdue"
	}
	return string(e.Kind) + ": " + e.Text
}
