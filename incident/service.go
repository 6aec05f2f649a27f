package incident

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sitrep-dev/sitrep/oncall"
)

// Limits on what people type. Titles stay short enough for a channel topic
// and a card header; longer texts still fit one Slack section.
const (
	MaxTitle = 200
	MaxText  = 3000
)

// Service applies the rules for changing incidents and records every change
// on the timeline, in the same transaction as the change.
type Service struct {
	store Store
	cfg   Config
	now   func() time.Time
	feed  changeFeed
	// paging is the on-call plan (UsePaging); nil pages nobody.
	paging *oncall.Plan
}

// NewService returns a Service. cfg must have passed Validate.
func NewService(store Store, cfg Config, now func() time.Time) *Service {
	return &Service{store: store, cfg: cfg, now: now}
}

// Config returns the configuration the service enforces.
func (s *Service) Config() Config { return s.cfg }

// Declaration is what is needed to declare an incident.
type Declaration struct {
	Title    string
	Severity string // "" means the configured default
	// Actor is the person declaring, who becomes commander. It is "" when
	// Sitrep declares on behalf of Source (an alert): such an incident has
	// no commander until someone takes command (TakeCommand) or is named.
	Actor    string
	Source   string // what Sitrep declares for ("alertmanager"); "" for a person
	Summary  string
	Impact   string
	Services []string
	Private  bool
	Drill    bool
	// Page names the escalation policy to page (an alert route's page);
	// "" pages the default policy when the severity is at or above
	// page_at.
	Page string
	// Route is the alert route that declared it, for the page's reason.
	Route string
}

// Declare records a new incident and its first timeline event.
func (s *Service) Declare(ctx context.Context, d Declaration) (*Incident, error) {
	inc, ev, err := s.newIncident(ctx, d, s.now().UTC())
	if err != nil {
		return nil, err
	}
	if err := s.store.Create(ctx, inc, []Event{ev}); err != nil {
		return nil, fmt.Errorf("declare: %w", err)
	}
	s.committed(inc)
	return inc, nil
}

// newIncident checks a declaration and makes the incident it declares, at
// now, with the event that records it: Declare stores them, and alerts
// store them within their own transaction (alerting.go).
func (s *Service) newIncident(ctx context.Context, d Declaration, now time.Time) (*Incident, Event, error) {
	title, err := cleanTitle(d.Title)
	if err != nil {
		return nil, Event{}, err
	}
	sev := d.Severity
	if sev == "" {
		sev = s.cfg.DefaultSeverity
	}
	if _, err := s.cfg.Severity(sev); err != nil {
		return nil, Event{}, err
	}
	switch {
	case d.Actor == "" && d.Source == "":
		return nil, Event{}, Errorf(EINVALID, "An incident needs a declarer: a person, or the source Sitrep declares it for.")
	case d.Actor != "" && d.Source != "":
		return nil, Event{}, Errorf(EINVALID, "An incident is declared by a person or for a source, not both.")
	}
	summary, err := cleanText("summary", d.Summary, true)
	if err != nil {
		return nil, Event{}, err
	}
	impact, err := cleanText("impact", d.Impact, true)
	if err != nil {
		return nil, Event{}, err
	}
	services, err := cleanList("affected services", d.Services)
	if err != nil {
		return nil, Event{}, err
	}
	roles := map[string]string{}
	if d.Actor != "" {
		roles[CommanderRole] = d.Actor
	}
	inc := &Incident{
		Title:        title,
		Severity:     sev,
		Status:       Investigating,
		Summary:      summary,
		Impact:       impact,
		Services:     services,
		Private:      d.Private,
		Drill:        d.Drill,
		DeclaredBy:   d.Actor,
		Source:       d.Source,
		Roles:        roles,
		DeclaredAt:   now,
		UpdatedAt:    now,
		LastUpdateAt: now,
	}
	inc.Checklist = s.cfg.checklistFor(sev, nil)
	reason := "severity"
	if d.Page != "" {
		reason = "route:" + d.Route
	}
	s.autoPage(inc, d.Page, reason, now)
	s.cfg.schedule(inc)
	schedulePages(inc)
	ev := Event{At: now, Kind: KindDeclared, Actor: d.Actor, Data: map[string]string{"severity": sev}}
	if d.Source != "" {
		ev.Data["source"] = d.Source
	}
	nameEvent(ctx, &ev)
	return inc, ev, nil
}

