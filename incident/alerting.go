package incident

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AlertAction is what a route makes of the alerts it matches.
type AlertAction string

// Alert actions.
const (
	// ActionDeclare declares an incident on a group's first firing
	// alert and attaches the group's later alerts to it.
	ActionDeclare AlertAction = "declare"
	// ActionTriage records the group's alerts for people to decide on.
	ActionTriage AlertAction = "triage"
	// ActionIgnore records the alerts and does nothing else.
	ActionIgnore AlertAction = "ignore"
)

// Alert defaults (INTEGRATIONS.md).
const (
	DefaultMaxDeclaresPerMinute = 5
	DefaultReopenWithin         = 30 * time.Minute
)

// RoutedAlert is an alert with what its route decided: the adapters route
// (matchers are not the domain's business), the Service acts.
type RoutedAlert struct {
	Alert
	Route       string // the route's name
	Action      AlertAction
	Severity    string   // "" means the configured default
	Services    []string // affected services of an incident it declares
	AutoResolve bool     // resolve the incident once all its alerts have
	Page        string   // the escalation policy an incident it declares pages
	// Group names the alerts that make one incident. Alerts of different
	// routes never share a group.
	Group string
	// Hold is the route's noise controls: what a declare group must show
	// before it declares.
	Hold AlertHold
}

// DefaultHoldWindow is the window of min_alerts when the route gives none.
const DefaultHoldWindow = 5 * time.Minute

// AlertHold is a declare route's noise controls (INTEGRATIONS.md: min_alerts,
// window, for). Until a group meets them it waits in triage, where people
// can still declare or dismiss it; once it meets them it declares itself.
// With both set, both must hold.
type AlertHold struct {
	// MinAlerts is how many of the group's alerts must have started firing
	// within Window (and still fire); 0 or 1 means the first is enough.
	MinAlerts int
	Window    time.Duration
	// For is how long the group must have kept firing, counted from when
	// Sitrep first heard it fire (senders' own start times are not
	// trusted: a Sentry issue's first sighting can be days old).
	For time.Duration
}

// Holds reports whether h holds anything back.
func (h AlertHold) Holds() bool { return h.MinAlerts > 1 || h.For > 0 }

func (h AlertHold) window() time.Duration {
	if h.Window > 0 {
		return h.Window
	}
	return DefaultHoldWindow
}

// Describe says what h waits for, for people: "3 alerts within 5m",
// "firing for 10m", or both.
func (h AlertHold) Describe() string {
	var parts []string
	if h.MinAlerts > 1 {
		parts = append(parts, fmt.Sprintf("%d alerts firing within %s", h.MinAlerts, shortDuration(h.window())))
	}
	if h.For > 0 {
		parts = append(parts, "firing for "+shortDuration(h.For))
	}
	return strings.Join(parts, " and ")
}

// shortDuration writes d as people write it: 5m, 1h30m, 45s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// AlertRules are the limits on what alerts do, from the configuration.
type AlertRules struct {
	// MaxDeclaresPerMinute caps the incidents alerts declare in any
	// minute; past it, groups go to triage.
	MaxDeclaresPerMinute int
	// ReopenWithin is how soon after its incident resolved a group that
	// fires again reopens it rather than declaring another.
	ReopenWithin time.Duration
}

// StoredAlert is an alert as recorded, with what became of it.
type StoredAlert struct {
	Alert
	Route      string
	Action     AlertAction
	Group      string
	IncidentID string // the incident it is attached to; "" for none
	// ReceivedAt is when it was first received, UpdatedAt when it last
	// changed status.
	ReceivedAt time.Time
	UpdatedAt  time.Time
}

// Group states (AlertGroup.State).
const (
	GroupIncident  = "incident"  // the group has an incident (IncidentID)
	GroupTriage    = "triage"    // waiting for people to decide
	GroupDismissed = "dismissed" // someone decided it needs no incident
)

