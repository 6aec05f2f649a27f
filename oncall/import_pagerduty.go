package oncall

import (
	"fmt"
	"strings"
	"time"
)

// pdSchedule is the part of PagerDuty's REST v2 Schedule that rules are
// made of (GET /schedules/{id}, or /schedules?include[]=schedule_layers).
type pdSchedule struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	TimeZone string    `json:"time_zone"`
	Layers   []pdLayer `json:"schedule_layers"`
}

type pdLayer struct {
	Name  string  `json:"name"`
	ID    string  `json:"id"`
	Start string  `json:"start"`
	End   *string `json:"end"`
	// RVS anchors the turn arithmetic; Start is only when this version of
	// the layer took effect, often an edit time.
	RVS         string `json:"rotation_virtual_start"`
	TurnSeconds int64  `json:"rotation_turn_length_seconds"`
	Users       []struct {
		User pdUserRef `json:"user"`
	} `json:"users"`
	Restrictions []pdRestriction `json:"restrictions"`
}

type pdUserRef struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
	Email   string `json:"email"`
}

type pdRestriction struct {
	Type            string `json:"type"`
	StartTimeOfDay  string `json:"start_time_of_day"`
	DurationSeconds int64  `json:"duration_seconds"`
	StartDayOfWeek  *int   `json:"start_day_of_week"`
}

// pdOverride is one of GET /schedules/{id}/overrides' answer.
type pdOverride struct {
	ID    string    `json:"id"`
	Start string    `json:"start"`
	End   string    `json:"end"`
	User  pdUserRef `json:"user"`
}

// pdExport is any of the shapes a schedule export comes in.
type pdExport struct {
	Schedule  *pdSchedule  `json:"schedule"`
	Schedules []pdSchedule `json:"schedules"`
	Overrides []pdOverride `json:"overrides"`
	pdSchedule
}

func importPagerDuty(exports [][]byte, users UserMap, now time.Time) (Import, error) {
	var scheds []pdSchedule
	var overrides []pdOverride
	for i, data := range exports {
		var e pdExport
		if err := decodeJSON(i, data, &e, "a PagerDuty schedule export"); err != nil {
			return Import{}, err
		}
		switch {
		case e.Schedule != nil:
			scheds = append(scheds, *e.Schedule)
		case len(e.Schedules) > 0:
			scheds = append(scheds, e.Schedules...)
		case e.pdSchedule.Layers != nil:
			scheds = append(scheds, e.pdSchedule)
		case e.Overrides != nil:
			overrides = append(overrides, e.Overrides...)
		case hasKey(data, "results") || hasKey(data, "shifts"):
			return Import{}, fmt.Errorf("export %d looks like Grafana OnCall's, not PagerDuty's; use --from %s", i+1, FromGrafanaOnCall)
		default:
			return Import{}, fmt.Errorf("export %d is not a PagerDuty schedule: expected {\"schedule\": {…, \"schedule_layers\": […]}} from GET /schedules/{id}, or {\"overrides\": […]} from its /overrides", i+1)
		}
	}
	su := &slackUsers{m: users, vendor: "PagerDuty"}
	var imp Import
	for _, s := range scheds {
		sc, notes, err := pdConvert(s, su, now)
		for _, n := range notes {
			imp.Notes = append(imp.Notes, fmt.Sprintf("%s: %s", s.Name, n))
		}
		if err != nil {
			imp.Notes = append(imp.Notes, fmt.Sprintf("%s: not imported: %v", s.Name, err))
			continue
		}
		sc.Name = uniqueName(imp.Schedules, sc.Name)
		imp.Schedules = append(imp.Schedules, sc)
	}
	if err := su.err(); err != nil {
		return Import{}, err
	}
	imp.Notes = append(imp.Notes, pdOverrideNotes(overrides, now)...)
	return imp, nil
}

// pdOverrideNotes says what to do about each override: Sitrep's are set
// in Slack, from the moment they are set, so they cannot be imported
// ahead. Overrides may overlap; each is listed.
func pdOverrideNotes(ovs []pdOverride, now time.Time) []string {
	var notes []string
	for _, o := range ovs {
		start, err1 := time.Parse(time.RFC3339, o.Start)
		end, err2 := time.Parse(time.RFC3339, o.End)
		if err1 != nil || err2 != nil {
			notes = append(notes, fmt.Sprintf("override %s: start %q or end %q is not an RFC 3339 time; skipped", o.ID, o.Start, o.End))
			continue
		}
		if !end.After(now) {
			notes = append(notes, fmt.Sprintf("override %s for %s ended %s; skipped", o.ID, pdLabel(o.User), o.End))
			continue
		}
		notes = append(notes, fmt.Sprintf("override %s puts %s on call from %s to %s; Sitrep has no overrides in its config: set it in Slack when it begins (/incident oncall override <schedule> @person %s)",
			o.ID, pdLabel(o.User), o.Start, o.End, shortDuration(end.Sub(start))))
	}
	return notes
}

