package oncall

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readExport(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "shared", "integrations", "schedules", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// importNow is a Sunday evening in December 2026: Layer 3 of the PagerDuty
// export has ended, the Christmas override has not begun.
var importNow = time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)

var pdUsers = UserMap{"PANA001": "UANA", "PBEN002": "UBEN", "Chloé Dubois": "UCHL", "PDEV004": "UDEV", "PELI005": "UELI"}

var grafanaUsers = UserMap{"UANA7Q2K9M3XP": "UANA", "UBEN4R8T1V6YL": "UBEN", "UCHL2W5H8J3NF": "UCHL", "UDEV9K3L6P1QS": "UDEV", "UELI5M7N2R8TC": "UELI"}

func TestImportSchedules(t *testing.T) {
	checkout := ScheduleConfig{Name: "checkout-on-call", TimeZone: "Europe/Berlin", Start: "2026-01-05", Handoff: "monday 09:00", Shift: "1w", Rotation: []string{"UANA", "UBEN", "UCHL"}}
	for _, tc := range []struct {
		name    string
		vendor  string
		files   []string
		users   UserMap
		want    []ScheduleConfig
		notes   []string // each must appear in some note
		noNotes []string
	}{
		{
			name: "pagerduty layers", vendor: FromPagerDuty, files: []string{"pagerduty-schedule-layers.json"}, users: pdUsers,
			want: []ScheduleConfig{checkout},
			notes: []string{
				`layer "Layer 3" ended 2026-08-17 09:00; skipped`,
				`layer "Layer 2" (PDEV004 (Dev Patel), PELI005 (Eli Novak)) takes priority only (Mon 09:00 for 9h, Tue 09:00 for 9h, Wed 09:00 for 9h, Thu 09:00 for 9h, Fri 09:00 for 9h); Sitrep cannot express hours of the day`,
			},
		},
		{
			// The documented example: a daily layer restricted to office
			// hours, the only layer, so its hours are lost (and said so).
			name: "pagerduty docs", vendor: FromPagerDuty, files: []string{"pagerduty-schedule.docs.json"}, users: UserMap{"PXPGF42": "UREG"},
			want:  []ScheduleConfig{{Name: "daily-engineering-rotation", TimeZone: "America/New_York", Start: "2015-11-06", Handoff: "20:00", Shift: "1d", Rotation: []string{"UREG"}}},
			notes: []string{`layer "Layer 1" is on call only (daily 08:00 for 9h); Sitrep schedules cover all hours`},
		},
		{
			name: "grafana web schedule", vendor: FromGrafanaOnCall, files: []string{"grafana-oncall-schedule-web.json", "grafana-oncall-on-call-shifts-web.json"}, users: grafanaUsers,
			want: []ScheduleConfig{checkout},
			notes: []string{
				`shift "Weekday business hours" (UDEV9K3L6P1QS, UELI5M7N2R8TC, level 2) takes priority only (9h from 09:00 on MO,TU,WE,TH,FR)`,
				`shift "Weekend backup" (UBEN4R8T1V6YL, level 0) is at or below "Primary 24/7 weekly" (level 1)`,
				`single event "Release night" puts UCHL2W5H8J3NF on call from 2026-12-10 19:00 UTC for 4h`,
				`override "Christmas Eve override" puts UCHL2W5H8J3NF on call from 2026-12-24 18:00 CET for 39h`,
			},
		},
		{
			// The overrides come from another endpoint; they are listed,
			// the ended one as skipped.
			name: "pagerduty with overrides", vendor: FromPagerDuty, files: []string{"pagerduty-schedule-layers.json", "pagerduty-schedule-overrides.json"}, users: pdUsers,
			want: []ScheduleConfig{checkout},
			notes: []string{
				`override POVR7A1 puts PCHL003 (Chloé Dubois) on call from 2026-12-24T18:00:00+01:00 to 2026-12-26T09:00:00+01:00; Sitrep has no overrides in its config: set it in Slack when it begins (/incident oncall override <schedule> @person 39h)`,
				`override POVR7A2 puts PDEV004 (Dev Patel) on call from 2026-12-25T09:00:00+01:00`,
			},
		},
		{
			// The documented shifts carry no zone and no schedule: the zone
			// must come from somewhere, so the schedule list is passed too.
			name: "grafana docs", vendor: FromGrafanaOnCall, files: []string{"grafana-oncall-schedules-list.docs.json", "grafana-oncall-on-call-shifts-list.docs.json"}, users: UserMap{"U4DNY931HHJS5": "UDEMO"},
			want: []ScheduleConfig{{Name: "demo-schedule-calendar", TimeZone: "America/New_York", Start: "2020-09-10", Handoff: "thursday 16:00", Shift: "2w", Rotation: []string{"UDEMO"}}},
			notes: []string{
				`Demo schedule iCal: not imported: an iCal schedule keeps its rules in an external .ics file`,
				`shift "Demo recurrent event" is on call only (3h from 16:00 on MO,WE,FR)`,
				`single event "Demo single event" ended 2020-09-10 11:00; skipped`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var exports [][]byte
			for _, f := range tc.files {
				exports = append(exports, readExport(t, f))
			}
			imp, err := ImportSchedules(tc.vendor, exports, tc.users, importNow)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(imp.Schedules, tc.want) {
				t.Errorf("schedules:\n got %+v\nwant %+v", imp.Schedules, tc.want)
			}
			all := strings.Join(imp.Notes, "\n")
			for _, n := range tc.notes {
				if !strings.Contains(all, n) {
					t.Errorf("notes lack %q:\n%s", n, all)
				}
			}
		})
	}
}

