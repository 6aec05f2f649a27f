package incident

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"
)

// What customers read about an incident lives apart from everything else
// the incident holds: nothing reaches the public status page until a
// person publishes it, and then only a public title, a status, the affected
// components and a message. Notes, names and the timeline never do.

// PublicStatus is an incident's status as the status page says it, in the
// words of Atlassian Statuspage (and seed 004).
type PublicStatus string

// The public statuses, in the order an incident usually moves through them.
const (
	PublicInvestigating PublicStatus = "investigating"
	PublicIdentified    PublicStatus = "identified"
	PublicMonitoring    PublicStatus = "monitoring"
	PublicResolved      PublicStatus = "resolved"
)

// PublicStatuses lists the public statuses in order, for forms.
var PublicStatuses = []PublicStatus{PublicInvestigating, PublicIdentified, PublicMonitoring, PublicResolved}

// Label is the status as a page heading writes it ("Identified").
func (s PublicStatus) Label() string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// ComponentStatus is a component's state on the status page, in
// Statuspage's words.
type ComponentStatus string

// The component statuses, from best to worst.
const (
	Operational         ComponentStatus = "operational"
	DegradedPerformance ComponentStatus = "degraded_performance"
	PartialOutage       ComponentStatus = "partial_outage"
	MajorOutage         ComponentStatus = "major_outage"
)

// ComponentStatuses lists the component statuses from best to worst.
var ComponentStatuses = []ComponentStatus{Operational, DegradedPerformance, PartialOutage, MajorOutage}

// Rank orders component statuses: 0 for operational, 3 for a major
// outage, -1 for a word that is none of them.
func (s ComponentStatus) Rank() int { return slices.Index(ComponentStatuses, s) }

// Label is the status as a person reads it ("Partial outage").
func (s ComponentStatus) Label() string {
	switch s {
	case Operational:
		return "Operational"
	case DegradedPerformance:
		return "Degraded performance"
	case PartialOutage:
		return "Partial outage"
	case MajorOutage:
		return "Major outage"
	}
	return string(s)
}

// Component is one part of the product the status page shows, from the
// configuration. Services are the incident's affected services that map
// to it, so that a publish form can offer the components an incident
// touches.
type Component struct {
	Name        string   `yaml:"name"`
	Group       string   `yaml:"group"`
	Description string   `yaml:"description"`
	Services    []string `yaml:"services"`
}

// PublicConfig shapes publishing: the components customers see, and
// whether a publish needs a second person's approval.
type PublicConfig struct {
	Components []Component
	// Approval makes every publish a draft that the commander or the
	// comms role, never its author, approves before it goes out.
	Approval bool
	// URL is where the public reads the page ("" when unknown), for the
	// links adapters show beside what was published.
	URL string
	// On says that publishing goes somewhere: the status page is served,
	// or mirrored to a hosted one. Adapters offer publishing only then.
	On bool
}

// Component returns the configured component named name.
func (c PublicConfig) Component(name string) (Component, bool) {
	i := slices.IndexFunc(c.Components, func(k Component) bool { return k.Name == name })
	if i < 0 {
		return Component{}, false
	}
	return c.Components[i], true
}

// ComponentsFor returns the names of the components the services map to,
// in configured order.
func (c PublicConfig) ComponentsFor(services []string) []string {
	var out []string
	for _, k := range c.Components {
		for _, s := range k.Services {
			if slices.ContainsFunc(services, func(v string) bool { return strings.EqualFold(v, s) }) {
				out = append(out, k.Name)
				break
			}
		}
	}
	return out
}

// validate reports the first problem with the components.
func (c PublicConfig) validate() error {
	seen := map[string]bool{}
	for i, k := range c.Components {
		name := strings.TrimSpace(k.Name)
		switch {
		case name == "":
			return fmt.Errorf("status_page.components[%d].name: required", i)
		case name != k.Name || strings.ContainsAny(name, "\n\r"):
			return fmt.Errorf("status_page.components[%d].name %q: one line without leading or trailing spaces", i, k.Name)
		case len([]rune(name)) > maxListItem:
			return fmt.Errorf("status_page.components[%d].name: at most %d characters", i, maxListItem)
		case seen[name]:
			return fmt.Errorf("status_page.components[%d].name %q: listed twice", i, name)
		}
		seen[name] = true
	}
	return nil
}

// ComponentImpact is one component's status in a public update.
type ComponentImpact struct {
	Name   string          `json:"name"`
	Status ComponentStatus `json:"status"`
}

// PublicUpdate is one update as the public reads it, or a draft of one.
type PublicUpdate struct {
	Title      string            `json:"title"`
	Status     PublicStatus      `json:"status"`
	Components []ComponentImpact `json:"components,omitempty"`
	Message    string            `json:"message"`
	// By is who wrote it and ApprovedBy who approved it ("" when no
	// approval was needed): user IDs, kept for the rules and the
	// timeline, never shown to the public.
	By         string    `json:"by"`
	ApprovedBy string    `json:"approved_by,omitempty"`
	At         time.Time `json:"at"` // when it was published (a draft: written)
}

