// Package oncall answers who is on call: schedules that rotate people
// through shifts in a time zone, the overrides people record, and the
// escalation policies that say whom to page, in what order. It is pure:
// every answer is a function of the configuration, the overrides and a
// time, so it is tested at handoffs, across daylight-saving changes and on
// leap days without a clock. Standard library only.
package oncall

import (
	"slices"
	"time"
)

// Schedule is one rotation, compiled from the config file (Config.Compile).
type Schedule struct {
	Name     string
	Location *time.Location
	// Start is the date (in Location) of the first shift's handoff:
	// Rotation[0] is on call from the first handoff on or after it.
	Start Date
	// HandoffDay is the weekday shifts change on; it is meaningful only
	// when HasDay is set (shifts of whole weeks). Daily shifts change at
	// HandoffHour:HandoffMinute every ShiftDays days.
	HandoffDay    time.Weekday
	HasDay        bool
	HandoffHour   int
	HandoffMinute int
	// ShiftDays is the length of a shift in calendar days: handoffs keep
	// their wall-clock time across daylight-saving changes, so a shift is
	// counted in days, not hours.
	ShiftDays int
	Rotation  []string // Slack user IDs, in order
	// Provisional users, when on call, have the Backup rotation paged
	// with them (seed 000): a new engineer is on call with a qualified
	// one behind them.
	Provisional []string
	Backup      []string
}

// Date is a calendar date without a time or a zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// days counts the days from the Unix epoch to d, by the calendar: in UTC,
// where every day has 24 hours.
func (d Date) days() int {
	return int(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func dateOfDays(n int) Date {
	t := time.Unix(int64(n)*86400, 0).UTC()
	return Date{t.Year(), t.Month(), t.Day()}
}

// firstHandoffDays is the day number of the first shift's handoff.
func (s *Schedule) firstHandoffDays() int {
	d := s.Start.days()
	if s.HasDay {
		wd := time.Date(s.Start.Year, s.Start.Month, s.Start.Day, 0, 0, 0, 0, time.UTC).Weekday()
		d += (int(s.HandoffDay) - int(wd) + 7) % 7
	}
	return d
}

// handoff returns the start of shift k (k may be negative: shifts before
// the first, counted back through the rotation), at the handoff's wall-clock
// time in the schedule's zone. A handoff at a time the zone skips (02:30
// on the night clocks go forward) falls at the same distance after the
// gap, as time.Date normalises it.
func (s *Schedule) handoff(k int) time.Time {
	d := dateOfDays(s.firstHandoffDays() + k*s.ShiftDays)
	return time.Date(d.Year, d.Month, d.Day, s.HandoffHour, s.HandoffMinute, 0, 0, s.Location)
}

// shiftAt returns the index of the shift under way at t.
func (s *Schedule) shiftAt(t time.Time) int {
	local := t.In(s.Location)
	days := Date{local.Year(), local.Month(), local.Day()}.days() - s.firstHandoffDays()
	k := floorDiv(days, s.ShiftDays)
	// The calendar estimate is off by one near a handoff: before the
	// handoff's time on its day, the previous shift still runs.
	for t.Before(s.handoff(k)) {
		k--
	}
	for !t.Before(s.handoff(k + 1)) {
		k++
	}
	return k
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func mod(a, b int) int { return ((a % b) + b) % b }

// Override puts User on call for a schedule from Start until End, in place
// of whoever the rotation says. It is recorded with who set it and when.
type Override struct {
	ID       int64
	Schedule string
	User     string
	Start    time.Time
	End      time.Time
	SetBy    string
	SetAt    time.Time
}

// Active reports whether o is in force at t.
func (o Override) Active(t time.Time) bool { return !t.Before(o.Start) && t.Before(o.End) }

// Shift is who is on call for a schedule over a stretch of time.
type Shift struct {
	Schedule string
	User     string
	Start    time.Time
	End      time.Time // when the next person takes over
	// Provisional is set when User is provisional; Backup is then who is
	// paged with them.
	Provisional bool
	Backup      string
	// Override is the override that put User on call, if one did.
	Override *Override
}

// At returns who is on call for s at t, given the overrides recorded for
// it (overrides of other schedules are ignored). Of overlapping
// overrides, the one set last wins. The shift ends at the next handoff or
// the end of the override, or earlier where another override begins.
func (s *Schedule) At(t time.Time, overrides []Override) Shift {
	k := s.shiftAt(t)
	sh := Shift{Schedule: s.Name, User: s.Rotation[mod(k, len(s.Rotation))], Start: s.handoff(k), End: s.handoff(k + 1)}
	var ov *Override
	for i := range overrides {
		o := &overrides[i]
		if o.Schedule != s.Name || !o.Active(t) {
			continue
		}
		if ov == nil || o.SetAt.After(ov.SetAt) || (o.SetAt.Equal(ov.SetAt) && o.ID > ov.ID) {
			ov = o
		}
	}
	if ov != nil {
		o := *ov
		sh.User, sh.Override = o.User, &o
		// An override may span handoffs: it runs from its start to its
		// end whatever the rotation does meanwhile.
		sh.Start, sh.End = o.Start, o.End
	}
	// A later override beginning before this shift's end cuts it short;
	// so does one set later than the override in force.
	for _, o := range overrides {
		if o.Schedule != s.Name || !o.Start.After(t) || !o.Start.Before(sh.End) {
			continue
		}
		if ov == nil || o.SetAt.After(ov.SetAt) || (o.SetAt.Equal(ov.SetAt) && o.ID > ov.ID) {
			sh.End = o.Start
		}
	}
	sh.Start, sh.End = sh.Start.UTC(), sh.End.UTC()
	if slices.Contains(s.Provisional, sh.User) && len(s.Backup) > 0 {
		sh.Provisional = true
		// The backup follows the rotation's shifts, not the override's.
		sh.Backup = s.Backup[mod(k, len(s.Backup))]
	}
	return sh
}

// NowAndNext returns the shift under way at t and the one after it.
func (s *Schedule) NowAndNext(t time.Time, overrides []Override) (Shift, Shift) {
	now := s.At(t, overrides)
	return now, s.At(now.End, overrides)
}
