package oncall

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// gSchedule is a Grafana OnCall schedule (GET /api/v1/schedules/{id}).
type gSchedule struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Type     string   `json:"type"` // ical, calendar, web
	TimeZone string   `json:"time_zone"`
	Shifts   []string `json:"shifts"`
}

// gShift is a Grafana OnCall on-call shift (GET /api/v1/on_call_shifts/).
// Fields are omitted per type; times have no zone and are read in
// TimeZone, or the schedule's zone when that is null.
type gShift struct {
	ID           string     `json:"id"`
	Schedule     string     `json:"schedule"`
	Name         string     `json:"name"`
	Type         string     `json:"type"` // single_event, recurrent_event, rolling_users, override
	TimeZone     *string    `json:"time_zone"`
	Level        int        `json:"level"`
	Start        string     `json:"start"`
	Duration     int64      `json:"duration"`
	RotationFrom string     `json:"rotation_start"`
	Frequency    string     `json:"frequency"`
	Interval     int        `json:"interval"`
	Until        *string    `json:"until"`
	ByDay        []string   `json:"by_day"`
	ByMonth      []int      `json:"by_month"`
	ByMonthday   []int      `json:"by_monthday"`
	Users        []string   `json:"users"`
	RollingUsers [][]string `json:"rolling_users"`
	StartIndex   *int       `json:"start_rotation_from_user_index"`
}

const gLocalTime = "2006-01-02T15:04:05"

func importGrafana(exports [][]byte, users UserMap, now time.Time) (Import, error) {
	var scheds []gSchedule
	var shifts []gShift
	for i, data := range exports {
		var items []json.RawMessage
		var page struct {
			Results []json.RawMessage `json:"results"`
		}
		if err := decodeJSON(i, data, &page, "a Grafana OnCall export"); err != nil {
			// A bare array of shifts or schedules reads too.
			if err2 := json.Unmarshal(data, &items); err2 != nil {
				return Import{}, err
			}
		} else if page.Results != nil {
			items = page.Results
		} else if hasKey(data, "schedule_layers") || (hasKey(data, "schedule") && !hasKey(data, "type")) {
			return Import{}, fmt.Errorf("export %d looks like PagerDuty's, not Grafana OnCall's; use --from %s", i+1, FromPagerDuty)
		} else {
			items = []json.RawMessage{data}
		}
		for _, raw := range items {
			var probe struct {
				Type       string `json:"type"`
				ShiftStart string `json:"shift_start"`
			}
			_ = json.Unmarshal(raw, &probe)
			if probe.Type == "" && probe.ShiftStart != "" {
				return Import{}, fmt.Errorf("export %d is a final_shifts rendering (dated shifts, not rules), which cannot become a rotation; export GET /api/v1/on_call_shifts/?schedule_id={id} instead", i+1)
			}
			switch probe.Type {
			case "ical", "calendar", "web":
				var s gSchedule
				if err := json.Unmarshal(raw, &s); err != nil {
					return Import{}, fmt.Errorf("export %d: a schedule: %v", i+1, err)
				}
				scheds = append(scheds, s)
			case "single_event", "recurrent_event", "rolling_users", "override":
				var s gShift
				if err := json.Unmarshal(raw, &s); err != nil {
					return Import{}, fmt.Errorf("export %d: a shift: %v", i+1, err)
				}
				shifts = append(shifts, s)
			default:
				kind := fmt.Sprintf("an item has type %q", probe.Type)
				if probe.Type == "" {
					kind = "an item has no type"
				}
				return Import{}, fmt.Errorf("export %d is not a Grafana OnCall schedule or shift list (%s); export GET /api/v1/schedules/{id} and GET /api/v1/on_call_shifts/?schedule_id={id}", i+1, kind)
			}
		}
	}
	if len(shifts) == 0 {
		return Import{}, fmt.Errorf("no shifts in the export: the rotations are in GET /api/v1/on_call_shifts/?schedule_id={id}; pass that answer too")
	}
	su := &slackUsers{m: users, vendor: "Grafana OnCall"}
	var imp Import
	used := map[string]bool{}
	convert := func(s gSchedule, own []gShift) {
		for _, sh := range own {
			used[sh.ID] = true
		}
		sc, notes, err := gConvert(s, own, su, now)
		for _, n := range notes {
			imp.Notes = append(imp.Notes, fmt.Sprintf("%s: %s", s.Name, n))
		}
		if err != nil {
			imp.Notes = append(imp.Notes, fmt.Sprintf("%s: not imported: %v", s.Name, err))
			return
		}
		sc.Name = uniqueName(imp.Schedules, sc.Name)
		imp.Schedules = append(imp.Schedules, sc)
	}
	for _, s := range scheds {
		if s.Type == "ical" {
			imp.Notes = append(imp.Notes, fmt.Sprintf("%s: not imported: an iCal schedule keeps its rules in an external .ics file, which this export does not hold", s.Name))
			continue
		}
		var own []gShift
		for _, sh := range shifts {
			if sh.Schedule == s.ID || containsString(s.Shifts, sh.ID) {
				own = append(own, sh)
			}
		}
		convert(s, own)
	}
	var rest []gShift
	for _, sh := range shifts {
		if !used[sh.ID] {
			rest = append(rest, sh)
		}
	}
	if len(rest) > 0 {
		if len(scheds) > 0 {
			imp.Notes = append(imp.Notes, fmt.Sprintf("%d shift(s) belong to none of the schedules given; imported as a schedule called imported", len(rest)))
		} else {
			imp.Notes = append(imp.Notes, "no schedule JSON was given, so the schedule is called imported; pass GET /api/v1/schedules/{id} too for its name and time zone")
		}
		convert(gSchedule{Name: "imported"}, rest)
	}
	if err := su.err(); err != nil {
		return Import{}, err
	}
	return imp, nil
}