// PublicPage is what an incident has published: its public identifier, the
// updates the public has seen, oldest first, and a draft waiting for
// approval. The zero value means nothing was ever published.
type PublicPage struct {
	// ID names the incident on the status page. It is random, not the
	// incident's number, which would tell the public how many incidents
	// (private ones included) there were.
	ID      string         `json:"id"`
	Updates []PublicUpdate `json:"updates,omitempty"`
	Draft   *PublicUpdate  `json:"draft,omitempty"`
}

// Published reports whether anything was ever published.
func (p PublicPage) Published() bool { return len(p.Updates) > 0 }

// Latest returns the latest published update: what the public sees now.
func (p PublicPage) Latest() (PublicUpdate, bool) {
	if len(p.Updates) == 0 {
		return PublicUpdate{}, false
	}
	return p.Updates[len(p.Updates)-1], true
}

// PublicOpen reports whether the public page shows the incident as
// ongoing: published and not yet resolved there.
func (p PublicPage) PublicOpen() bool {
	u, ok := p.Latest()
	return ok && u.Status != PublicResolved
}

// PublishedIncident is an incident as the status page may know it: its
// public page and nothing else.
type PublishedIncident struct {
	IncidentID string
	Page       PublicPage
}

// PublicStore reads what has been published, for the status page.
type PublicStore interface {
	// Published returns the incidents with a published update, whose
	// latest published update is at or after since or which the public
	// page still shows as ongoing, latest first (by the latest published
	// update). It reads no incident that has published nothing.
	Published(ctx context.Context, since time.Time) ([]PublishedIncident, error)
}

// Publication is what a person asks to publish.
type Publication struct {
	Title      string
	Status     PublicStatus
	Components []ComponentImpact
	Message    string
}

// Event kinds of publishing.
const (
	// KindPublished records an update going out to the status page. Text:
	// the message; Data: title, status, components ("name=status" joined
	// by ", "), approved_by when a draft was approved, author of that
	// draft.
	KindPublished EventKind = "published"
	// KindPublicDraft records a draft waiting for approval. Text: the
	// message; Data: title, status, components.
	KindPublicDraft EventKind = "public_draft"
)

// MaxPublicMessage bounds a public message: long enough for seed 004's
// longest update several times over, short enough for one page section.
const MaxPublicMessage = MaxText

// cleanPublication checks a publication against the configured components.
func (c PublicConfig) cleanPublication(p Publication) (Publication, error) {
	title, err := cleanTitle(p.Title)
	if err != nil {
		if e, ok := err.(*Error); ok {
			e.Field, e.Hint = "public title", ""
			if title == "" && strings.TrimSpace(p.Title) == "" {
				e.Message = "A public update needs a title customers will read, such as \"Elevated error rates on checkout\"."
			}
		}
		return Publication{}, err
	}
	if !slices.Contains(PublicStatuses, p.Status) {
		return Publication{}, &Error{Code: EINVALID, Field: "public status", Message: fmt.Sprintf("%q is not a public status; use investigating, identified, monitoring or resolved.", p.Status)}
	}
	msg, err := cleanText("public message", p.Message, false)
	if err != nil {
		return Publication{}, err
	}
	var comps []ComponentImpact
	for _, ci := range p.Components {
		if _, ok := c.Component(ci.Name); !ok {
			names := make([]string, len(c.Components))
			for i, k := range c.Components {
				names[i] = k.Name
			}
			msg := fmt.Sprintf("%q is not a component of the status page.", ci.Name)
			if len(names) > 0 {
				msg += " The components are: " + strings.Join(names, ", ") + "."
			}
			return Publication{}, &Error{Code: EINVALID, Field: "components", Message: msg}
		}
		if ci.Status.Rank() < 0 {
			return Publication{}, &Error{Code: EINVALID, Field: "components", Message: fmt.Sprintf("%q is not a component status; use operational, degraded_performance, partial_outage or major_outage.", ci.Status)}
		}
		if slices.ContainsFunc(comps, func(x ComponentImpact) bool { return x.Name == ci.Name }) {
			return Publication{}, &Error{Code: EINVALID, Field: "components", Message: fmt.Sprintf("%q is listed twice; give each component one status.", ci.Name)}
		}
		comps = append(comps, ci)
	}
	if p.Status == PublicResolved {
		// A resolved incident affects nothing any more: the page shows
		// every component it named as operational again.
		for i := range comps {
			comps[i].Status = Operational
		}
	}
	return Publication{Title: title, Status: p.Status, Components: comps, Message: msg}, nil
}

// mayPublish refuses incidents that must never reach the public.
func mayPublish(inc *Incident) error {
	switch {
	case inc.Private:
		return Errorf(EFORBIDDEN, "Incident #%d is private; private incidents are never published to the status page.", inc.Number)
	case inc.Drill:
		return Errorf(EFORBIDDEN, "Incident #%d is a drill; drills are never published to the status page.", inc.Number)
	}
	return nil
}

