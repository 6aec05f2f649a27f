package incident

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ItemKind says how a checklist item is answered.
type ItemKind string

// The kinds of checklist item.
const (
	Question ItemKind = "question" // answered yes, no or unknown
	Task     ItemKind = "task"     // answered done or skipped
)

// Answers lists the answers an item of kind k takes, in the order they are
// offered.
func (k ItemKind) Answers() []string {
	if k == Task {
		return []string{"done", "skipped"}
	}
	return []string{"yes", "no", "unknown"}
}

// Link is a named URL, such as a third party's status page.
type Link struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// Summary is the page's Statuspage-style summary.json, polled so that
	// /incident thirdparty shows the third party's open incidents; "" to
	// only link the page.
	Summary string `yaml:"summary,omitempty"`
}

// ChecklistItem is one item of the triage checklist template.
type ChecklistItem struct {
	ID   string   `yaml:"id"`
	Text string   `yaml:"text"`
	Kind ItemKind `yaml:"kind"`
	// Suggestion is posted in the incident channel, once, when a question
	// is first answered yes: the action the answer points to.
	Suggestion string `yaml:"suggestion"`
	// From is the least severe severity the item applies to: "sev1" puts
	// it on sev1 and sev0 incidents, and adds it when an incident is raised
	// to sev1. "" means every incident.
	From string `yaml:"from"`
	// StatusPages adds the configured third-party status pages to the
	// suggestion.
	StatusPages bool `yaml:"status_pages"`
}

// Limits on the checklist: each item takes two blocks of a Slack message,
// which holds 50.
const (
	MaxChecklistItems = 24
	maxItemText       = 300
)

// CheckItem is a checklist item on an incident, with its answer. Items are
// copied from the template when they are added, so an incident keeps the
// questions it was asked whatever the configuration says later.
type CheckItem struct {
	ID         string
	Kind       ItemKind
	Text       string
	Suggestion string // with the status pages, when the template asks for them
	Answer     string // "" until answered
	AnsweredBy string
	AnsweredAt time.Time
	// Suggested is set once the suggestion has been offered, so that it is
	// offered once however often the answer changes.
	Suggested bool
}

// ChecklistProgress counts the answered items of the incident's checklist.
func (inc *Incident) ChecklistProgress() (answered, total int) {
	for _, it := range inc.Checklist {
		if it.Answer != "" {
			answered++
		}
	}
	return answered, len(inc.Checklist)
}

// validateChecklist checks the checklist template against the severities.
func (c Config) validateChecklist() error {
	if len(c.Checklist) > MaxChecklistItems {
		return fmt.Errorf("checklist: at most %d items, so that the checklist fits one Slack message", MaxChecklistItems)
	}
	seen := map[string]bool{}
	for i, it := range c.Checklist {
		switch {
		case !nameRE.MatchString(it.ID):
			return fmt.Errorf("checklist[%d].id %q: use lowercase letters, digits, - or _ (at most 30), starting with a letter", i, it.ID)
		case seen[it.ID]:
			return fmt.Errorf("checklist[%d].id %q: listed twice", i, it.ID)
		case strings.TrimSpace(it.Text) == "":
			return fmt.Errorf("checklist[%d] (%s): text is required", i, it.ID)
		case len([]rune(it.Text)) > maxItemText:
			return fmt.Errorf("checklist[%d] (%s): text is longer than %d characters", i, it.ID, maxItemText)
		case len([]rune(it.Suggestion)) > maxItemText:
			return fmt.Errorf("checklist[%d] (%s): suggestion is longer than %d characters", i, it.ID, maxItemText)
		case it.Kind != Question && it.Kind != Task:
			return fmt.Errorf("checklist[%d] (%s): kind %q: use question (yes/no/unknown) or task (done/skipped)", i, it.ID, it.Kind)
		case it.Kind == Task && (it.Suggestion != "" || it.StatusPages):
			// A task is never answered yes, so its suggestion (and the
			// status pages added to it) would silently never be offered.
			return fmt.Errorf("checklist[%d] (%s): only questions have suggestions or status_pages (offered on yes)", i, it.ID)
		case it.From != "" && c.severityRank(it.From) < 0:
			return fmt.Errorf("checklist[%d] (%s): from %q: not one of the severities (%s)", i, it.ID, it.From, strings.Join(c.SeverityNames(), ", "))
		}
		seen[it.ID] = true
	}
	for i, l := range c.StatusPages {
		if strings.TrimSpace(l.Name) == "" || !(strings.HasPrefix(l.URL, "https://") || strings.HasPrefix(l.URL, "http://")) {
			return fmt.Errorf("status_pages[%d]: needs a name and an http(s) url", i)
		}
		if strings.ContainsAny(l.Name+l.URL, "<>|") || strings.ContainsAny(l.URL, " \t\n") {
			// They become a Slack link, <url|name>, which these would break.
			return fmt.Errorf("status_pages[%d] (%s): the name and url must not contain <, > or |, nor the url spaces", i, l.Name)
		}
	}
	return nil
}

