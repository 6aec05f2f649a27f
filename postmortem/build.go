package postmortem

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sitrep-dev/sitrep/incident"
)

// Build makes the View of inc and its timeline events (in any order) with
// times in loc. People are named as name says (the chat's current names),
// or else as the latest event that recorded their name says, or else by
// their ID. Build asks name once per user, but the caller should still
// cache it (it is users.info). name may be nil, and may return "" (or
// the ID) for a user it cannot resolve.
func Build(inc *incident.Incident, events []incident.Event, loc *time.Location, name func(userID string) string) View {
	if loc == nil {
		loc = time.UTC
	}
	recorded := recordedNames(events)
	names := map[string]string{}
	resolve := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		n := ""
		if name != nil {
			n = strings.TrimSpace(name(id))
		}
		if n == "" || n == id {
			n = recorded[id]
		}
		names[id] = n
		return n
	}
	// who is a display name as one escaped line, falling back to the ID.
	who := func(id string) string {
		if id == "" {
			return ""
		}
		n := strings.TrimSpace(resolve(id))
		if n == "" {
			n = id
		}
		return fold(Markdown(n, nil))
	}
	md := func(s string) string { return Markdown(s, resolve) }
	line := func(s string) string { return fold(md(s)) }

	v := View{
		Number:    inc.Number,
		Title:     line(inc.Title),
		Severity:  line(inc.Severity),
		Status:    line(string(inc.Status)),
		Declared:  inc.DeclaredAt.In(loc),
		Commander: who(inc.Commander()),
		Private:   inc.Private,
		Drill:     inc.Drill,
		Draft:     incident.IsDraft(inc),
		Summary:   md(inc.Summary),
		Impact:    md(inc.Impact),
		RootCause: md(inc.RootCause),
		ZoneName:  loc.String(),

		Mitigation:          md(inc.Mitigation),
		ContributingFactors: md(inc.ContributingFactors),
		WentWell:            md(inc.WentWell),
		WentBadly:           md(inc.WentBadly),
		Learnings:           lines(inc.Learnings, md),
		Remediations:        lines(inc.Remediations, md),
	}
	if v.Title == "" {
		v.Title = "Untitled"
	}
	if !inc.ResolvedAt.IsZero() {
		v.Resolved = inc.ResolvedAt.In(loc)
		v.Duration = since(inc.DeclaredAt, inc.ResolvedAt)
	}
	for role, id := range inc.Roles {
		if role != incident.CommanderRole {
			v.Roles = append(v.Roles, Role{Role: line(capitalize(role)), Name: who(id)})
		}
	}
	slices.SortFunc(v.Roles, func(a, b Role) int { return cmp.Compare(a.Role, b.Role) })
	for _, s := range inc.Services {
		if s = line(s); s != "" {
			v.AffectedServices = append(v.AffectedServices, s)
		}
	}
	// Checklist texts come from the configuration, and follow-ups from
	// people; both are escaped like everything else a person wrote.
	for _, it := range inc.Checklist {
		a := Answer{Question: line(it.Text)}
		if it.Answer != "" {
			a.Answer, a.By = line(it.Answer), who(it.AnsweredBy)
			if !it.AnsweredAt.IsZero() {
				a.At = it.AnsweredAt.In(loc)
			}
		}
		v.Triage = append(v.Triage, a)
	}
	for _, f := range inc.FollowUps {
		v.FollowUps = append(v.FollowUps, FollowUp{Text: md(f.Text), Owner: who(f.Owner), Done: f.Done(), Issue: issueLink(f)})
	}

	// Describe writes people as Slack mentions, so that Markdown resolves
	// them the same way as mentions a person typed.
	mention := func(id string) string { return "<@" + id + ">" }
	// The document is the postmortem: its own publications (and drafts)
	// are not facts of the incident.
	events = slices.DeleteFunc(slices.Clone(events), func(e incident.Event) bool { return e.Kind == incident.KindPostmortem })
	v.Timeline = make([]Row, 0, len(events))
	for _, e := range events {
		at := e.At.In(loc)
		r := Row{At: at, UTC: UTC(at), Event: line(e.Describe(mention)), Who: who(e.Actor)}
		if v.ZoneName != "UTC" { // the UTC column already says it
			r.Local = Clock(at)
		}
		v.Timeline = append(v.Timeline, r)
	}
	// The timeline reads in the order things happened; a message pinned
	// later keeps the time it was written. Stable, so that events recorded
	// in the same minute keep the order they were recorded in.
	order := make([]int, len(events))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := events[a].At.Compare(events[b].At); c != 0 {
			return c
		}
		return cmp.Compare(events[a].Seq, events[b].Seq)
	})
	rows := make([]Row, len(order))
	for i, j := range order {
		rows[i] = v.Timeline[j]
	}
	v.Timeline = rows

	for _, j := range order {
		e := events[j]
		reached := ""
		switch e.Kind {
		case incident.KindStatus:
			reached = e.Data["to"]
		case incident.KindResolved:
			reached = string(incident.Resolved)
		}
		// Moving straight to monitoring or resolved means the cause was
		// identified on the way, so both times count from the first move
		// at or past their status; this keeps identify ≤ mitigate.
		switch incident.Status(reached) {
		case incident.Identified:
			if v.TimeToIdentify == nil {
				v.TimeToIdentify = since(inc.DeclaredAt, e.At)
			}
		case incident.Monitoring, incident.Resolved, incident.Closed:
			if v.TimeToIdentify == nil {
				v.TimeToIdentify = since(inc.DeclaredAt, e.At)
			}
			if v.TimeToMitigate == nil {
				v.TimeToMitigate = since(inc.DeclaredAt, e.At)
			}
		}
	}
	if len(inc.Pages) > 0 {
		v.Paged = true
		if d, ok := incident.TimeToAcknowledge(inc); ok {
			v.TimeToAcknowledge = &d
		}
	}
	if v.TimeToMitigate == nil && v.Duration != nil {
		// Resolved without a recorded event (an import, say): the
		// incident's own times still say when it was mitigated.
		d := *v.Duration
		v.TimeToMitigate = &d
	}
	return v
}