// Publish publishes p to the status page, or, when approval is on, records
// it as the draft awaiting approval (replacing an earlier draft). It
// refuses private incidents and drills.
func (s *Service) Publish(ctx context.Context, number int64, actor string, p Publication) (*Incident, error) {
	p, err := s.cfg.Public.cleanPublication(p)
	if err != nil {
		return nil, err
	}
	if actor == "" {
		return nil, Errorf(EINVALID, "A public update needs an author.")
	}
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		if err := mayPublish(inc); err != nil {
			return nil, err
		}
		if !inc.Public.Published() && p.Status == PublicResolved {
			return nil, &Error{Code: EINVALID, Field: "public status", Message: fmt.Sprintf("Nothing about incident #%d has been published, so there is nothing to resolve publicly; choose investigating, identified or monitoring to publish it.", inc.Number)}
		}
		u := PublicUpdate{Title: p.Title, Status: p.Status, Components: p.Components, Message: p.Message, By: actor, At: now}
		data := publicData(u)
		if s.cfg.Public.Approval {
			inc.Public.Draft = &u
			return []Event{{Kind: KindPublicDraft, Actor: actor, Text: u.Message, Data: data}}, nil
		}
		publish(inc, u)
		return []Event{{Kind: KindPublished, Actor: actor, Text: u.Message, Data: data}}, nil
	})
}

// ApproveDraft publishes the draft awaiting approval, the one written at
// drafted (zero: whichever is waiting), so that nobody approves words they
// did not see. Only the commander or whoever holds the comms role may
// approve, and never the draft's author: a second person reads every word
// before customers do.
func (s *Service) ApproveDraft(ctx context.Context, number int64, actor string, drafted time.Time) (*Incident, error) {
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		if err := mayPublish(inc); err != nil {
			return nil, err
		}
		d := inc.Public.Draft
		if d == nil {
			return nil, Errorf(ECONFLICT, "Incident #%d has no public update waiting for approval.", inc.Number)
		}
		if !drafted.IsZero() && !d.At.Equal(drafted) {
			return nil, Errorf(ECONFLICT, "That draft of incident #%d was replaced by a newer one; read and approve the newer one.", inc.Number)
		}
		if err := mayApprove(inc, actor, d.By); err != nil {
			return nil, err
		}
		u := *d
		u.ApprovedBy, u.At = actor, now
		inc.Public.Draft = nil
		publish(inc, u)
		data := publicData(u)
		data["approved_by"], data["author"] = actor, u.By
		return []Event{{Kind: KindPublished, Actor: actor, Text: u.Message, Data: data}}, nil
	})
}

// MayApprove is the approval rule, for adapters that ask before showing
// a draft's controls or opening its form.
func MayApprove(inc *Incident, actor string) error {
	if inc.Public.Draft == nil {
		return Errorf(ECONFLICT, "Incident #%d has no public update waiting for approval.", inc.Number)
	}
	return mayApprove(inc, actor, inc.Public.Draft.By)
}

func mayApprove(inc *Incident, actor, author string) error {
	if actor == author {
		return Errorf(EFORBIDDEN, "You wrote this public update, so someone else approves it: the commander or whoever holds comms.")
	}
	if actor != inc.Roles[CommanderRole] && (inc.Roles["comms"] == "" || actor != inc.Roles["comms"]) {
		e := Errorf(EFORBIDDEN, "Only the commander ({commander}) or comms may approve a public update of incident #%d.", inc.Number)
		e.People = map[string][]string{"commander": {inc.Roles[CommanderRole]}}
		return e
	}
	return nil
}

// publish appends u to the published updates, naming the page on the
// first.
func publish(inc *Incident, u PublicUpdate) {
	if inc.Public.ID == "" {
		inc.Public.ID = newPublicID()
	}
	inc.Public.Updates = append(inc.Public.Updates, u)
}

// publicData is an update's timeline data.
func publicData(u PublicUpdate) map[string]string {
	d := map[string]string{"title": u.Title, "status": string(u.Status)}
	if len(u.Components) > 0 {
		parts := make([]string, len(u.Components))
		for i, c := range u.Components {
			parts[i] = c.Name + "=" + string(c.Status)
		}
		d["components"] = strings.Join(parts, ", ")
	}
	return d
}

// publicIDAlphabet is Statuspage's: its incident IDs are 12 lowercase
// letters and digits, and readers of its API may expect the form.
const publicIDAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

func newPublicID() string {
	b := make([]byte, 12)
	rand.Read(b) // never fails (crypto/rand documents it)
	for i := range b {
		b[i] = publicIDAlphabet[int(b[i])%len(publicIDAlphabet)]
	}
	return string(b)
}

// Published returns what has been published since since, and everything
// still ongoing on the public page.
func (s *Service) Published(ctx context.Context, since time.Time) ([]PublishedIncident, error) {
	return s.store.Published(ctx, since)
}