// change runs fn on the incident inside a store transaction. fn validates and
// mutates the incident and returns the events that record the change.
func (s *Service) change(ctx context.Context, number int64, fn func(inc *Incident, now time.Time) ([]Event, error)) (*Incident, error) {
	inc, err := s.store.Update(ctx, number, func(inc *Incident) ([]Event, error) {
		if inc.Status == Closed {
			return nil, Errorf(ECONFLICT, "Incident #%d is closed; its record is final.", inc.Number)
		}
		now := s.now().UTC()
		evs, err := fn(inc, now)
		if err != nil {
			return nil, err
		}
		inc.UpdatedAt = now
		s.cfg.schedule(inc)
		schedulePages(inc)
		for i := range evs {
			if evs[i].At.IsZero() { // a message keeps the time it was written
				evs[i].At = now
			}
			nameEvent(ctx, &evs[i])
		}
		return evs, nil
	})
	if err != nil {
		return nil, err
	}
	s.committed(inc)
	return inc, nil
}

// AssignRole gives role to user. The role may be typed as an alias ("lead").
func (s *Service) AssignRole(ctx context.Context, number int64, actor, role, user string) (*Incident, error) {
	role, err := s.cfg.Role(role)
	if err != nil {
		return nil, err
	}
	if user == "" {
		return nil, Errorf(EINVALID, "Say who should be %s.", role)
	}
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		prev := inc.Roles[role]
		if err := s.cfg.mayChange(inc, actor, "name the "+role+" of"); err != nil {
			return nil, err
		}
		if prev == user {
			return nil, Errorf(EINVALID, "That person is already the %s of incident #%d.", role, inc.Number)
		}
		if inc.Roles == nil {
			inc.Roles = map[string]string{}
		}
		inc.Roles[role] = user
		return []Event{{Kind: KindRole, Actor: actor, Data: map[string]string{"role": role, "user": user, "previous": prev}}}, nil
	})
}

// TakeCommand makes actor the commander of an incident nobody commands yet
// (one Sitrep declared for a source). Handing over an incident that has a
// commander is AssignRole's, under its rules.
func (s *Service) TakeCommand(ctx context.Context, number int64, actor string) (*Incident, error) {
	if actor == "" {
		return nil, Errorf(EINVALID, "Say who takes command.")
	}
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		switch c := inc.Commander(); {
		case c == actor:
			return nil, Errorf(EINVALID, "You are already the commander of incident #%d.", inc.Number)
		case c != "":
			e := Errorf(ECONFLICT, "Incident #%d already has a commander ({commander}).", inc.Number)
			e.People = map[string][]string{"commander": {c}}
			return nil, e
		}
		if inc.Roles == nil {
			inc.Roles = map[string]string{}
		}
		inc.Roles[CommanderRole] = actor
		return []Event{{Kind: KindRole, Actor: actor, Data: map[string]string{"role": CommanderRole, "user": actor, "previous": ""}}}, nil
	})
}

// SetStatus moves an open incident to investigating, identified or
// monitoring. Moving backwards is allowed and recorded as such.
func (s *Service) SetStatus(ctx context.Context, number int64, actor string, status Status) (*Incident, error) {
	switch {
	case status == Resolved:
		return nil, hintErrorf(EINVALID, "resolve [summary]", "To resolve an incident use {cmd}.")
	case status == Closed:
		return nil, hintErrorf(EINVALID, "close", "An incident is closed with {cmd}, after it is resolved and has a postmortem.")
	case !slices.Contains(settable, status):
		_, err := ParseStatus(string(status))
		return nil, err
	}
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		if !inc.Status.Open() {
			return nil, hintErrorf(ECONFLICT, "reopen", "Incident #%d is %s. Use {cmd} to work on it again.", inc.Number, inc.Status)
		}
		if inc.Status == status {
			return nil, Errorf(EINVALID, "Incident #%d is already %s.", inc.Number, status)
		}
		data := map[string]string{"from": string(inc.Status), "to": string(status)}
		if status.rank() < inc.Status.rank() {
			data["regression"] = "true"
		}
		inc.Status = status
		return []Event{{Kind: KindStatus, Actor: actor, Data: data}}, nil
	})
}

// SetSeverity changes the incident's severity.
func (s *Service) SetSeverity(ctx context.Context, number int64, actor, severity string) (*Incident, error) {
	if _, err := s.cfg.Severity(severity); err != nil {
		return nil, err
	}
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		if err := s.cfg.mayChange(inc, actor, "change the severity of"); err != nil {
			return nil, err
		}
		if inc.Severity == severity {
			return nil, Errorf(EINVALID, "Incident #%d is already %s.", inc.Number, severity)
		}
		from := inc.Severity
		if was, _ := s.cfg.Severity(from); was.Cadence == 0 {
			// No update was expected until now: the update clock starts
			// with the change, rather than finding the incident overdue
			// since it was declared.
			inc.LastUpdateAt, inc.UpdatePrompts = now, 0
		}
		inc.Severity = severity
		inc.UpdateEvery = 0 // the new severity's cadence, not what was promised under the old
		data := map[string]string{"from": from, "to": severity}
		// A more severe incident asks more questions; a less severe one
		// keeps those already asked.
		if added := s.cfg.checklistFor(severity, inc.Checklist); len(added) > 0 {
			inc.Checklist = append(inc.Checklist, added...)
			data["checklist_added"] = strconv.Itoa(len(added))
		}
		// Raised to page_at or above: the on-call is paged now.
		s.autoPage(inc, "", "severity", now)
		return []Event{{Kind: KindSeverity, Actor: actor, Data: data}}, nil
	})
}

