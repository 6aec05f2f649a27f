// Package route decides what alerts become: the alerts.routes of the
// config file, matched in order, first match wins, with Alertmanager's own
// matchers (source and labels, =, !=, =~, !~). It hands the domain alerts
// already routed (incident.RoutedAlert), so that the domain never parses a
// matcher.
package route

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/sitrep-dev/sitrep/incident"
)

// Config is the alerts section of the config file.
type Config struct {
	// Routes are tried in order; the first whose matchers all match an
	// alert decides what it becomes. An alert no route matches waits in
	// triage.
	Routes []Route `yaml:"routes"`
	// MaxDeclaresPerMinute caps the incidents alerts declare in a minute
	// (default 5); past it, groups go to triage.
	MaxDeclaresPerMinute int `yaml:"max_declares_per_minute,omitempty"`
	// ReopenWithin is how soon after its incident resolved a group that
	// fires again reopens it (default 30m), as a Go duration.
	ReopenWithin string `yaml:"reopen_within,omitempty"`
	// TriageChannel is the channel ID (C…) where groups waiting in triage
	// are shown with Declare and Dismiss; without it they are only
	// recorded.
	TriageChannel string `yaml:"triage_channel,omitempty"`
}

var channelID = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)

// Route is one entry of alerts.routes.
type Route struct {
	Name string `yaml:"name,omitempty"`
	// Matchers lists matchers as Alertmanager writes them
	// (severity=~"critical|page", source="sentry"); all must match. None
	// matches every alert.
	Matchers []string `yaml:"matchers,omitempty"`
	// Source, when set, is one more matcher: source="<Source>".
	Source      string   `yaml:"source,omitempty"`
	Action      string   `yaml:"action,omitempty"` // declare, triage (the default) or ignore
	Severity    string   `yaml:"severity,omitempty"`
	Services    []string `yaml:"services,omitempty"`
	GroupBy     []string `yaml:"group_by,omitempty"`
	AutoResolve bool     `yaml:"auto_resolve,omitempty"`
	// Noise controls of a declare route (incident.AlertHold): declare only
	// once the group has MinAlerts alerts firing that began within Window
	// (default 5m), and has fired For; until then it waits in triage.
	// Durations as Go writes them (90s, 10m, 1h).
	MinAlerts int    `yaml:"min_alerts,omitempty"`
	Window    string `yaml:"window,omitempty"`
	For       string `yaml:"for,omitempty"`
	// Page names the escalation policy (oncall.policies) paged when
	// the route declares an incident.
	Page string `yaml:"page,omitempty"`
}

// SourceLabel is the name matchers use for the alert's source.
const SourceLabel = "source"

// DefaultRoute names the route of alerts no configured route matches.
const DefaultRoute = "default"

// Receiver is what records routed alerts: incident.Service.
type Receiver interface {
	ReceiveAlerts(ctx context.Context, alerts []incident.RoutedAlert, rules incident.AlertRules) (incident.AlertOutcome, error)
}

// Router routes alerts and hands them to a Receiver. It is an
// intake.Receiver.
type Router struct {
	routes []compiled
	rules  incident.AlertRules
	recv   Receiver
	// Said is told, once per group, of groups sent to triage by the cap
	// on declarations. May be nil.
	Said func(capped []string)
	// Recorded is told after each batch is committed. May be nil.
	Recorded func()
}

type compiled struct {
	Route
	matchers labels.Matchers
	action   incident.AlertAction
	hold     incident.AlertHold
}

// Check reports the first problem with c, in one line naming the route and
// the setting; severities are the configured ones.
func (c Config) Check(severities []string) error {
	_, _, err := compile(c, severities)
	return err
}

// Rules returns the limits c sets, with the defaults filled in. c must
// have passed Check.
func (c Config) Rules() incident.AlertRules {
	_, rules, _ := compile(c, nil)
	return rules
}

