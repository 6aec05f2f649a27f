// Package statuspage serves the public status page: what people published
// from Slack, and nothing else. It reads only incident.PublishedIncident
// (a public page with no notes, names or timeline), so nothing internal
// can reach it by mistake, and it renders each change once, not once per
// reader, since during an outage every customer refreshes it.
package statuspage

import (
	"crypto/sha256"
	"fmt"
	"math"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// Days is how many days of history the uptime bars show, and RecentDays
// how many days the page lists incidents for.
const (
	Days       = 90
	RecentDays = 14
)

// View is the page's model: everything the templates and the JSON
// endpoints show, computed once per change.
type View struct {
	Name      string
	URL       string // the page's public URL, "" when unknown
	Generated time.Time
	Status    Overall
	Groups    []*Group
	// Components are all the components, groups' members included, in
	// configured order.
	Components []*Component
	Open       []*Incident // ongoing, latest first
	Recent     []Day       // the last RecentDays days, today first
	// Incidents are all published incidents the page knows, latest first.
	Incidents []*Incident
	// LastModified is when the latest published update went out, or the
	// page's start when none has.
	LastModified time.Time
	loc          *time.Location
}

// Overall is the page's headline, in Statuspage's words.
type Overall struct {
	Indicator   string // none, minor, major, critical
	Description string
}

// Group is a heading of components; Name is "" for the components
// configured without a group.
type Group struct {
	Name       string
	ID         string
	Status     incident.ComponentStatus
	Components []*Component
}

// Component is one component as the page shows it now and over Days.
type Component struct {
	ID          string
	Name        string
	Group       string
	GroupID     string
	Description string
	Position    int
	Status      incident.ComponentStatus
	// Since is when the component last changed status (the window's
	// start when it has not in Days).
	Since  time.Time
	Uptime string // "99.95"
	Bars   []Bar  // oldest first
}

// Bar is one day of a component's history.
type Bar struct {
	Date   time.Time
	Status incident.ComponentStatus // the worst of the day
	Title  string                   // what the bar says on hover or long press
}

// Incident is a published incident as the public sees it.
type Incident struct {
	ID         string
	Name       string
	Status     incident.PublicStatus
	Impact     string // none, minor, major, critical
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Monitoring time.Time // zero if never monitored
	Resolved   time.Time // zero while ongoing
	Updates    []Update  // newest first, as Statuspage lists them
	Components []string  // names of the components it affected, configured order
}

// Update is one published update.
type Update struct {
	ID         string
	Status     incident.PublicStatus
	Body       string
	At         time.Time
	Components []AffectedComponent
}

// AffectedComponent is a component's status change in an update.
type AffectedComponent struct {
	ID, Name   string
	Old, New   incident.ComponentStatus
	Configured bool
}

// Day is one day of the recent list.
type Day struct {
	Date      time.Time
	Incidents []*Incident
}

// Open reports whether the incident is ongoing.
func (i *Incident) Open() bool { return i.Resolved.IsZero() }

// Duration is how long the incident lasted, or has lasted by now.
func (i *Incident) Duration(now time.Time) time.Duration {
	end := i.Resolved
	if end.IsZero() {
		end = now
	}
	return end.Sub(i.CreatedAt)
}

// stableID names a thing on the page the way Statuspage does (12 base-36
// characters), derived from its name so that it survives restarts and
// config reloads without being stored.
func stableID(kind, name string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + name))
	s := new(big.Int).SetBytes(sum[:10]).Text(36)
	for len(s) < 12 {
		s = "0" + s
	}
	return s[:12]
}

// interval is one stretch of a component's status from one incident.
type interval struct {
	from, to time.Time
	status   incident.ComponentStatus
	incident string // the public title
}

