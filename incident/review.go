package incident

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A postmortem is only as good as what was recorded for it: the impact,
// the root cause, what mitigated it, and what the team took away. Each is a
// Field of the incident that people record (from a form or by typing), any
// number of times: every edit is a timeline event of the field's own kind,
// and the incident keeps the latest value, which the postmortem shows.

// Field is a text of the incident that people write for its postmortem.
type Field string

// The fields. Each is also the EventKind of the events recording it.
const (
	FieldImpact       Field = "impact"
	FieldRootCause    Field = "root_cause"
	FieldMitigation   Field = "mitigation"
	FieldContributing Field = "contributing_factors"
	FieldWentWell     Field = "went_well"
	FieldWentBadly    Field = "went_badly"
	FieldLearnings    Field = "learnings"
	FieldRemediations Field = "remediations"
	// FieldServices is the affected services, written as a list separated
	// by commas: a declaration typed in one line has none, and they are
	// often known only at the end.
	FieldServices Field = "services"
)

// Fields lists the fields in the order a postmortem reads them.
var Fields = []Field{FieldImpact, FieldServices, FieldRootCause, FieldMitigation, FieldContributing, FieldWentWell, FieldWentBadly, FieldLearnings, FieldRemediations}

// fieldLabels name the fields in messages ("The root cause is empty").
var fieldLabels = map[Field]string{
	FieldImpact:       "impact",
	FieldRootCause:    "root cause",
	FieldMitigation:   "mitigation",
	FieldContributing: "contributing factors",
	FieldWentWell:     "what went well",
	FieldWentBadly:    "what went badly",
	FieldLearnings:    "learnings",
	FieldRemediations: "remediations",
	FieldServices:     "affected services",
}

// Label names the field as messages do; it is also the Field of the
// *Error about it.
func (f Field) Label() string { return fieldLabels[f] }

// Kind is the kind of the events that record the field.
func (f Field) Kind() EventKind { return EventKind(f) }

// field returns a pointer to the incident's value of f.
func (inc *Incident) field(f Field) *string {
	switch f {
	case FieldImpact:
		return &inc.Impact
	case FieldRootCause:
		return &inc.RootCause
	case FieldMitigation:
		return &inc.Mitigation
	case FieldContributing:
		return &inc.ContributingFactors
	case FieldWentWell:
		return &inc.WentWell
	case FieldWentBadly:
		return &inc.WentBadly
	case FieldLearnings:
		return &inc.Learnings
	case FieldRemediations:
		return &inc.Remediations
	}
	return nil
}

// Field returns the incident's latest value of f.
func (inc *Incident) Field(f Field) string {
	if f == FieldServices {
		return strings.Join(inc.Services, ", ")
	}
	if p := inc.field(f); p != nil {
		return *p
	}
	return ""
}

// Edit sets one field. Text "" clears it. With Add, Text is added to
// the field as a line of its own (one more learning), and must not be
// empty.
type Edit struct {
	Field Field
	Text  string
	Add   bool
}

// Review is what is recorded at once from a form.
type Review struct {
	Edits []Edit
	// RemediationFollowUps makes each line of the remediations a
	// follow-up, unless the incident has one with that text already.
	RemediationFollowUps bool
}

// cleanEdits checks the edits' texts as the text fields are checked.
func cleanEdits(edits []Edit) ([]Edit, error) {
	out := make([]Edit, 0, len(edits))
	for _, e := range edits {
		label, ok := fieldLabels[e.Field]
		if !ok {
			return nil, Errorf(EINVALID, "Sitrep records no field called %q.", e.Field)
		}
		if e.Field == FieldServices {
			if e.Add {
				return nil, Errorf(EINVALID, "The affected services are set as a whole, not added to.")
			}
			list, err := cleanList(label, strings.Split(e.Text, ","))
			if err != nil {
				return nil, err
			}
			e.Text = strings.Join(list, ", ")
			out = append(out, e)
			continue
		}
		text, err := cleanText(label, e.Text, !e.Add)
		if err != nil {
			return nil, err
		}
		e.Text = text
		out = append(out, e)
	}
	return out, nil
}