func compile(c Config, severities []string) ([]compiled, incident.AlertRules, error) {
	rules := incident.AlertRules{MaxDeclaresPerMinute: incident.DefaultMaxDeclaresPerMinute, ReopenWithin: incident.DefaultReopenWithin}
	if c.MaxDeclaresPerMinute < 0 {
		return nil, rules, fmt.Errorf("alerts.max_declares_per_minute %d: must be at least 1 (0 or unset means the default, 5)", c.MaxDeclaresPerMinute)
	}
	if c.MaxDeclaresPerMinute > 0 {
		rules.MaxDeclaresPerMinute = c.MaxDeclaresPerMinute
	}
	if c.ReopenWithin != "" {
		d, err := time.ParseDuration(c.ReopenWithin)
		if err != nil || d <= 0 {
			return nil, rules, fmt.Errorf("alerts.reopen_within %q: not a positive duration such as 30m or 2h", c.ReopenWithin)
		}
		rules.ReopenWithin = d
	}
	if c.TriageChannel != "" && !channelID.MatchString(c.TriageChannel) {
		return nil, rules, fmt.Errorf("alerts.triage_channel %q: not a channel ID; use the ID (C…) shown at the bottom of the channel's details", c.TriageChannel)
	}
	names := map[string]bool{}
	out := make([]compiled, 0, len(c.Routes))
	var err error
	for i, r := range c.Routes {
		where := fmt.Sprintf("alerts.routes[%d]", i)
		if r.Name == "" {
			r.Name = fmt.Sprintf("route %d", i+1)
		} else {
			where += fmt.Sprintf(" (%s)", r.Name)
		}
		if names[r.Name] || r.Name == DefaultRoute {
			return nil, rules, fmt.Errorf("%s: the name %q is used twice (or is %q, kept for alerts no route matches)", where, r.Name, DefaultRoute)
		}
		names[r.Name] = true
		cr := compiled{Route: r, action: incident.AlertAction(strings.ToLower(strings.TrimSpace(r.Action)))}
		switch cr.action {
		case "":
			cr.action = incident.ActionTriage
		case incident.ActionDeclare, incident.ActionTriage, incident.ActionIgnore:
		default:
			return nil, rules, fmt.Errorf("%s: action %q is not one of declare, triage or ignore", where, r.Action)
		}
		for j, m := range r.Matchers {
			ms, err := labels.ParseMatchers(m)
			if err != nil || len(ms) == 0 {
				why := "it matches nothing"
				if err != nil {
					why = err.Error()
				}
				return nil, rules, fmt.Errorf("%s: matchers[%d] %q is not an Alertmanager matcher such as severity=~\"critical|page\" (%s)", where, j, m, why)
			}
			cr.matchers = append(cr.matchers, ms...)
		}
		if r.Source != "" {
			m, err := labels.NewMatcher(labels.MatchEqual, SourceLabel, strings.TrimSpace(r.Source))
			if err != nil {
				return nil, rules, fmt.Errorf("%s: source %q: %v", where, r.Source, err)
			}
			cr.matchers = append(cr.matchers, m)
		}
		if r.Severity != "" && severities != nil && !slices.Contains(severities, r.Severity) {
			return nil, rules, fmt.Errorf("%s: severity %q is not one of the severities (%s)", where, r.Severity, strings.Join(severities, ", "))
		}
		if cr.hold, err = compileHold(r, cr.action); err != nil {
			return nil, rules, fmt.Errorf("%s: %w", where, err)
		}
		for j, l := range r.GroupBy {
			if strings.TrimSpace(l) == "" {
				return nil, rules, fmt.Errorf("%s: group_by[%d] is empty; name a label", where, j)
			}
		}
		out = append(out, cr)
	}
	return out, rules, nil
}