// Build computes the page from the published incidents at now. Components
// not configured (any more) are left out of the component list but their
// names stay in the incidents' updates.
func Build(name, url string, components []incident.Component, pubs []incident.PublishedIncident, now time.Time, loc *time.Location) *View {
	if loc == nil {
		loc = time.UTC
	}
	now = now.In(loc)
	today := startOfDay(now)
	windowStart := today.AddDate(0, 0, -(Days - 1))
	v := &View{Name: name, URL: url, Generated: now, loc: loc, LastModified: windowStart}

	// The components' intervals and current status, from every incident.
	intervals := map[string][]interval{}
	current := map[string]incident.ComponentStatus{}
	for _, p := range pubs {
		inc := buildIncident(p.Page, components)
		if inc == nil {
			continue
		}
		v.Incidents = append(v.Incidents, inc)
		if inc.Open() {
			v.Open = append(v.Open, inc)
		}
		if inc.UpdatedAt.After(v.LastModified) {
			v.LastModified = inc.UpdatedAt
		}
		for c, ivs := range componentIntervals(p.Page, now) {
			intervals[c] = append(intervals[c], ivs...)
			for _, iv := range ivs {
				if !iv.to.Before(now) && iv.status.Rank() > current[c].Rank() {
					current[c] = iv.status
				}
			}
		}
	}
	sort.SliceStable(v.Incidents, func(i, j int) bool { return v.Incidents[i].CreatedAt.After(v.Incidents[j].CreatedAt) })
	sort.SliceStable(v.Open, func(i, j int) bool { return v.Open[i].CreatedAt.After(v.Open[j].CreatedAt) })

	groups := map[string]*Group{}
	for i, c := range components {
		st := current[c.Name]
		if st == "" {
			st = incident.Operational
		}
		comp := &Component{
			ID: stableID("component", c.Name), Name: c.Name, Group: c.Group, Description: c.Description,
			Position: i + 1, Status: st, Since: windowStart,
		}
		for _, iv := range intervals[c.Name] {
			if iv.from.After(comp.Since) && !iv.from.After(now) {
				comp.Since = iv.from
			}
			if !iv.to.After(now) && iv.to.After(comp.Since) {
				comp.Since = iv.to
			}
		}
		comp.Bars, comp.Uptime = bars(intervals[c.Name], windowStart, now)
		v.Components = append(v.Components, comp)
		g := groups[c.Group]
		if g == nil {
			g = &Group{Name: c.Group, Status: incident.Operational}
			if c.Group != "" {
				g.ID = stableID("group", c.Group)
			}
			groups[c.Group] = g
			v.Groups = append(v.Groups, g)
		}
		g.Components = append(g.Components, comp)
		if st.Rank() > g.Status.Rank() {
			g.Status = st
		}
		comp.GroupID = g.ID
	}

	worst := incident.Operational
	for _, c := range v.Components {
		if c.Status.Rank() > worst.Rank() {
			worst = c.Status
		}
	}
	v.Status = overall(worst, len(v.Open) > 0)

	for d := 0; d < RecentDays; d++ {
		day := Day{Date: today.AddDate(0, 0, -d)}
		next := day.Date.AddDate(0, 0, 1)
		for _, inc := range v.Incidents {
			if !inc.CreatedAt.Before(day.Date) && inc.CreatedAt.Before(next) {
				day.Incidents = append(day.Incidents, inc)
			}
		}
		v.Recent = append(v.Recent, day)
	}
	return v
}

// overall is the page's headline for the worst component status, in the
// indicator values and descriptions Statuspage uses. An ongoing incident
// that names no component still makes the page say something is wrong.
func overall(worst incident.ComponentStatus, open bool) Overall {
	switch worst {
	case incident.MajorOutage:
		return Overall{"critical", "Major System Outage"}
	case incident.PartialOutage:
		return Overall{"major", "Partial System Outage"}
	case incident.DegradedPerformance:
		return Overall{"minor", "Minor Service Outage"}
	}
	if open {
		return Overall{"minor", "Minor Service Outage"}
	}
	return Overall{"none", "All Systems Operational"}
}

// impact is an incident's impact from the worst component status it
// named last, in Statuspage's words.
func impact(worst incident.ComponentStatus) string {
	switch worst {
	case incident.MajorOutage:
		return "critical"
	case incident.PartialOutage:
		return "major"
	case incident.DegradedPerformance:
		return "minor"
	}
	return "none"
}

// buildIncident is a published page as the public sees it; nil when
// nothing was published.
func buildIncident(p incident.PublicPage, components []incident.Component) *Incident {
	if !p.Published() {
		return nil
	}
	first, last := p.Updates[0], p.Updates[len(p.Updates)-1]
	inc := &Incident{ID: p.ID, Name: last.Title, Status: last.Status, CreatedAt: first.At, UpdatedAt: last.At}
	status := map[string]incident.ComponentStatus{}
	worst := incident.Operational
	touched := map[string]bool{}
	for i, u := range p.Updates {
		up := Update{ID: stableID("update", fmt.Sprintf("%s/%d", p.ID, i)), Status: u.Status, Body: u.Message, At: u.At}
		for _, c := range u.Components {
			old := status[c.Name]
			if old == "" {
				old = incident.Operational
			}
			status[c.Name] = c.Status
			touched[c.Name] = true
			configured := slices.ContainsFunc(components, func(k incident.Component) bool { return k.Name == c.Name })
			up.Components = append(up.Components, AffectedComponent{ID: stableID("component", c.Name), Name: c.Name, Old: old, New: c.Status, Configured: configured})
		}
		if u.Status == incident.PublicMonitoring && inc.Monitoring.IsZero() {
			inc.Monitoring = u.At
		}
		if u.Status == incident.PublicResolved {
			inc.Resolved = u.At
		} else {
			inc.Resolved = time.Time{} // published again after a resolution: ongoing again
		}
		inc.Updates = append(inc.Updates, up)
	}
	slices.Reverse(inc.Updates)
	if inc.Open() {
		for _, s := range status {
			if s.Rank() > worst.Rank() {
				worst = s
			}
		}
	} else {
		// A resolved incident keeps the impact it had at its worst, as
		// Statuspage's history does.
		for _, u := range p.Updates {
			for _, c := range u.Components {
				if c.Status.Rank() > worst.Rank() {
					worst = c.Status
				}
			}
		}
	}
	inc.Impact = impact(worst)
	for _, k := range components {
		if touched[k.Name] {
			inc.Components = append(inc.Components, k.Name)
		}
	}
	for name := range touched {
		if !slices.Contains(inc.Components, name) {
			inc.Components = append(inc.Components, name)
		}
	}
	return inc
}