// Escalated reports whether moving from severity a to b makes an incident
// more severe.
func (c Config) Escalated(from, to string) bool { return c.severityRank(to) < c.severityRank(from) }

// AddNote adds a note to the timeline.
func (s *Service) AddNote(ctx context.Context, number int64, actor, text string) (*Incident, error) {
	text, err := cleanText("note", text, false)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		return []Event{{Kind: KindNote, Actor: actor, Text: text}}, nil
	})
}

// PostUpdate records a status update: what is known and what is being done.
// The next is due after the severity's cadence.
func (s *Service) PostUpdate(ctx context.Context, number int64, actor, text string) (*Incident, error) {
	return s.PostUpdateNext(ctx, number, actor, text, 0)
}

// MaxUpdateEvery is the longest "next update in" a status update may
// promise.
const MaxUpdateEvery = 24 * time.Hour

// PostUpdateNext records a status update that says when the next will
// come: next sets the incident's next update prompt (and what the card
// shows as due) in place of the severity's cadence, until the next update.
// Zero means the severity's cadence.
func (s *Service) PostUpdateNext(ctx context.Context, number int64, actor, text string, next time.Duration) (*Incident, error) {
	text, err := cleanText("update", text, false)
	if err != nil {
		return nil, err
	}
	if next < 0 || next > MaxUpdateEvery || next%time.Minute != 0 {
		return nil, &Error{Code: EINVALID, Field: "next update", Message: "The next update must be due within a day, in whole minutes."}
	}
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		inc.LastUpdateAt, inc.UpdatePrompts = now, 0 // the prompt clock starts again
		inc.UpdateEvery = next
		// The update is shown later with the severity and status it was
		// written under, whatever they are by then.
		data := map[string]string{"severity": inc.Severity, "status": string(inc.Status)}
		if next > 0 {
			data["next"] = next.String()
		}
		return []Event{{Kind: KindUpdate, Actor: actor, Text: text, Data: data}}, nil
	})
}

// Resolve marks an open incident resolved, with an optional summary, and
// records the fields edits set (the resolve form asks for the impact,
// the root cause and what mitigated it) in the same change.
func (s *Service) Resolve(ctx context.Context, number int64, actor, summary string, edits ...Edit) (*Incident, error) {
	summary, err := cleanText("summary", summary, true)
	if err != nil {
		return nil, err
	}
	edits, err = cleanEdits(edits)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		if err := s.cfg.mayChange(inc, actor, "resolve"); err != nil {
			return nil, err
		}
		if !inc.Status.Open() {
			return nil, Errorf(ECONFLICT, "Incident #%d is already %s.", inc.Number, inc.Status)
		}
		from := inc.Status
		inc.Status = Resolved
		inc.ResolvedAt = now
		inc.PostmortemAt, inc.PostmortemPrompts = time.Time{}, 0 // a postmortem must cover the whole incident
		if summary != "" {
			inc.Summary = summary
		}
		evs, err := applyEdits(inc, actor, edits)
		if err != nil {
			return nil, err
		}
		evs = append(evs, Event{Kind: KindResolved, Actor: actor, Text: summary, Data: map[string]string{"from": string(from)}})
		return append(evs, cancelPages(inc)...), nil
	})
}

// Reopen takes a resolved incident back to investigating, with an optional
// reason.
func (s *Service) Reopen(ctx context.Context, number int64, actor, reason string) (*Incident, error) {
	reason, err := cleanText("reason", reason, true)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		if err := s.cfg.mayChange(inc, actor, "reopen"); err != nil {
			return nil, err
		}
		if inc.Status != Resolved {
			return nil, Errorf(ECONFLICT, "Incident #%d is %s, not resolved; only a resolved incident can be reopened.", inc.Number, inc.Status)
		}
		inc.Status = Investigating
		inc.ResolvedAt, inc.PostmortemAt = time.Time{}, time.Time{}
		inc.LastUpdateAt, inc.UpdatePrompts, inc.UpdateEvery = now, 0, 0
		return []Event{{Kind: KindReopened, Actor: actor, Text: reason, Data: map[string]string{"from": string(Resolved)}}}, nil
	})
}

