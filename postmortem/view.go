// Package postmortem turns an incident and its recorded timeline into a
// postmortem document: Build makes a plain View, Render writes it through a
// template (see package templates) as Markdown, and HTML converts that
// Markdown for a browser. It is pure: no Slack, no database.
package postmortem

import "time"

// View is everything a postmortem template shows, as plain data.
//
// Text fields hold Markdown that Markdown has converted from Slack's markup
// and escaped, so a template writes them as they are; fields documented as
// one line are safe in a heading or table cell, the others are blocks that
// need the cell function to go into a cell or list item. Times are in the
// configured zone (format them with the utc, local and clock functions).
type View struct {
	Number   int64
	Title    string // one line; never empty
	Severity string // one line
	Status   string // one line
	Declared time.Time
	Resolved time.Time // zero while open
	// Duration is from declared to resolved; nil while open.
	Duration *time.Duration
	// TimeToIdentify is from declared to the first move to identified or
	// beyond; nil if that never happened.
	TimeToIdentify *time.Duration
	// TimeToMitigate is from declared to the first move to monitoring or
	// to resolved; nil if that never happened.
	TimeToMitigate *time.Duration
	// TimeToAcknowledge is from the first page to its first
	// acknowledgement; nil when nobody was paged or nobody acknowledged.
	// Paged is set when anyone was.
	TimeToAcknowledge *time.Duration
	Paged             bool
	Commander         string // display name, one line
	Roles             []Role // the other roles, by role name
	// AffectedServices are one line each.
	AffectedServices []string
	Private          bool
	Drill            bool
	// Draft is true for a postmortem of an incident not resolved yet.
	Draft     bool
	Summary   string
	Impact    string
	RootCause string
	// Mitigation is what mitigated the incident, as recorded when it was
	// resolved; ContributingFactors, WentWell and WentBadly are the
	// review's. All are blocks.
	Mitigation          string
	ContributingFactors string
	WentWell            string
	WentBadly           string
	Timeline            []Row
	// Triage is the incident's triage checklist, every item in the order
	// it was asked, answered or not.
	Triage []Answer
	// Learnings and Remediations are the lines recorded for each, one
	// block per line.
	Learnings    []string
	Remediations []string
	// FollowUps are the incident's action items, in the order recorded.
	FollowUps []FollowUp
	// Alerts are the alerts attached to the incident, in the order first
	// received (alerts.go); none for an incident no alert declared.
	Alerts []AlertRow
	// ZoneName names the configured time zone ("America/Los_Angeles").
	ZoneName string
}

// Role is a role other than the commander and who holds it.
type Role struct {
	Role string // one line
	Name string // display name, one line
}

// Row is one timeline entry. Its times are formatted in advance because a
// timeline may have thousands of rows and a template function call per
// cell is most of the cost of rendering it.
type Row struct {
	At    time.Time // in the configured zone
	UTC   string    // At as "2021-12-02 20:24 UTC"
	Local string    // At in the configured zone as Clock shows it; "" when that is UTC
	Event string    // what happened; one line
	Who   string    // display name of who did it; one line, may be empty
}

// Answer is one item of the triage checklist and its answer.
type Answer struct {
	Question string // the item's text, a question or a task; one line
	// Answer is yes, no or unknown for a question, done or skipped for a
	// task; "" while the item is unanswered. One line.
	Answer string
	By     string    // display name of who answered; one line, "" while unanswered
	At     time.Time // when it was answered, in the configured zone; zero while unanswered
}

// FollowUp is one action item.
type FollowUp struct {
	Text  string // a block
	Owner string // display name, one line; "" when nobody owns it
	Done  bool
	// Issue is a Markdown link to the follow-up's issue in its tracker
	// ("GitHub [acme/ops#12](https://…)"); "" when it has none.
	Issue string
}
