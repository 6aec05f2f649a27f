package postmortem

import (
	"fmt"
	"strings"
	"text/template"
	"time"
)

// Duration formats d the way incident reports state it: "22h 3m", "3d 4h",
// "45m", and "40s" under a minute. From a minute up it truncates to the
// minute and drops the smallest unit when it is zero ("2h", "3d"), since a
// postmortem reader wants the scale, not the seconds. Negative durations,
// which only clock skew makes, read "0s".
func Duration(d time.Duration) string {
	if d < time.Minute {
		// Under a minute says how many seconds: "0m" for 40 s reads as
		// if nothing was measured.
		return fmt.Sprintf("%ds", max(0, int64(d/time.Second)))
	}
	m := int64(d / time.Minute)
	days, hours, mins := m/(24*60), m/60%24, m%60
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case hours > 0 && mins > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	case hours > 0:
		return fmt.Sprintf("%dh", hours)
	}
	return fmt.Sprintf("%dm", mins)
}

// UTC formats t as "2021-12-02 20:24 UTC".
func UTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// Local formats t in its own time zone as "2021-12-02 12:24 PST".
func Local(t time.Time) string { return t.Format("2006-01-02 15:04 MST") }

// Clock formats t in its own zone as "12:24 PST", adding the date ("Dec 2
// 20:25 PST") when it falls on another day than in UTC, so that a
// timeline row read beside its UTC time is never off by a day.
func Clock(t time.Time) string {
	u := t.UTC()
	if t.YearDay() != u.YearDay() || t.Year() != u.Year() {
		return t.Format("Jan 2 15:04 MST")
	}
	return t.Format("15:04 MST")
}

// Funcs returns the functions postmortem templates may call. A new map
// each time, so that no caller can change another's.
//
//	cell      fold a Markdown field onto one line (table cells, list items)
//	duration  a time.Duration as "22h 3m"
//	utc       a time as "2021-12-02 20:24 UTC"
//	local     a time in the configured zone as "2021-12-02 12:24 PST"
//	clock     a time in the configured zone as "12:24 PST"
//	join      strings.Join
//	yesno     a bool as "yes" or "no"
//	add       integer addition, to number a list from its index
func Funcs() template.FuncMap {
	return template.FuncMap{
		"cell":     fold,
		"duration": Duration,
		"utc":      UTC,
		"local":    Local,
		"clock":    Clock,
		"join":     strings.Join,
		"add":      func(a, b int) int { return a + b },
		"yesno": func(b bool) string {
			if b {
				return "yes"
			}
			return "no"
		},
	}
}