func since(from, to time.Time) *time.Duration {
	d := max(to.Sub(from), 0)
	return &d
}

// recordedNames returns the names the events recorded, by user ID; a
// later event's name wins.
func recordedNames(events []incident.Event) map[string]string {
	type named struct {
		name string
		seq  int64
	}
	latest := map[string]named{}
	for _, e := range events {
		for id, n := range e.Names {
			if l, ok := latest[id]; !ok || e.Seq >= l.seq {
				latest[id] = named{n, e.Seq}
			}
		}
	}
	out := make(map[string]string, len(latest))
	for id, n := range latest {
		out[id] = n.name
	}
	return out
}

// lines converts each non-empty line of s to a block, dropping a list
// marker a person typed at its start ("- ", "1. "): the template numbers
// or bullets them itself.
func lines(s string, md func(string) string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		l = strings.TrimSpace(l)
		if m := listMarker.FindString(l); m != "" {
			l = l[len(m):]
		}
		if l = md(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// listMarker matches a list marker typed at the start of a line.
var listMarker = regexp.MustCompile(`^(?:[-•]|\*|\d{1,3}[.)])\s+`)

// capitalize upper-cases the first letter of a role's name ("comms"
// becomes "Comms"), as a label reads.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// issueLink is the Markdown link to a follow-up's issue in its tracker;
// "" when it has none. A URL that is not a plain http(s) link shows as
// the key alone.
func issueLink(f incident.FollowUp) string {
	if !f.Tracked() {
		return ""
	}
	var b strings.Builder
	b.WriteString(incident.TrackerTitle(f.Issue.Tracker) + " ")
	if !safeURL(f.Issue.URL) {
		escapeText(&b, f.Issue.Key)
		return b.String()
	}
	b.WriteString("[")
	escapeText(&b, f.Issue.Key)
	b.WriteString("](")
	writeURL(&b, f.Issue.URL)
	b.WriteString(")")
	return b.String()
}