// gCandidate is a repeating shift with the length of its period.
type gCandidate struct {
	shift      gShift
	loc        *time.Location
	periodDays int
	full       bool // on call all the time, every period
}

// gConvert turns one Grafana OnCall schedule's shifts into a Sitrep
// schedule: the highest-level repeating shift that covers all the time is
// the rotation (higher levels win where shifts overlap); everything else
// is described in the notes.
func gConvert(s gSchedule, shifts []gShift, su *slackUsers, now time.Time) (ScheduleConfig, []string, error) {
	var notes []string
	var cands []gCandidate
	for _, sh := range shifts {
		zone := s.TimeZone
		if sh.TimeZone != nil && *sh.TimeZone != "" {
			zone = *sh.TimeZone
		}
		if zone == "" {
			return ScheduleConfig{}, notes, fmt.Errorf("shift %q has no time_zone and the schedule's is unknown; pass the schedule's JSON too", sh.Name)
		}
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return ScheduleConfig{}, notes, fmt.Errorf("shift %q: time zone %q is not a known IANA zone", sh.Name, zone)
		}
		start, err := time.ParseInLocation(gLocalTime, sh.Start, loc)
		if err != nil {
			return ScheduleConfig{}, notes, fmt.Errorf("shift %q: start %q is not yyyy-MM-ddTHH:mm:ss", sh.Name, sh.Start)
		}
		dur := time.Duration(sh.Duration) * time.Second
		who := strings.Join(gPeople(sh), ", ")
		switch sh.Type {
		case "override", "single_event":
			end := start.Add(dur)
			if !end.After(now) {
				notes = append(notes, fmt.Sprintf("%s %q ended %s; skipped", strings.ReplaceAll(sh.Type, "_", " "), sh.Name, end.In(loc).Format("2006-01-02 15:04")))
				continue
			}
			notes = append(notes, fmt.Sprintf("%s %q puts %s on call from %s for %s; Sitrep has no one-off shifts in its config: set it as an override in Slack when it begins (/incident oncall override %s @person %s)",
				strings.ReplaceAll(sh.Type, "_", " "), sh.Name, who, start.Format("2006-01-02 15:04 MST"), shortDuration(dur), slug(s.Name), shortDuration(dur)))
			continue
		}
		if sh.Until != nil && *sh.Until != "" {
			until, err := time.ParseInLocation(gLocalTime, *sh.Until, loc)
			if err != nil {
				return ScheduleConfig{}, notes, fmt.Errorf("shift %q: until %q is not yyyy-MM-ddTHH:mm:ss", sh.Name, *sh.Until)
			}
			if !until.After(now) {
				notes = append(notes, fmt.Sprintf("shift %q ended %s; skipped", sh.Name, until.Format("2006-01-02 15:04")))
				continue
			}
		}
		interval := max(sh.Interval, 1)
		var days int
		switch sh.Frequency {
		case "daily":
			days = interval
		case "weekly":
			days = 7 * interval
		default:
			notes = append(notes, fmt.Sprintf("shift %q repeats %s; Sitrep shifts are whole days or weeks, so it is not imported", sh.Name, sh.Frequency))
			continue
		}
		// A shift covers all the time when its events fill each period, or
		// when it has a day-long event on every day of the week.
		full := len(sh.ByMonth) == 0 && len(sh.ByMonthday) == 0 &&
			((len(sh.ByDay) == 0 && dur >= time.Duration(days)*24*time.Hour) || (everyDay(sh.ByDay) && dur >= 24*time.Hour))
		cands = append(cands, gCandidate{shift: sh, loc: loc, periodDays: days, full: full})
	}
	if len(cands) == 0 {
		return ScheduleConfig{}, notes, fmt.Errorf("no repeating shift (rolling users or recurrent event) is in effect")
	}
	base := -1
	for i, c := range cands {
		if c.full && (base < 0 || c.shift.Level > cands[base].shift.Level) {
			base = i
		}
	}
	if base < 0 {
		for i, c := range cands {
			if base < 0 || c.shift.Level > cands[base].shift.Level {
				base = i
			}
		}
		notes = append(notes, fmt.Sprintf("shift %q is on call only %s; Sitrep schedules cover all hours, so it is imported as on call all the time", cands[base].shift.Name, gHours(cands[base])))
	}
	b := cands[base]
	for i, c := range cands {
		switch {
		case i == base:
		case c.shift.Level > b.shift.Level:
			notes = append(notes, fmt.Sprintf("shift %q (%s, level %d) takes priority only %s; Sitrep cannot express hours of the day, so it is not imported: hand those hours over with /incident oncall override, or make it a second schedule",
				c.shift.Name, strings.Join(gPeople(c.shift), ", "), c.shift.Level, gHours(c)))
		default:
			notes = append(notes, fmt.Sprintf("shift %q (%s, level %d) is at or below %q (level %d), which covers all the time, so it is never on call; not imported",
				c.shift.Name, strings.Join(gPeople(c.shift), ", "), c.shift.Level, b.shift.Name, b.shift.Level))
		}
	}
	sh := b.shift
	start, _ := time.ParseInLocation(gLocalTime, sh.Start, b.loc)
	if start.Second() != 0 {
		notes = append(notes, fmt.Sprintf("shift %q hands off at %s; Sitrep hands off on the minute", sh.Name, start.Format("15:04:05")))
	}
	shift, handoff, err := shiftFields(b.periodDays, start)
	if err != nil {
		return ScheduleConfig{}, notes, fmt.Errorf("shift %q: %v", sh.Name, err)
	}
	if rs, err := time.ParseInLocation(gLocalTime, sh.RotationFrom, b.loc); err == nil && rs.After(now) {
		notes = append(notes, fmt.Sprintf("shift %q takes effect only %s; the imported schedule is in effect at once", sh.Name, rs.Format("2006-01-02 15:04")))
	}
	if sh.Until != nil && *sh.Until != "" {
		notes = append(notes, fmt.Sprintf("shift %q ends %s; Sitrep schedules do not end, so remove the imported one then", sh.Name, *sh.Until))
	}
	groups := sh.RollingUsers
	if sh.Type == "recurrent_event" {
		// Everyone listed is on call together in every event.
		groups = [][]string{sh.Users}
	}
	if len(groups) > 0 && sh.StartIndex != nil {
		k := mod(*sh.StartIndex, len(groups))
		groups = append(append([][]string{}, groups[k:]...), groups[:k]...)
	}
	sc := ScheduleConfig{
		Name:     slug(s.Name),
		TimeZone: b.loc.String(),
		// The recurrence anchor (start) is the first group's first period.
		Start:   start.Format("2006-01-02"),
		Handoff: handoff,
		Shift:   shift,
	}
	for _, g := range groups {
		if len(g) == 0 {
			continue
		}
		if len(g) > 1 {
			notes = append(notes, fmt.Sprintf("shift %q puts %s on call together; Sitrep has one person on call per shift, so only %s is imported (page the others with a policy step)",
				sh.Name, strings.Join(g, " and "), g[0]))
		}
		sc.Rotation = append(sc.Rotation, su.lookup(g[0], g[0]))
		for _, u := range g[1:] {
			su.lookup(u, u)
		}
	}
	if len(sc.Rotation) == 0 {
		return ScheduleConfig{}, notes, fmt.Errorf("shift %q has no one in it", sh.Name)
	}
	return sc, notes, nil
}