// applyEdits sets the incident's fields and returns the events recording
// each change; an edit that changes nothing records nothing.
func applyEdits(inc *Incident, actor string, edits []Edit) ([]Event, error) {
	var evs []Event
	for _, e := range edits {
		if e.Field == FieldServices {
			if inc.Field(FieldServices) == e.Text {
				continue
			}
			inc.Services = nil
			if e.Text != "" {
				inc.Services = strings.Split(e.Text, ", ")
			}
			evs = append(evs, Event{Kind: e.Field.Kind(), Actor: actor, Text: e.Text})
			continue
		}
		p := inc.field(e.Field)
		if e.Add {
			v := e.Text
			if *p != "" {
				v = *p + "\n" + e.Text
			}
			if textLen(v) > MaxText {
				fe := fieldErrorf(e.Field.Label(), "The %s would be over %d characters long with this one; edit them in {cmd} instead.", e.Field.Label(), MaxText)
				fe.Hint = "postmortem"
				return nil, fe
			}
			*p = v
			evs = append(evs, Event{Kind: e.Field.Kind(), Actor: actor, Text: e.Text, Data: map[string]string{"added": "true"}})
			continue
		}
		if *p == e.Text {
			continue
		}
		*p = e.Text
		evs = append(evs, Event{Kind: e.Field.Kind(), Actor: actor, Text: e.Text})
	}
	return evs, nil
}

// Record sets fields of incident number: from a form, or typed one at a
// time. An open or resolved incident can be edited; a closed one cannot.
// Edits that change nothing record nothing; one such edit alone is
// refused, so that a command typed twice says so.
func (s *Service) Record(ctx context.Context, number int64, actor string, r Review) (*Incident, error) {
	edits, err := cleanEdits(r.Edits)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		evs, err := applyEdits(inc, actor, edits)
		if err != nil {
			return nil, err
		}
		if r.RemediationFollowUps {
			fevs, err := remediationFollowUps(inc, actor, now)
			if err != nil {
				return nil, err
			}
			evs = append(evs, fevs...)
		}
		if len(evs) == 0 && len(edits) == 1 && !r.RemediationFollowUps {
			// A field typed again as it is: say so, rather than nothing.
			return nil, fieldErrorf(edits[0].Field.Label(), "Incident #%d already has that %s.", inc.Number, edits[0].Field.Label())
		}
		return evs, nil
	})
}

// remediationFollowUps adds a follow-up for each line of the remediations
// that no follow-up has as its text yet.
func remediationFollowUps(inc *Incident, actor string, now time.Time) ([]Event, error) {
	var evs []Event
	for l := range strings.SplitSeq(inc.Remediations, "\n") {
		l = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), "-*•"))
		if l == "" || hasFollowUp(inc, l) {
			continue
		}
		if len(inc.FollowUps) >= MaxFollowUps {
			return nil, fieldErrorf(FieldRemediations.Label(), "Incident #%d already has %d follow-ups; track more in your issue tracker and note the link.", inc.Number, MaxFollowUps)
		}
		id := 1
		if n := len(inc.FollowUps); n > 0 {
			id = inc.FollowUps[n-1].ID + 1
		}
		inc.FollowUps = append(inc.FollowUps, FollowUp{ID: id, Text: l, CreatedBy: actor, CreatedAt: now})
		evs = append(evs, Event{Kind: KindFollowUp, Actor: actor, Text: l, Data: map[string]string{"id": strconv.Itoa(id), "owner": "", "from": string(FieldRemediations)}})
	}
	return evs, nil
}

func hasFollowUp(inc *Incident, text string) bool {
	for _, f := range inc.FollowUps {
		if f.Text == text {
			return true
		}
	}
	return false
}

// describeField words an event recording a field.
func describeField(e Event) string {
	label := Field(e.Kind).Label()
	label = strings.ToUpper(label[:1]) + label[1:]
	switch {
	case e.Data["added"] == "true":
		return fmt.Sprintf("%s: added %s", label, e.Text)
	case e.Text == "":
		return label + " cleared"
	case e.Kind == FieldLearnings.Kind() || e.Kind == FieldRemediations.Kind():
		// One per line: on one line of a timeline, each still reads as one.
		return label + ": " + strings.Join(strings.Split(e.Text, "\n"), "; ")
	}
	return label + ": " + e.Text
}