// AlertGroup is what a group of alerts became.
type AlertGroup struct {
	Key            string
	Route          string
	State          string // GroupIncident, GroupTriage or GroupDismissed
	IncidentID     string // its incident, when State is GroupIncident
	IncidentNumber int64
	// Capped is set when the group went to triage only because alerts
	// had declared as many incidents as allowed that minute.
	Capped bool
	// Severity and Services are the route's, for an incident declared
	// from triage.
	Severity string
	Services []string
	// DecidedBy is who declared or dismissed the group from triage.
	DecidedBy string
	// Waiting is set while the group waits in triage for its route's
	// noise controls (Hold); it then declares itself, unless people
	// decide first. Gathered says the group has reached Hold.MinAlerts
	// since it began firing; DeclareAt is when it will have fired for
	// Hold.For (zero while it does not fire). Both reset when all its
	// alerts resolve.
	Waiting   bool
	Hold      AlertHold
	Gathered  bool
	DeclareAt time.Time
	// Version counts the group's changes (alerts arriving or resolving, a
	// decision); the triage message shows TriageShown of them.
	Version int64
	// The group's message in the triage channel: its ts, the Version it
	// shows, and whether it is being posted (Slack's answer may be lost:
	// the message is looked for before posting again).
	TriageTS      string
	TriageShown   int64
	TriagePosting bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// AlertStore records alerts and what they cause.
type AlertStore interface {
	// RecordAlerts runs fn in one write transaction and commits what it
	// did through tx, or nothing if fn returns an error. fn must not use
	// the Store itself, only tx.
	RecordAlerts(ctx context.Context, fn func(tx AlertTx) error) error
	// IncidentAlerts returns the alerts attached to an incident, in the
	// order they were first received.
	IncidentAlerts(ctx context.Context, incidentID string) ([]StoredAlert, error)
	// GroupAlerts returns the alerts of a group, first received first.
	GroupAlerts(ctx context.Context, key string) ([]StoredAlert, error)
	// AlertSummary returns how many of an incident's alerts fire and how
	// many have resolved, and up to limit of them, the firing ones first,
	// then the latest to change first (ties in the order first received):
	// what its alert summary shows, without reading every alert of a
	// storm.
	AlertSummary(ctx context.Context, incidentID string, limit int) (firing, resolved int, shown []StoredAlert, err error)
	// RecordedAlerts returns every alert recorded, first received first,
	// each with the sender's own grouping (Alert.Group) as received.
	RecordedAlerts(ctx context.Context) ([]StoredAlert, error)
	// TriageBehind returns the groups whose triage message is behind
	// them: in triage, or with a message already, and changed since the
	// message last showed them.
	TriageBehind(ctx context.Context) ([]AlertGroup, error)
	// SaveTriage records what the group's triage message is and shows,
	// changing nothing else of the group.
	SaveTriage(ctx context.Context, key, ts string, shown int64, posting bool) error
	// TriageShown returns the groups in triage whose message has been
	// posted, first made first.
	TriageShown(ctx context.Context) ([]AlertGroup, error)
	// HeldGroups returns the keys of the Waiting groups that time alone
	// has made ready (DeclareAt at or before now, and Gathered unless
	// Hold.MinAlerts is 1 or less), earliest DeclareAt first, and the
	// earliest DeclareAt after now of any Waiting group (zero when there
	// is none).
	HeldGroups(ctx context.Context, now time.Time) (due []string, next time.Time, err error)
}

// AlertTx is a write transaction of RecordAlerts. (source, key) names one
// alert and a key one group: storing either a second time replaces it, so
// a delivery repeated, even at the same instant, records nothing twice.
type AlertTx interface {
	// Alert returns the alert recorded under source and key, or nil.
	Alert(source, key string) (*StoredAlert, error)
	// Alerts returns those of the alerts named by keys that are recorded,
	// in no particular order: a batch reads its alerts' previous state in
	// one query rather than one per alert.
	Alerts(keys []AlertKey) ([]StoredAlert, error)
	PutAlert(a *StoredAlert) error
	// Group returns the group called key, or nil.
	Group(key string) (*AlertGroup, error)
	PutGroup(g *AlertGroup) error
	// Firing counts the alerts attached to an incident that still fire.
	Firing(incidentID string) (int, error)
	// GroupFiring counts the alerts of a group that fire and last
	// changed status (began firing) at or after since.
	GroupFiring(key string, since time.Time) (int, error)
	// DeclaredSince counts the incidents declared for a source (not by a
	// person) at or after t.
	DeclaredSince(t time.Time) (int, error)
	// Incident returns the incident with that ID, or nil.
	Incident(id string) (*Incident, error)
	// GroupAlerts is AlertStore's, inside this transaction.
	GroupAlerts(key string) ([]StoredAlert, error)
	// Create and Update are IncidentStore's, inside this transaction.
	Create(inc *Incident, events []Event) error
	Update(number int64, fn func(*Incident) ([]Event, error)) (*Incident, error)
}

// AlertOutcome says what a batch of alerts did.
type AlertOutcome struct {
	Recorded int     // alerts new or changed
	Declared []int64 // incidents declared
	Attached int     // alerts attached to an incident
	Reopened []int64
	Resolved []int64 // incidents resolved because all their alerts did
	// Capped lists the groups sent to triage because of the cap on
	// declarations, each once: the first time it was capped.
	Capped []string
}

// ReceiveAlerts records a batch of routed alerts and what they cause, in
// one transaction: alerts upserted by (source, key), a resend changing
// nothing; the first firing alert of a declare group declaring an incident
// (declared by Sitrep for the source), later ones attaching to it; a group
// firing again soon after its incident resolved reopening it; resolved
// alerts on the timeline, and, when all of an incident's alerts have
// resolved, the commander asked to resolve it (or the incident resolved,
// with AutoResolve).
func (s *Service) ReceiveAlerts(ctx context.Context, alerts []RoutedAlert, rules AlertRules) (AlertOutcome, error) {
	if rules.MaxDeclaresPerMinute <= 0 {
		rules.MaxDeclaresPerMinute = DefaultMaxDeclaresPerMinute
	}
	if rules.ReopenWithin <= 0 {
		rules.ReopenWithin = DefaultReopenWithin
	}
	for i, a := range alerts {
		switch a.Action {
		case ActionDeclare, ActionTriage, ActionIgnore:
		default:
			return AlertOutcome{}, Errorf(EINVALID, "Alert %d has the action %q: use %s, %s or %s.", i+1, a.Action, ActionDeclare, ActionTriage, ActionIgnore)
		}
		if a.Severity != "" {
			if _, err := s.cfg.Severity(a.Severity); err != nil {
				return AlertOutcome{}, err
			}
		}
	}
	var (
		out     AlertOutcome
		changed map[string]*Incident
	)
	err := s.store.RecordAlerts(ctx, func(tx AlertTx) error {
		out, changed = AlertOutcome{}, map[string]*Incident{}
		tx, err := readAhead(tx, alerts)
		if err != nil {
			return err
		}
		b := &alertBatch{svc: s, tx: tx, rules: rules, now: s.now().UTC(), out: &out, pending: map[string]*pendingAlerts{}, changed: changed}
		for _, a := range alerts {
			if err := b.receive(a); err != nil {
				return err
			}
		}
		return b.finish()
	})
	if err != nil {
		return AlertOutcome{}, err
	}
	numbers := make([]*Incident, 0, len(changed))
	for _, inc := range changed {
		numbers = append(numbers, inc)
	}
	slices.SortFunc(numbers, func(a, b *Incident) int { return int(a.Number - b.Number) })
	for _, inc := range numbers {
		s.committed(inc)
	}
	return out, nil
}

// IncidentAlerts returns the alerts attached to incident number, in the
// order they were first received.
func (s *Service) IncidentAlerts(ctx context.Context, number int64) ([]StoredAlert, error) {
	inc, err := s.store.Get(ctx, number)
	if err != nil {
		return nil, err
	}
	return s.store.IncidentAlerts(ctx, inc.ID)
}

// IncidentAlertSummary returns how many of incident number's alerts fire
// and have resolved, and up to limit of them, firing first, latest change
// first.
func (s *Service) IncidentAlertSummary(ctx context.Context, number int64, limit int) (firing, resolved int, shown []StoredAlert, err error) {
	inc, err := s.store.Get(ctx, number)
	if err != nil {
		return 0, 0, nil, err
	}
	return s.store.AlertSummary(ctx, inc.ID, limit)
}

// alertBatch is one ReceiveAlerts transaction at work.
type alertBatch struct {
	svc     *Service
	tx      AlertTx
	rules   AlertRules
	now     time.Time
	out     *AlertOutcome
	pending map[string]*pendingAlerts // by incident ID
	order   []string                  // incident IDs in the order first touched
	changed map[string]*Incident      // incidents created or changed, by ID
	// declared counts the declarations of the minute up to now, once read.
	declared int
	counted  bool
}

// pendingAlerts is what the batch will change of one incident.
type pendingAlerts struct {
	inc         *Incident
	events      []Event
	reopen      string // the title of the alert that reopens it
	resolvedAny bool   // an attached alert resolved in this batch
	autoResolve bool
}

func (b *alertBatch) touch(inc *Incident) *pendingAlerts {
	p := b.pending[inc.ID]
	if p == nil {
		p = &pendingAlerts{inc: inc}
		b.pending[inc.ID] = p
		b.order = append(b.order, inc.ID)
	}
	return p
}

var chatEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// alertEvent is the timeline event of an alert firing or resolving.
func alertEvent(a RoutedAlert, at time.Time) Event {
	// Timeline text is kept in chat markup (see KindMessage): a sender's
	// title is plain text, so its &, < and > are escaped.
	return Event{At: at, Kind: KindAlert, Text: chatEscaper.Replace(a.Title), Data: map[string]string{
		"source": a.Source, "key": a.Key, "status": string(a.Status), "route": a.Route,
	}}
}

func (b *alertBatch) receive(a RoutedAlert) error {
	tx := b.tx
	prev, err := tx.Alert(a.Source, a.Key)
	if err != nil {
		return err
	}
	if prev != nil && prev.Status == a.Status {
		return nil // a resend, or a repeat notification: nothing new
	}
	stored := &StoredAlert{Alert: a.Alert, Route: a.Route, Action: a.Action, Group: a.Group, ReceivedAt: b.now, UpdatedAt: b.now}
	if prev != nil {
		stored.ReceivedAt = prev.ReceivedAt
		// An alert stays with the incident it was attached to: its
		// resolving belongs on that timeline.
		stored.IncidentID, stored.Group = prev.IncidentID, prev.Group
	}
	b.out.Recorded++
	if a.Status == AlertResolved {
		if stored.IncidentID != "" {
			inc, err := b.incident(stored.IncidentID)
			if err != nil {
				return err
			}
			if inc != nil && inc.Status != Closed {
				p := b.touch(inc)
				p.events = append(p.events, alertEvent(a, b.now))
				p.resolvedAny = true
				p.autoResolve = p.autoResolve || a.AutoResolve
			}
		} else if err := b.touchGroup(stored.Group, prev != nil && prev.Status == AlertFiring); err != nil {
			return err
		}
		return tx.PutAlert(stored)
	}
	// Firing.
	if a.Action == ActionIgnore {
		return tx.PutAlert(stored)
	}
	g, err := tx.Group(stored.Group)
	if err != nil {
		return err
	}
	if g == nil {
		g = &AlertGroup{Key: stored.Group, Route: a.Route, CreatedAt: b.now}
	}
	g.Severity, g.Services = a.Severity, a.Services
	if g.State == GroupIncident && g.IncidentID != "" {
		inc, err := b.incident(g.IncidentID)
		if err != nil {
			return err
		}
		switch {
		case inc == nil || inc.Status == Closed:
		case inc.Status.Open():
			p := b.touch(inc)
			p.events = append(p.events, alertEvent(a, b.now))
			stored.IncidentID = inc.ID
			b.out.Attached++
			return tx.PutAlert(stored)
		case inc.Status == Resolved && !b.now.After(inc.ResolvedAt.Add(b.rules.ReopenWithin)):
			p := b.touch(inc)
			if p.reopen == "" {
				p.reopen = a.Title
			}
			p.events = append(p.events, alertEvent(a, b.now))
			stored.IncidentID = inc.ID
			b.out.Attached++
			return tx.PutAlert(stored)
		}
		// Its incident is long resolved or closed: the group starts over.
		g.State, g.IncidentID, g.IncidentNumber = "", "", 0
	}
	if g.State == GroupTriage && a.Action == ActionDeclare && g.Capped {
		// Capped before: it waits in triage for people; a later
		// declaration would surprise whoever is looking at it.
		return b.put(stored, g)
	}
	switch a.Action {
	case ActionTriage:
		g.State, g.DecidedBy = GroupTriage, ""
		return b.put(stored, g)
	case ActionDeclare:
		if a.Hold.Holds() {
			ready, err := b.hold(g, a.Hold)
			if err != nil {
				return err
			}
			if !ready {
				return b.put(stored, g)
			}
		}
		if capped, err := b.capped(g); err != nil || capped {
			if err != nil {
				return err
			}
			return b.put(stored, g)
		}
		var waited []StoredAlert
		if g.Waiting {
			// The alerts the group gathered while it waited belong to
			// its incident too.
			if waited, err = tx.GroupAlerts(g.Key); err != nil {
				return err
			}
			waited = slices.DeleteFunc(waited, func(w StoredAlert) bool { return w.Source == a.Source && w.Key == a.Key })
		}
		inc, err := b.declare(a, waited)
		if err != nil {
			return err
		}
		for i := range waited {
			waited[i].IncidentID = inc.ID
			if err := tx.PutAlert(&waited[i]); err != nil {
				return err
			}
		}
		g.State, g.IncidentID, g.IncidentNumber, g.Capped = GroupIncident, inc.ID, inc.Number, false
		g.release()
		stored.IncidentID = inc.ID
		return b.put(stored, g)
	}
	return nil
}

// capped reports whether alerts have declared as many incidents this
// minute as allowed, counting g's declaration; if so g goes to triage for
// people, said once. Otherwise it counts g's declaration.
func (b *alertBatch) capped(g *AlertGroup) (bool, error) {
	if !b.counted {
		n, err := b.tx.DeclaredSince(b.now.Add(-time.Minute))
		if err != nil {
			return false, err
		}
		b.declared, b.counted = n, true
	}
	if b.declared >= b.rules.MaxDeclaresPerMinute {
		if !g.Capped {
			b.out.Capped = append(b.out.Capped, g.Key)
		}
		g.State, g.Capped, g.DecidedBy = GroupTriage, true, ""
		g.release()
		return true, nil
	}
	b.declared++
	return false, nil
}

// hold applies a declare route's noise controls to a group one of whose
// alerts has begun firing (not yet stored), and reports whether the group
// may declare now. Until it may, it waits in triage.
func (b *alertBatch) hold(g *AlertGroup, h AlertHold) (bool, error) {
	if !g.Waiting || g.State != GroupTriage {
		g.Gathered, g.DeclareAt = false, time.Time{}
	}
	g.State, g.Waiting, g.Hold, g.DecidedBy = GroupTriage, true, h, ""
	if h.For > 0 && g.DeclareAt.IsZero() {
		g.DeclareAt = b.now.Add(h.For)
	}
	if h.For <= 0 {
		g.DeclareAt = time.Time{}
	}
	if h.MinAlerts > 1 && !g.Gathered {
		// Counted until gathered, so a storm costs MinAlerts counts,
		// not one an alert.
		n, err := b.tx.GroupFiring(g.Key, b.now.Add(-h.window()))
		if err != nil {
			return false, err
		}
		g.Gathered = n+1 >= h.MinAlerts // the alert firing now is not stored yet
	}
	return g.ready(b.now), nil
}

// ready reports whether a waiting group has met its noise controls.
func (g *AlertGroup) ready(now time.Time) bool {
	h := g.Hold
	if h.MinAlerts > 1 && !g.Gathered {
		return false
	}
	return h.For <= 0 || (!g.DeclareAt.IsZero() && !now.Before(g.DeclareAt))
}

// release ends a group's wait.
func (g *AlertGroup) release() {
	g.Waiting, g.Gathered, g.DeclareAt = false, false, time.Time{}
}

// touchGroup notes a change to a group that has no incident (a resolved
// alert of a group in triage), for its triage message.
func (b *alertBatch) touchGroup(key string, wasFiring bool) error {
	g, err := b.tx.Group(key)
	if err != nil || g == nil || g.State == GroupIncident {
		return err
	}
	if g.Waiting && wasFiring {
		// The alert resolving is still stored as firing.
		n, err := b.tx.GroupFiring(key, time.Time{})
		if err != nil {
			return err
		}
		if n <= 1 {
			// The group stopped firing: its wait starts over when it
			// fires again.
			g.Gathered, g.DeclareAt = false, time.Time{}
		}
	}
	g.Version++
	g.UpdatedAt = b.now
	return b.tx.PutGroup(g)
}

func (b *alertBatch) put(a *StoredAlert, g *AlertGroup) error {
	g.UpdatedAt = b.now
	g.Version++
	if err := b.tx.PutGroup(g); err != nil {
		return err
	}
	return b.tx.PutAlert(a)
}

// incident reads an incident in the transaction, or the batch's newer copy.
func (b *alertBatch) incident(id string) (*Incident, error) {
	if p := b.pending[id]; p != nil {
		return p.inc, nil
	}
	if inc := b.changed[id]; inc != nil {
		return inc, nil
	}
	return b.tx.Incident(id)
}

// declare creates the incident of a group's first firing alert. What a
// sender sent is brought within bounds rather than refused: a title that
// cannot be one becomes the alert's source and key, and a description
// that cannot be a summary is left out.
func (b *alertBatch) declare(a RoutedAlert, waited []StoredAlert) (*Incident, error) {
	summary, err := cleanText("summary", cut(a.Annotations["description"], MaxText), true)
	if err != nil {
		summary = ""
	}
	inc, ev, err := b.svc.newIncident(context.Background(), Declaration{
		Title: alertTitle(a.Alert), Severity: a.Severity, Source: a.Source, Services: a.Services, Summary: summary,
		Page: a.Page, Route: a.Route,
	}, b.now)
	if err != nil {
		return nil, err
	}
	ev.Data["route"] = a.Route
	events := []Event{ev}
	for _, w := range waited {
		events = append(events, alertEvent(RoutedAlert{Alert: w.Alert, Route: w.Route}, b.now))
	}
	events = append(events, alertEvent(a, b.now))
	if err := b.tx.Create(inc, events); err != nil {
		return nil, fmt.Errorf("declare for alert %s/%s: %w", a.Source, a.Key, err)
	}
	b.changed[inc.ID] = inc
	b.out.Declared = append(b.out.Declared, inc.Number)
	return inc, nil
}

// alertTitle is the title of an incident an alert declares.
func alertTitle(a Alert) string {
	if _, err := cleanTitle(cut(a.Title, MaxTitle)); err == nil {
		return cut(a.Title, MaxTitle)
	}
	return cut(a.Source+" alert "+a.Key, MaxTitle)
}

// finish stores what the batch changed of each incident, once per incident.
func (b *alertBatch) finish() error {
	for _, id := range b.order {
		p := b.pending[id]
		firing := -1
		if p.resolvedAny {
			n, err := b.tx.Firing(id)
			if err != nil {
				return err
			}
			firing = n
		}
		inc, err := b.tx.Update(p.inc.Number, func(inc *Incident) ([]Event, error) {
			events := p.events
			now := b.now
			if p.reopen != "" && inc.Status == Resolved {
				inc.Status = Investigating
				inc.ResolvedAt, inc.PostmortemAt = time.Time{}, time.Time{}
				inc.LastUpdateAt, inc.UpdatePrompts = now, 0
				events = append([]Event{{At: now, Kind: KindReopened, Text: "The alert " + strconv.Quote(chatEscaper.Replace(p.reopen)) + " fired again.", Data: map[string]string{"from": string(Resolved), "source": inc.Source}}}, events...)
				b.out.Reopened = append(b.out.Reopened, inc.Number)
			}
			if firing == 0 && inc.Status.Open() {
				if p.autoResolve {
					from := inc.Status
					inc.Status, inc.ResolvedAt = Resolved, now
					inc.PostmortemAt, inc.PostmortemPrompts = time.Time{}, 0
					events = append(events, Event{At: now, Kind: KindResolved, Text: "All its alerts resolved.", Data: map[string]string{"from": string(from), "auto": "true"}})
					b.out.Resolved = append(b.out.Resolved, inc.Number)
				} else {
					events = append(events, Event{At: now, Kind: KindAlertsResolved, Data: map[string]string{"commander": inc.Commander()}})
				}
			}
			inc.UpdatedAt = now
			b.svc.cfg.schedule(inc)
			return events, nil
		})
		if err != nil {
			return fmt.Errorf("attach alerts to incident %d: %w", p.inc.Number, err)
		}
		b.changed[id] = inc
	}
	return nil
}

// GroupAlerts returns the alerts of the group called key.
func (s *Service) GroupAlerts(ctx context.Context, key string) ([]StoredAlert, error) {
	return s.store.GroupAlerts(ctx, key)
}

// TriageBehind returns the groups whose triage message is behind them.
func (s *Service) TriageBehind(ctx context.Context) ([]AlertGroup, error) {
	return s.store.TriageBehind(ctx)
}

// TriageShown returns the groups in triage whose message has been posted.
func (s *Service) TriageShown(ctx context.Context) ([]AlertGroup, error) {
	return s.store.TriageShown(ctx)
}

// SaveTriage records what a group's triage message is and shows.
func (s *Service) SaveTriage(ctx context.Context, key, ts string, shown int64, posting bool) error {
	return s.store.SaveTriage(ctx, key, ts, shown, posting)
}

// decideGroup loads a group in triage for someone's decision.
func decideGroup(tx AlertTx, key string) (*AlertGroup, error) {
	g, err := tx.Group(key)
	if err != nil {
		return nil, err
	}
	switch {
	case g == nil:
		return nil, Errorf(ENOTFOUND, "Sitrep has no record of that group of alerts.")
	case g.State == GroupIncident:
		return nil, Errorf(ECONFLICT, "These alerts are already incident #%d.", g.IncidentNumber)
	}
	return g, nil
}

// DeclareGroup declares an incident for a group of alerts waiting in
// triage, with actor as its declarer and commander, and attaches the
// group's alerts to it.
func (s *Service) DeclareGroup(ctx context.Context, key, actor string) (*Incident, error) {
	if actor == "" {
		return nil, Errorf(EINVALID, "Declaring alerts from triage needs a person.")
	}
	var created *Incident
	err := s.store.RecordAlerts(ctx, func(tx AlertTx) error {
		created = nil
		g, err := decideGroup(tx, key)
		if err != nil {
			return err
		}
		alerts, err := tx.GroupAlerts(key)
		if err != nil {
			return err
		}
		if len(alerts) == 0 {
			return Errorf(ENOTFOUND, "That group of alerts has no alerts recorded.")
		}
		first := alerts[0]
		for _, a := range alerts {
			if a.Status == AlertFiring {
				first = a
				break
			}
		}
		now := s.now().UTC()
		sev := g.Severity
		if _, err := s.cfg.Severity(sev); err != nil {
			sev = s.cfg.DefaultSeverity
		}
		services, err := cleanList("affected services", g.Services)
		if err != nil {
			services = nil
		}
		inc, ev, err := s.newIncident(ctx, Declaration{Title: alertTitle(first.Alert), Severity: sev, Actor: actor, Services: services}, now)
		if err != nil {
			return err
		}
		ev.Data["alerts"], ev.Data["route"] = fmt.Sprint(len(alerts)), g.Route
		events := []Event{ev}
		for _, a := range alerts {
			events = append(events, alertEvent(RoutedAlert{Alert: a.Alert, Route: a.Route}, now))
		}
		if err := tx.Create(inc, events); err != nil {
			return fmt.Errorf("declare from triage: %w", err)
		}
		if err := giveGroup(tx, g, alerts, inc, actor, now); err != nil {
			return err
		}
		created = inc
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.committed(created)
	return created, nil
}

// DismissGroup records that a group of alerts in triage needs no
// incident. Its alerts stay recorded; one that fires again brings the
// group back to triage.
func (s *Service) DismissGroup(ctx context.Context, key, actor string) error {
	return s.store.RecordAlerts(ctx, func(tx AlertTx) error {
		g, err := decideGroup(tx, key)
		if err != nil {
			return err
		}
		if g.State == GroupDismissed {
			return nil
		}
		g.State, g.DecidedBy = GroupDismissed, actor
		g.release()
		g.Version++
		g.UpdatedAt = s.now().UTC()
		return tx.PutGroup(g)
	})
}

// AttachGroup attaches a group of alerts waiting in triage to an open
// incident, on actor's word: its alerts go on the incident's timeline and
// the group's later alerts attach there too.
func (s *Service) AttachGroup(ctx context.Context, key string, number int64, actor string) (*Incident, error) {
	var attached *Incident
	err := s.store.RecordAlerts(ctx, func(tx AlertTx) error {
		attached = nil
		g, err := decideGroup(tx, key)
		if err != nil {
			return err
		}
		alerts, err := tx.GroupAlerts(key)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		inc, err := tx.Update(number, func(inc *Incident) ([]Event, error) {
			if !inc.Status.Open() {
				return nil, Errorf(ECONFLICT, "Incident #%d is %s; reopen it first, or declare these alerts as an incident of their own.", inc.Number, inc.Status)
			}
			events := make([]Event, 0, len(alerts))
			for _, a := range alerts {
				ev := alertEvent(RoutedAlert{Alert: a.Alert, Route: a.Route}, now)
				ev.Actor = actor
				events = append(events, ev)
			}
			inc.UpdatedAt = now
			s.cfg.schedule(inc)
			return events, nil
		})
		if err != nil {
			return err
		}
		if err := giveGroup(tx, g, alerts, inc, actor, now); err != nil {
			return err
		}
		attached = inc
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.committed(attached)
	return attached, nil
}

// giveGroup attaches a group's alerts to inc and records that actor
// decided the group has that incident.
func giveGroup(tx AlertTx, g *AlertGroup, alerts []StoredAlert, inc *Incident, actor string, now time.Time) error {
	for i := range alerts {
		alerts[i].IncidentID = inc.ID
		if err := tx.PutAlert(&alerts[i]); err != nil {
			return err
		}
	}
	g.State, g.IncidentID, g.IncidentNumber, g.DecidedBy = GroupIncident, inc.ID, inc.Number, actor
	g.release()
	g.Version++
	g.UpdatedAt = now
	return tx.PutGroup(g)
}

// DeclareHeld declares the groups that waited for their route's For and
// have now fired that long (and gathered their MinAlerts), as the first
// alert's arrival would have: declared by Sitrep for the source, with the
// group's alerts attached, within the cap on declarations. A group that
// stopped firing meanwhile keeps waiting. It returns what it did and when
// the next wait ends (zero when none is waiting). A pure function of the
// store and now, so a restart loses no wait and declares nothing twice.
func (s *Service) DeclareHeld(ctx context.Context, rules AlertRules) (AlertOutcome, time.Time, error) {
	if rules.MaxDeclaresPerMinute <= 0 {
		rules.MaxDeclaresPerMinute = DefaultMaxDeclaresPerMinute
	}
	now := s.now().UTC()
	due, next, err := s.store.HeldGroups(ctx, now)
	if err != nil || len(due) == 0 {
		return AlertOutcome{}, next, err
	}
	var total AlertOutcome
	for _, key := range due {
		var (
			out     AlertOutcome
			changed map[string]*Incident
		)
		err := s.store.RecordAlerts(ctx, func(tx AlertTx) error {
			out, changed = AlertOutcome{}, map[string]*Incident{}
			b := &alertBatch{svc: s, tx: tx, rules: rules, now: now, out: &out, pending: map[string]*pendingAlerts{}, changed: changed}
			return b.declareHeld(key)
		})
		if err != nil {
			return total, next, fmt.Errorf("declare held alerts: %w", err)
		}
		for _, inc := range changed {
			s.committed(inc)
		}
		total.Declared = append(total.Declared, out.Declared...)
		total.Capped = append(total.Capped, out.Capped...)
	}
	// Declaring may have ended waits; ask again when the next one ends.
	_, next, err = s.store.HeldGroups(ctx, now)
	return total, next, err
}

// declareHeld declares the waiting group called key if it is ready.
func (b *alertBatch) declareHeld(key string) error {
	g, err := b.tx.Group(key)
	if err != nil || g == nil || !g.Waiting || g.State != GroupTriage || g.DeclareAt.IsZero() || b.now.Before(g.DeclareAt) {
		return err
	}
	alerts, err := b.tx.GroupAlerts(key)
	if err != nil {
		return err
	}
	first := -1
	for i, a := range alerts {
		if a.Status == AlertFiring {
			first = i
			break
		}
	}
	if first < 0 {
		// It stopped firing without anyone noticing: wait afresh.
		g.Gathered, g.DeclareAt = false, time.Time{}
		return b.putGroup(g)
	}
	if !g.ready(b.now) {
		return nil // HeldGroups offers only groups time alone makes ready
	}
	if capped, err := b.capped(g); err != nil || capped {
		if err != nil {
			return err
		}
		return b.putGroup(g)
	}
	a := alerts[first]
	waited := slices.Delete(slices.Clone(alerts), first, first+1)
	inc, err := b.declare(RoutedAlert{Alert: a.Alert, Route: a.Route, Action: ActionDeclare, Severity: g.Severity, Services: g.Services, Group: key}, waited)
	if err != nil {
		return err
	}
	for i := range alerts {
		alerts[i].IncidentID = inc.ID
		if err := b.tx.PutAlert(&alerts[i]); err != nil {
			return err
		}
	}
	g.State, g.IncidentID, g.IncidentNumber, g.Capped = GroupIncident, inc.ID, inc.Number, false
	g.release()
	return b.putGroup(g)
}

func (b *alertBatch) putGroup(g *AlertGroup) error {
	g.UpdatedAt = b.now
	g.Version++
	return b.tx.PutGroup(g)
}