// gPeople lists a shift's users by their Grafana IDs.
func gPeople(sh gShift) []string {
	var out []string
	out = append(out, sh.Users...)
	for _, g := range sh.RollingUsers {
		out = append(out, g...)
	}
	return out
}

// gHours describes when a repeating shift is on call, in words.
func gHours(c gCandidate) string {
	sh := c.shift
	start, _ := time.ParseInLocation(gLocalTime, sh.Start, c.loc)
	s := fmt.Sprintf("(%s from %s", shortDuration(time.Duration(sh.Duration)*time.Second), start.Format("15:04"))
	if len(sh.ByDay) > 0 {
		s += " on " + strings.Join(sh.ByDay, ",")
	} else {
		s += fmt.Sprintf(" every %d day(s)", c.periodDays)
	}
	if len(sh.ByMonth) > 0 || len(sh.ByMonthday) > 0 {
		s += ", in some months or days of the month only"
	}
	return s + ")"
}

// everyDay reports whether byDay names all seven days.
func everyDay(byDay []string) bool {
	seen := map[string]bool{}
	for _, d := range byDay {
		seen[strings.ToUpper(d)] = true
	}
	for _, d := range []string{"MO", "TU", "WE", "TH", "FR", "SA", "SU"} {
		if !seen[d] {
			return false
		}
	}
	return true
}