// TestImportedRotationRuns compiles the PagerDuty import and checks who is
// on call either side of a handoff, as PagerDuty's turn arithmetic has it:
// turn k from rotation_virtual_start belongs to users[k mod 3].
func TestImportedRotationRuns(t *testing.T) {
	imp, err := ImportSchedules(FromPagerDuty, [][]byte{readExport(t, "pagerduty-schedule-layers.json")}, pdUsers, importNow)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Config{Schedules: imp.Schedules}.Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	s := plan.Schedules[0]
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 1, 5, 9, 0, 0, 0, berlin), "UANA"},   // turn 0
		{time.Date(2026, 1, 12, 8, 59, 0, 0, berlin), "UANA"}, // still turn 0
		{time.Date(2026, 1, 12, 9, 0, 0, 0, berlin), "UBEN"},  // turn 1
		{time.Date(2026, 12, 7, 8, 59, 0, 0, berlin), "UCHL"}, // turn 47
		{time.Date(2026, 12, 7, 9, 0, 0, 0, berlin), "UANA"},  // turn 48
	} {
		if got := s.At(tc.at, nil).User; got != tc.want {
			t.Errorf("at %s: %s on call, want %s", tc.at, got, tc.want)
		}
	}
}

func TestImportBadInput(t *testing.T) {
	pd := readExport(t, "pagerduty-schedule-layers.json")
	gShifts := readExport(t, "grafana-oncall-on-call-shifts-web.json")
	gSched := readExport(t, "grafana-oncall-schedule-web.json")
	for _, tc := range []struct {
		name    string
		vendor  string
		exports [][]byte
		users   UserMap
		want    []string
	}{
		{"not json", FromPagerDuty, [][]byte{[]byte("<html>login</html>")}, pdUsers, []string{"export 1 is not JSON"}},
		{"not json grafana", FromGrafanaOnCall, [][]byte{[]byte("schedule: x")}, grafanaUsers, []string{"export 1 is not JSON"}},
		{"grafana given to pagerduty", FromPagerDuty, [][]byte{gShifts}, pdUsers, []string{"looks like Grafana OnCall's", "--from grafana-oncall"}},
		{"pagerduty given to grafana", FromGrafanaOnCall, [][]byte{pd}, grafanaUsers, []string{"looks like PagerDuty's", "--from pagerduty"}},
		{"json array", FromPagerDuty, [][]byte{[]byte(`[1, 2]`)}, pdUsers, []string{"export 1 is not a PagerDuty schedule export: it is a JSON array, where an object was expected"}},
		{"wrong field type", FromPagerDuty, [][]byte{[]byte(`{"schedule": {"name": 5}}`)}, pdUsers, []string{"export 1 is not a PagerDuty schedule export: schedule.name is a JSON number, not a string"}},
		{"grafana numbers", FromGrafanaOnCall, [][]byte{[]byte(`[1, 2]`)}, grafanaUsers, []string{"export 1 is not a Grafana OnCall schedule or shift list (an item has no type)"}},
		{"unknown json", FromPagerDuty, [][]byte{[]byte(`{"incidents": []}`)}, pdUsers, []string{"export 1 is not a PagerDuty schedule"}},
		{"no user map", FromPagerDuty, [][]byte{pd}, nil, []string{"no Slack user ID for 3 PagerDuty user(s): PANA001 (Ana Alves), PBEN002 (Ben Brandt), PCHL003 (Chloé Dubois)", "--users"}},
		{"one user missing", FromPagerDuty, [][]byte{pd}, UserMap{"PANA001": "UANA", "PBEN002": "UBEN"}, []string{"1 PagerDuty user(s): PCHL003 (Chloé Dubois)"}},
		// Grafana's user IDs look like Slack's; they must not pass as such.
		{"grafana ids without map", FromGrafanaOnCall, [][]byte{gSched, gShifts}, nil, []string{"no Slack user ID for 3 Grafana OnCall user(s): UANA7Q2K9M3XP, UBEN4R8T1V6YL, UCHL2W5H8J3NF"}},
		{"grafana schedule alone", FromGrafanaOnCall, [][]byte{gSched}, grafanaUsers, []string{"no shifts in the export", "on_call_shifts"}},
		{"grafana shifts without zone", FromGrafanaOnCall, [][]byte{readExport(t, "grafana-oncall-on-call-shifts-list.docs.json")}, UserMap{"U4DNY931HHJS5": "UDEMO"}, []string{`shift "Demo single event" has no time_zone`, "pass the schedule's JSON too"}},
		{"slack id mapped wrong", FromPagerDuty, [][]byte{pd}, UserMap{"PANA001": "ana@example.com", "PBEN002": "UBEN", "PCHL003": "UCHL"}, []string{`rotation[0] "ana@example.com": not a Slack user ID`}},
		{"grafana final shifts", FromGrafanaOnCall, [][]byte{readExport(t, "grafana-oncall-final-shifts.docs.json")}, grafanaUsers, []string{"final_shifts rendering", "on_call_shifts"}},
		{"pagerduty overrides alone", FromPagerDuty, [][]byte{readExport(t, "pagerduty-schedule-overrides.json")}, pdUsers, []string{"nothing in the export could become a Sitrep schedule", "override POVR7A1"}},
		{"unknown vendor", "opsgenie", [][]byte{pd}, pdUsers, []string{`unknown source "opsgenie"`}},
		{"twelve-hour turns", FromPagerDuty, [][]byte{[]byte(`{"schedule":{"name":"Night","time_zone":"UTC","schedule_layers":[{"name":"L1","start":"2026-01-01T00:00:00Z","end":null,"rotation_virtual_start":"2026-01-01T08:00:00Z","rotation_turn_length_seconds":43200,"users":[{"user":{"id":"PANA001"}}],"restrictions":[]}]}}`)}, pdUsers,
			[]string{"Night: not imported: layer \"L1\" has turns of 12h0m0s; Sitrep shifts are whole days or weeks"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ImportSchedules(tc.vendor, tc.exports, tc.users, importNow)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Checkout on-call":         "checkout-on-call",
		"  24/7 Primary!! ":        "primary",
		"Équipe Paiement":          "quipe-paiement",
		"":                         "imported",
		strings.Repeat("abc ", 20): "abc-abc-abc-abc-abc-abc-abc-ab",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestImportShapes covers shapes the recorded exports lack: PagerDuty's
// schedule list with two schedules of one name and a fortnightly layer
// handing off mid-week at an odd second; Grafana's rolling users that
// start from another group, a group of two, a zone taken from the
// schedule, and a shift that repeats hourly.
func TestImportShapes(t *testing.T) {
	pd := `{"schedules": [
	  {"name": "Ops", "time_zone": "America/New_York", "schedule_layers": [
	    {"name": "L1", "start": "2026-03-01T10:00:00-05:00", "end": null, "rotation_virtual_start": "2026-03-04T17:30:20-05:00",
	     "rotation_turn_length_seconds": 1209600, "users": [{"user": {"id": "PA"}}, {"user": {"id": "PB"}}], "restrictions": []}]},
	  {"name": "ops", "time_zone": "UTC", "schedule_layers": [
	    {"name": "L1", "start": "2026-03-01T10:00:00Z", "end": "2026-03-01T10:00:00Z", "rotation_virtual_start": "2026-03-01T10:00:00Z",
	     "rotation_turn_length_seconds": 86400, "users": [{"user": {"id": "PA"}}], "restrictions": []},
	    {"name": "L0", "start": "2026-03-01T10:00:00Z", "end": null, "rotation_virtual_start": "2026-03-01T10:00:00Z",
	     "rotation_turn_length_seconds": 259200, "users": [{"user": {"id": "PC", "email": "c@example.com"}}], "restrictions": []}]}]}`
	imp, err := ImportSchedules(FromPagerDuty, [][]byte{[]byte(pd)}, UserMap{"PA": "UA", "PB": "UB", "c@example.com": "UC"}, importNow)
	if err != nil {
		t.Fatal(err)
	}
	want := []ScheduleConfig{
		{Name: "ops", TimeZone: "America/New_York", Start: "2026-03-04", Handoff: "wednesday 17:30", Shift: "2w", Rotation: []string{"UA", "UB"}},
		{Name: "ops-2", TimeZone: "UTC", Start: "2026-03-01", Handoff: "10:00", Shift: "3d", Rotation: []string{"UC"}},
	}
	if !reflect.DeepEqual(imp.Schedules, want) {
		t.Errorf("pagerduty schedules:\n got %+v\nwant %+v", imp.Schedules, want)
	}
	if all := strings.Join(imp.Notes, "\n"); !strings.Contains(all, `Ops: layer "L1" hands off at 17:30:20; Sitrep hands off on the minute`) ||
		!strings.Contains(all, `ops: layer "L1" ended 2026-03-01 10:00; skipped`) {
		t.Errorf("pagerduty notes:\n%s", all)
	}

	g := `[{"id": "S1", "name": "Payments", "type": "calendar", "time_zone": "Asia/Tokyo", "shifts": ["O1", "O2", "O3"]},
	  {"id": "O1", "name": "Daily", "type": "rolling_users", "time_zone": null, "level": 0, "start": "2026-11-30T08:00:00",
	   "duration": 86400, "frequency": "daily", "interval": 1, "until": null, "by_day": null,
	   "rolling_users": [["GA"], ["GB", "GC"], ["GD"]], "start_rotation_from_user_index": 1},
	  {"id": "O3", "name": "Weekly all days", "type": "rolling_users", "time_zone": "Asia/Tokyo", "level": -1, "start": "2026-11-30T08:00:00",
	   "duration": 86400, "frequency": "weekly", "interval": 1, "until": "2027-01-01T00:00:00", "by_day": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"],
	   "rolling_users": [["GA"], ["GD"]]},
	  {"id": "O2", "name": "Hourly", "type": "rolling_users", "time_zone": null, "level": 5, "start": "2026-11-30T08:00:00",
	   "duration": 3600, "frequency": "hourly", "interval": 1, "rolling_users": [["GA"]]}]`
	imp, err = ImportSchedules(FromGrafanaOnCall, [][]byte{[]byte(g)}, UserMap{"GA": "UA", "GB": "UB", "GC": "UC", "GD": "UD"}, importNow)
	if err != nil {
		t.Fatal(err)
	}
	want = []ScheduleConfig{{Name: "payments", TimeZone: "Asia/Tokyo", Start: "2026-11-30", Handoff: "08:00", Shift: "1d", Rotation: []string{"UB", "UD", "UA"}}}
	if !reflect.DeepEqual(imp.Schedules, want) {
		t.Errorf("grafana schedules:\n got %+v\nwant %+v", imp.Schedules, want)
	}
	all := strings.Join(imp.Notes, "\n")
	for _, n := range []string{
		`Payments: shift "Hourly" repeats hourly; Sitrep shifts are whole days or weeks, so it is not imported`,
		`Payments: shift "Daily" puts GB and GC on call together; Sitrep has one person on call per shift, so only GB is imported`,
		// A day-long event on every weekday covers all the time too.
		`Payments: shift "Weekly all days" (GA, GD, level -1) is at or below "Daily" (level 0), which covers all the time`,
	} {
		if !strings.Contains(all, n) {
			t.Errorf("grafana notes lack %q:\n%s", n, all)
		}
	}
}

// TestImportGrafanaEveryDay: a weekly rotation written as a day-long event
// on each of the seven days covers all the time, so it outranks a lower
// level and becomes the rotation.
func TestImportGrafanaEveryDay(t *testing.T) {
	g := `{"results": [
	  {"id": "O1", "name": "Nights", "type": "recurrent_event", "time_zone": "Asia/Tokyo", "level": 0, "start": "2026-11-30T20:00:00",
	   "duration": 43200, "frequency": "daily", "interval": 1, "users": ["GA"]},
	  {"id": "O3", "name": "Weekly all days", "type": "rolling_users", "time_zone": "Asia/Tokyo", "level": 1, "start": "2026-11-30T08:00:00",
	   "duration": 86400, "frequency": "weekly", "interval": 1, "until": "2027-01-01T00:00:00", "by_day": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"],
	   "rolling_users": [["GA"], ["GD"]]}]}`
	imp, err := ImportSchedules(FromGrafanaOnCall, [][]byte{[]byte(g)}, UserMap{"GA": "UA", "GD": "UD"}, importNow)
	if err != nil {
		t.Fatal(err)
	}
	want := []ScheduleConfig{{Name: "imported", TimeZone: "Asia/Tokyo", Start: "2026-11-30", Handoff: "monday 08:00", Shift: "1w", Rotation: []string{"UA", "UD"}}}
	if !reflect.DeepEqual(imp.Schedules, want) {
		t.Errorf("schedules:\n got %+v\nwant %+v", imp.Schedules, want)
	}
	all := strings.Join(imp.Notes, "\n")
	for _, n := range []string{
		`shift "Nights" (GA, level 0) is at or below "Weekly all days" (level 1)`,
		`shift "Weekly all days" ends 2027-01-01T00:00:00; Sitrep schedules do not end`,
		"no schedule JSON was given, so the schedule is called imported",
	} {
		if !strings.Contains(all, n) {
			t.Errorf("notes lack %q:\n%s", n, all)
		}
	}
}