// componentIntervals returns, per component, the stretches of status one
// incident gave it: each update's status for a component lasts until the
// incident's next update naming it, its public resolution, or now.
func componentIntervals(p incident.PublicPage, now time.Time) map[string][]interval {
	out := map[string][]interval{}
	end := now
	if u, ok := p.Latest(); ok && u.Status == incident.PublicResolved {
		end = u.At
	}
	title := ""
	if u, ok := p.Latest(); ok {
		title = u.Title
	}
	for i, u := range p.Updates {
		for _, c := range u.Components {
			to := end
			for _, later := range p.Updates[i+1:] {
				if slices.ContainsFunc(later.Components, func(x incident.ComponentImpact) bool { return x.Name == c.Name }) {
					to = later.At
					break
				}
			}
			if c.Status == incident.Operational || !to.After(u.At) {
				continue
			}
			out[c.Name] = append(out[c.Name], interval{from: u.At, to: to, status: c.Status, incident: title})
		}
	}
	return out
}

// bars returns a component's day bars from start to now, and its uptime
// over them: a major outage counts as down, a partial outage as 30% down
// (Statuspage's weighting), degraded performance as up.
func bars(ivs []interval, start, now time.Time) ([]Bar, string) {
	var out []Bar
	var total, down time.Duration
	for day := start; !day.After(now); day = day.AddDate(0, 0, 1) {
		next := day.AddDate(0, 0, 1)
		dayEnd := next
		if dayEnd.After(now) {
			dayEnd = now
		}
		total += dayEnd.Sub(day)
		worst := incident.Operational
		spent := map[incident.ComponentStatus]time.Duration{}
		var titles []string
		for _, iv := range ivs {
			from, to := maxTime(iv.from, day), minTime(iv.to, dayEnd)
			if !to.After(from) {
				continue
			}
			spent[iv.status] += to.Sub(from)
			if iv.status.Rank() > worst.Rank() {
				worst = iv.status
			}
			if !slices.Contains(titles, iv.incident) {
				titles = append(titles, iv.incident)
			}
		}
		down += spent[incident.MajorOutage] + spent[incident.PartialOutage]*3/10
		out = append(out, Bar{Date: day, Status: worst, Title: barTitle(day, spent, titles)})
	}
	return out, formatUptime(down, total)
}

// formatUptime writes the share of total not down as a percentage with at
// most two decimals, rounded down: a component that was down at all never
// shows "100%" beside a red bar.
func formatUptime(down, total time.Duration) string {
	uptime := 100.0
	if total > 0 && down > 0 {
		uptime = math.Floor(10000*(1-float64(down)/float64(total))) / 100
	}
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.2f", uptime), "0"), ".0")
}

// barTitle says what a day was: "Dec 3, 2026: major outage 1h 20m,
// partial outage 40m (Elevated errors on checkout)" or "No downtime".
func barTitle(day time.Time, spent map[incident.ComponentStatus]time.Duration, titles []string) string {
	var parts []string
	for i := len(incident.ComponentStatuses) - 1; i > 0; i-- {
		s := incident.ComponentStatuses[i]
		if d := spent[s]; d > 0 {
			parts = append(parts, strings.ToLower(s.Label())+" "+FormatDuration(d))
		}
	}
	head := day.Format("Jan 2, 2006") + ": "
	if len(parts) == 0 {
		return head + "No downtime recorded"
	}
	return head + strings.Join(parts, ", ") + " (" + strings.Join(titles, "; ") + ")"
}

// FormatDuration writes d as the page does: "22h 3m", "40m", "under a
// minute".
func FormatDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < time.Minute {
		return "under a minute"
	}
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h >= 24:
		return fmt.Sprintf("%dd %dh %dm", h/24, h%24, m)
	case h > 0 && m > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dm", m)
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