// RecordPostmortem notes on the timeline that a postmortem was published,
// and where. Publishing again records a new version. A postmortem of an
// incident that is not resolved yet is a draft: it is recorded as one, and
// does not let the incident be closed (nor stop the prompts for the
// postmortem), since the postmortem must cover the whole incident.
func (s *Service) RecordPostmortem(ctx context.Context, number int64, actor, link string) (*Incident, error) {
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		ev := Event{Kind: KindPostmortem, Actor: actor, Source: link}
		if IsDraft(inc) {
			ev.Data = map[string]string{"draft": "true"}
			return []Event{ev}, nil
		}
		inc.PostmortemAt = now
		return append([]Event{ev}, s.exportAll(inc)...), nil
	})
}

// IsDraft reports whether a postmortem of inc written now is a draft: the
// incident is not resolved yet.
func IsDraft(inc *Incident) bool { return inc.Status.Open() }

// Close closes a resolved incident once its postmortem exists. Its record
// is then final.
func (s *Service) Close(ctx context.Context, number int64, actor string) (*Incident, error) {
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		if err := s.cfg.mayChange(inc, actor, "close"); err != nil {
			return nil, err
		}
		if inc.Status != Resolved {
			return nil, Errorf(ECONFLICT, "Incident #%d is %s; resolve it, publish its postmortem, then close it.", inc.Number, inc.Status)
		}
		if inc.PostmortemAt.IsZero() {
			return nil, hintErrorf(ECONFLICT, "postmortem", "Incident #%d has no postmortem since it was last resolved. Publish it with {cmd}, then close.", number)
		}
		if inc.Public.PublicOpen() {
			// A closed incident takes no more changes: closing it now
			// would leave customers reading that it is still going on.
			return nil, hintErrorf(ECONFLICT, "publish", "The status page still shows incident #%d as ongoing. Publish its public resolution with {cmd}, then close.", number)
		}
		inc.Status = Closed
		inc.ClosedAt = now
		return []Event{{Kind: KindClosed, Actor: actor}}, nil
	})
}

// Message is a chat message to put on the timeline.
type Message struct {
	At     time.Time // when it was written
	Author string    // user ID of who wrote it
	Text   string
	Link   string // permalink
	Key    string // identifies the message, so it is recorded once
}

// AddMessage puts a chat message on the timeline at the time it was
// written. A message already there is refused with ECONFLICT and Field
// "key".
func (s *Service) AddMessage(ctx context.Context, number int64, actor string, m Message) (*Incident, error) {
	if err := checkChars("message", m.Text); err != nil {
		return nil, err
	}
	text := strings.TrimSpace(newlines.Replace(m.Text))
	if err := checkControls("message", text); err != nil {
		return nil, err
	}
	if text == "" {
		return nil, Errorf(EINVALID, "That message has no text to record.")
	}
	if n := utf8.RuneCountInString(text); n > MaxText {
		text = string([]rune(text)[:MaxText-1]) + "…" // kept whole behind its link
	}
	if m.At.IsZero() || m.Key == "" {
		return nil, Errorf(EINVALID, "A message needs its time and identity.")
	}
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		return []Event{{Kind: KindMessage, Actor: actor, Text: text, Source: m.Link, Key: m.Key,
			At: m.At.UTC(), Data: map[string]string{"author": m.Author}}}, nil
	})
}

// Claim reports whether key is claimed for the first time; see Store.Claim.
func (s *Service) Claim(ctx context.Context, key string) (bool, error) {
	return s.store.Claim(ctx, key, s.now().UTC())
}

// Get returns incident number.
func (s *Service) Get(ctx context.Context, number int64) (*Incident, error) {
	return s.store.Get(ctx, number)
}

// List returns incidents, newest first.
func (s *Service) List(ctx context.Context, f ListFilter) ([]*Incident, error) {
	return s.store.List(ctx, f)
}

// Timeline returns the incident's events in the order things happened: by
// the time of the fact, then by the order they were recorded.
func (s *Service) Timeline(ctx context.Context, number int64) (*Incident, []Event, error) {
	inc, err := s.store.Get(ctx, number)
	if err != nil {
		return nil, nil, err
	}
	evs, err := s.store.Events(ctx, inc.ID, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("timeline of #%d: %w", number, err)
	}
	evs = slices.DeleteFunc(evs, func(e Event) bool { return !e.Kind.OnTimeline() })
	slices.SortStableFunc(evs, func(a, b Event) int { return a.At.Compare(b.At) })
	return inc, evs, nil
}

// Events returns the incident's events recorded after seq, in the order they
// were recorded. Adapters use it to deliver what they have not yet.
func (s *Service) Events(ctx context.Context, incidentID string, afterSeq int64) ([]Event, error) {
	return s.store.Events(ctx, incidentID, afterSeq)
}