// checklistFor returns copies of the template items that apply to severity
// and are not in have yet. The checklist never grows past
// MaxChecklistItems, even when the template changed since have was made.
func (c Config) checklistFor(severity string, have []CheckItem) []CheckItem {
	rank := c.severityRank(severity)
	var items []CheckItem
	for _, t := range c.Checklist {
		if len(have)+len(items) >= MaxChecklistItems {
			break
		}
		if t.From != "" && rank > c.severityRank(t.From) {
			continue
		}
		if slices.ContainsFunc(have, func(it CheckItem) bool { return it.ID == t.ID }) {
			continue
		}
		items = append(items, CheckItem{ID: t.ID, Kind: t.Kind, Text: t.Text, Suggestion: c.suggestion(t)})
	}
	return items
}

// suggestion is what answering yes to t suggests, with the status pages
// when t asks for them.
func (c Config) suggestion(t ChecklistItem) string {
	s := t.Suggestion
	if !t.StatusPages || len(c.StatusPages) == 0 {
		return s
	}
	pages := make([]string, len(c.StatusPages))
	for i, l := range c.StatusPages {
		pages[i] = fmt.Sprintf("<%s|%s>", l.URL, l.Name)
	}
	return strings.TrimSpace(s + " Status pages: " + strings.Join(pages, ", ") + ".")
}

// Answer records an answer to a checklist item. Changing an answer is
// allowed and recorded; the item's suggestion is offered once, on the first
// yes.
func (s *Service) Answer(ctx context.Context, number int64, actor, itemID, answer string) (*Incident, error) {
	answer = strings.ToLower(strings.TrimSpace(answer))
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		i := slices.IndexFunc(inc.Checklist, func(it CheckItem) bool { return it.ID == itemID })
		if i < 0 {
			return nil, hintErrorf(EINVALID, "checklist", "Incident #%d's checklist has no item %q; the message may be from an older checklist. {cmd} shows the current one.", inc.Number, itemID)
		}
		it := &inc.Checklist[i]
		if !slices.Contains(it.Kind.Answers(), answer) {
			return nil, Errorf(EINVALID, "%q is not an answer to %q. Use one of: %s.", answer, it.Text, strings.Join(it.Kind.Answers(), ", "))
		}
		if it.Answer == answer {
			return nil, Errorf(ECONFLICT, "%q is already answered %s.", it.Text, answer)
		}
		data := map[string]string{"item": it.ID, "answer": answer, "previous": it.Answer}
		if answer == "yes" && it.Suggestion != "" && !it.Suggested {
			it.Suggested = true
			data["suggestion"] = it.Suggestion
		}
		it.Answer, it.AnsweredBy, it.AnsweredAt = answer, actor, now
		return []Event{{Kind: KindChecklist, Actor: actor, Text: it.Text, Data: data}}, nil
	})
}