// compileHold reads a route's noise controls.
func compileHold(r Route, action incident.AlertAction) (incident.AlertHold, error) {
	var h incident.AlertHold
	if r.MinAlerts == 0 && r.Window == "" && r.For == "" {
		return h, nil
	}
	if action != incident.ActionDeclare {
		return h, fmt.Errorf("min_alerts, window and for hold back a declaration, but the action is %s; remove them or use action: declare", action)
	}
	if r.MinAlerts < 0 {
		return h, fmt.Errorf("min_alerts %d: must be 1 or more", r.MinAlerts)
	}
	h.MinAlerts = r.MinAlerts
	duration := func(name, v string) (time.Duration, error) {
		if v == "" {
			return 0, nil
		}
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("%s %q: not a positive duration such as 90s, 10m or 1h", name, v)
		}
		return d, nil
	}
	var err error
	if h.Window, err = duration("window", r.Window); err != nil {
		return h, err
	}
	if h.Window > 0 && h.MinAlerts <= 1 {
		return h, fmt.Errorf("window %q counts alerts toward min_alerts; set min_alerts to 2 or more, or remove window", r.Window)
	}
	if h.For, err = duration("for", r.For); err != nil {
		return h, err
	}
	return h, nil
}

// New returns a Router for c, which must pass Check with severities.
func New(c Config, severities []string, recv Receiver) (*Router, error) {
	routes, rules, err := compile(c, severities)
	if err != nil {
		return nil, err
	}
	return &Router{routes: routes, rules: rules, recv: recv}, nil
}

// Route decides what one alert becomes.
func (r *Router) Route(a incident.Alert) incident.RoutedAlert {
	lset := labelSet(a)
	for _, cr := range r.routes {
		if !matches(cr.matchers, lset) {
			continue
		}
		return incident.RoutedAlert{
			Alert: a, Route: cr.Name, Action: cr.action, Severity: cr.Severity,
			Services: cr.Services, AutoResolve: cr.AutoResolve, Group: groupKey(cr.Name, a, cr.GroupBy), Hold: cr.hold, Page: cr.Page,
		}
	}
	return incident.RoutedAlert{Alert: a, Route: DefaultRoute, Action: incident.ActionTriage, Group: groupKey(DefaultRoute, a, nil)}
}

// Rules returns the limits the Router applies.
func (r *Router) Rules() incident.AlertRules { return r.rules }

// ReceiveAlerts routes alerts and records them (intake.Receiver).
func (r *Router) ReceiveAlerts(ctx context.Context, alerts []incident.Alert) error {
	routed := make([]incident.RoutedAlert, len(alerts))
	for i, a := range alerts {
		routed[i] = r.Route(a)
	}
	out, err := r.recv.ReceiveAlerts(ctx, routed, r.rules)
	if err != nil {
		return err
	}
	if len(out.Capped) > 0 && r.Said != nil {
		r.Said(out.Capped)
	}
	if r.Recorded != nil {
		r.Recorded()
	}
	return nil
}

// matches reports whether every matcher matches; a label the alert lacks
// is "", as in Alertmanager.
func matches(ms labels.Matchers, lset map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(lset[m.Name]) {
			return false
		}
	}
	return true
}

// labelSet is what matchers see: the alert's labels and its source.
func labelSet(a incident.Alert) map[string]string {
	lset := make(map[string]string, len(a.Labels)+1)
	for k, v := range a.Labels {
		lset[k] = v
	}
	lset[SourceLabel] = a.Source
	return lset
}

// groupKey names an alert's group: within its route, by the group_by
// labels, else by the sender's own grouping, else the alert alone.
func groupKey(route string, a incident.Alert, by []string) string {
	var b strings.Builder
	b.WriteString(strconv.Quote(route))
	b.WriteString(" ")
	b.WriteString(strconv.Quote(a.Source))
	switch {
	case len(by) > 0:
		lset := labelSet(a)
		for _, l := range by {
			b.WriteString(" " + l + "=" + strconv.Quote(lset[l]))
		}
	case a.Group != "":
		b.WriteString(" group=" + strconv.Quote(a.Group))
	default:
		b.WriteString(" key=" + strconv.Quote(a.Key))
	}
	// A key names the group in its triage message's block ID, which Slack
	// caps at 255 characters: long ones are hashed.
	if b.Len() > MaxGroupKey {
		sum := sha256.Sum256([]byte(b.String()))
		return "sha256=" + hex.EncodeToString(sum[:])
	}
	return b.String()
}

// MaxGroupKey is the longest group key Route makes.
const MaxGroupKey = 200