// pdConvert turns one PagerDuty schedule into a Sitrep schedule. Sitrep
// runs one rotation with no hours of the day, so of the layers still in
// effect it takes the highest-priority one that covers all the time
// (schedule_layers[0] has the highest priority), and says what the others
// did.
func pdConvert(s pdSchedule, su *slackUsers, now time.Time) (ScheduleConfig, []string, error) {
	var notes []string
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil || s.TimeZone == "" {
		return ScheduleConfig{}, nil, fmt.Errorf("time zone %q is not a known IANA zone", s.TimeZone)
	}
	var live []pdLayer
	for _, l := range s.Layers {
		if l.End != nil && *l.End != "" {
			end, err := time.Parse(time.RFC3339, *l.End)
			if err != nil {
				return ScheduleConfig{}, nil, fmt.Errorf("layer %q: end %q is not an RFC 3339 time", l.Name, *l.End)
			}
			if !end.After(now) {
				// Edited and removed layers stay in the array with an end.
				notes = append(notes, fmt.Sprintf("layer %q ended %s; skipped", l.Name, end.In(loc).Format("2006-01-02 15:04")))
				continue
			}
			notes = append(notes, fmt.Sprintf("layer %q ends %s; Sitrep schedules do not end, so remove the imported one then", l.Name, end.In(loc).Format("2006-01-02 15:04")))
		}
		live = append(live, l)
	}
	if len(live) == 0 {
		return ScheduleConfig{}, notes, fmt.Errorf("every layer has ended")
	}
	base := -1
	for i, l := range live {
		if len(l.Restrictions) == 0 {
			base = i
			break
		}
	}
	if base < 0 {
		// No layer covers all the time; the highest-priority one is the
		// rotation people most expect, and its hours are lost.
		base = 0
		notes = append(notes, fmt.Sprintf("layer %q is on call only %s; Sitrep schedules cover all hours, so it is imported as on call all the time", live[0].Name, pdHours(live[0].Restrictions)))
	}
	for i, l := range live {
		switch {
		case i < base:
			notes = append(notes, fmt.Sprintf("layer %q (%s) takes priority only %s; Sitrep cannot express hours of the day, so it is not imported: hand those hours over with /incident oncall override, or make it a second schedule", l.Name, pdNames(l), pdHours(l.Restrictions)))
		case i > base:
			notes = append(notes, fmt.Sprintf("layer %q (%s) is below layer %q, which covers all the time, so it is never on call; not imported", l.Name, pdNames(l), live[base].Name))
		}
	}
	l := live[base]
	rvs, err := time.Parse(time.RFC3339, l.RVS)
	if err != nil {
		return ScheduleConfig{}, notes, fmt.Errorf("layer %q: rotation_virtual_start %q is not an RFC 3339 time", l.Name, l.RVS)
	}
	if l.TurnSeconds <= 0 || l.TurnSeconds%86400 != 0 {
		return ScheduleConfig{}, notes, fmt.Errorf("layer %q has turns of %s; Sitrep shifts are whole days or weeks", l.Name, time.Duration(l.TurnSeconds)*time.Second)
	}
	local := rvs.In(loc)
	if local.Second() != 0 {
		notes = append(notes, fmt.Sprintf("layer %q hands off at %s; Sitrep hands off on the minute, at %s", l.Name, local.Format("15:04:05"), local.Format("15:04")))
	}
	shift, handoff, err := shiftFields(int(l.TurnSeconds/86400), local)
	if err != nil {
		return ScheduleConfig{}, notes, fmt.Errorf("layer %q: %v", l.Name, err)
	}
	if st, err := time.Parse(time.RFC3339, l.Start); err == nil && st.After(now) {
		notes = append(notes, fmt.Sprintf("layer %q takes effect only %s; the imported schedule is in effect at once", l.Name, st.In(loc).Format("2006-01-02 15:04")))
	}
	if len(l.Users) == 0 {
		return ScheduleConfig{}, notes, fmt.Errorf("layer %q has no one in it", l.Name)
	}
	sc := ScheduleConfig{
		Name:     slug(s.Name),
		TimeZone: s.TimeZone,
		// Turn 0 starts at rotation_virtual_start with users[0], as
		// Sitrep's Rotation[0] starts at the first handoff on Start.
		Start:   local.Format("2006-01-02"),
		Handoff: handoff,
		Shift:   shift,
	}
	for _, u := range l.Users {
		id := su.lookup(pdLabel(u.User), u.User.ID, u.User.Email, u.User.Summary)
		sc.Rotation = append(sc.Rotation, id)
	}
	return sc, notes, nil
}

func pdLabel(u pdUserRef) string {
	if u.Summary != "" {
		return fmt.Sprintf("%s (%s)", u.ID, u.Summary)
	}
	return u.ID
}

func pdNames(l pdLayer) string {
	var n []string
	for _, u := range l.Users {
		n = append(n, pdLabel(u.User))
	}
	return strings.Join(n, ", ")
}

var isoDays = []string{"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// pdHours describes restrictions in words: "daily 18:00 for 14h",
// "Mon 09:00 for 9h, Tue 09:00 for 9h".
func pdHours(rs []pdRestriction) string {
	var parts []string
	for _, r := range rs {
		at := strings.TrimSuffix(r.StartTimeOfDay, ":00")
		d := time.Duration(r.DurationSeconds) * time.Second
		day := "daily"
		if r.Type == "weekly_restriction" && r.StartDayOfWeek != nil && *r.StartDayOfWeek >= 1 && *r.StartDayOfWeek <= 7 {
			day = isoDays[*r.StartDayOfWeek]
		}
		parts = append(parts, fmt.Sprintf("%s %s for %s", day, at, shortDuration(d)))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
