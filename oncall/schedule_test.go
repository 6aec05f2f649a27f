package oncall

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustPlan(t *testing.T, c Config) *Plan {
	t.Helper()
	p, err := c.Compile([]string{"sev0", "sev1", "sev2"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestOnCallAt(t *testing.T) {
	p := mustPlan(t, Config{Schedules: []ScheduleConfig{
		{Name: "london", TimeZone: "Europe/London", Start: "2026-01-05", Handoff: "monday 09:00", Rotation: []string{"U0A", "U0B", "U0C"}},
		{Name: "ny", TimeZone: "America/New_York", Start: "2026-01-01", Handoff: "09:00", Shift: "1d", Rotation: []string{"U0A", "U0B", "U0C"}},
		{Name: "leap", TimeZone: "UTC", Start: "2028-02-27", Handoff: "09:00", Shift: "1d", Rotation: []string{"U0A", "U0B", "U0C"}},
		{Name: "leapweek", TimeZone: "UTC", Start: "2028-02-29", Handoff: "tuesday 09:00", Rotation: []string{"U0A", "U0B"}},
		// The start is a Wednesday: the first handoff is the Monday after.
		{Name: "midweek", TimeZone: "Europe/Berlin", Start: "2026-01-07", Handoff: "mon 09:00", Shift: "2w", Rotation: []string{"U0A", "U0B"}},
	}})
	tests := []struct {
		name, schedule, at string
		user, start, end   string
	}{
		{"first handoff", "london", "2026-01-05T09:00:00Z", "U0A", "2026-01-05T09:00:00Z", "2026-01-12T09:00:00Z"},
		{"a second before the first handoff counts back", "london", "2026-01-05T08:59:59Z", "U0C", "2025-12-29T09:00:00Z", "2026-01-05T09:00:00Z"},
		{"second shift", "london", "2026-01-12T09:00:00Z", "U0B", "2026-01-12T09:00:00Z", "2026-01-19T09:00:00Z"},
		{"rotation wraps", "london", "2026-01-26T10:00:00Z", "U0A", "2026-01-26T09:00:00Z", "2026-02-02T09:00:00Z"},
		// Clocks go forward on 2026-03-29: the Monday 09:00 handoff is 08:00 UTC from then.
		{"london shift across spring forward", "london", "2026-03-29T12:00:00Z", "U0C", "2026-03-23T09:00:00Z", "2026-03-30T08:00:00Z"},
		{"london first handoff in summer time", "london", "2026-03-30T08:00:00Z", "U0A", "2026-03-30T08:00:00Z", "2026-04-06T08:00:00Z"},
		{"london just before it", "london", "2026-03-30T07:59:59Z", "U0C", "2026-03-23T09:00:00Z", "2026-03-30T08:00:00Z"},
		// Clocks go back on 2026-10-25: the handoff is 09:00 UTC again.
		{"london shift across fall back", "london", "2026-10-25T12:00:00Z", "U0C", "2026-10-19T08:00:00Z", "2026-10-26T09:00:00Z"},
		{"london an hour before the winter handoff", "london", "2026-10-26T08:30:00Z", "U0C", "2026-10-19T08:00:00Z", "2026-10-26T09:00:00Z"},
		{"london winter handoff", "london", "2026-10-26T09:00:00Z", "U0A", "2026-10-26T09:00:00Z", "2026-11-02T09:00:00Z"},
		// New York moves to EDT on 2026-03-08 and back on 2026-11-01: the
		// daily 09:00 handoff keeps its wall-clock time, so those days'
		// shifts are 23 and 25 hours long.
		{"ny day before spring forward", "ny", "2026-03-07T15:00:00Z", "U0C", "2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z"},
		{"ny 23-hour shift", "ny", "2026-03-08T13:00:00Z", "U0A", "2026-03-08T13:00:00Z", "2026-03-09T13:00:00Z"},
		{"ny 25-hour shift", "ny", "2026-11-01T00:00:00Z", "U0A", "2026-10-31T13:00:00Z", "2026-11-01T14:00:00Z"},
		{"ny after fall back", "ny", "2026-11-01T14:00:00Z", "U0B", "2026-11-01T14:00:00Z", "2026-11-02T14:00:00Z"},
		{"leap day is a shift", "leap", "2028-02-29T12:00:00Z", "U0C", "2028-02-29T09:00:00Z", "2028-03-01T09:00:00Z"},
		{"the day after the leap day", "leap", "2028-03-01T09:00:00Z", "U0A", "2028-03-01T09:00:00Z", "2028-03-02T09:00:00Z"},
		{"weekly from a leap day", "leapweek", "2028-02-29T09:00:00Z", "U0A", "2028-02-29T09:00:00Z", "2028-03-07T09:00:00Z"},
		{"a year on from the leap day", "leapweek", "2029-02-28T09:00:00Z", "U0A", "2029-02-27T09:00:00Z", "2029-03-06T09:00:00Z"},
		{"first handoff after a midweek start", "midweek", "2026-01-12T08:00:00Z", "U0A", "2026-01-12T08:00:00Z", "2026-01-26T08:00:00Z"},
		{"before it, counted back", "midweek", "2026-01-12T07:59:00Z", "U0B", "2025-12-29T08:00:00Z", "2026-01-12T08:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Schedule(tt.schedule).At(utc(tt.at), nil)
			want := Shift{Schedule: tt.schedule, User: tt.user, Start: utc(tt.start), End: utc(tt.end)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("At(%s) (-want +got):\n%s", tt.at, diff)
			}
		})
	}
}

func TestOverrides(t *testing.T) {
	p := mustPlan(t, Config{Schedules: []ScheduleConfig{
		{Name: "primary", TimeZone: "Europe/London", Start: "2026-01-05", Handoff: "monday 09:00", Rotation: []string{"U0A", "U0B"}},
	}})
	s := p.Schedule("primary")
	inside := Override{ID: 1, Schedule: "primary", User: "U0D", Start: utc("2026-01-07T12:00:00Z"), End: utc("2026-01-08T12:00:00Z"), SetBy: "U0A", SetAt: utc("2026-01-07T12:00:00Z")}
	spanning := Override{ID: 2, Schedule: "primary", User: "U0E", Start: utc("2026-01-11T12:00:00Z"), End: utc("2026-01-13T12:00:00Z"), SetBy: "U0B", SetAt: utc("2026-01-11T12:00:00Z")}
	other := Override{ID: 3, Schedule: "other", User: "U0Z", Start: utc("2026-01-01T00:00:00Z"), End: utc("2027-01-01T00:00:00Z")}
	ovs := []Override{inside, spanning, other}
	tests := []struct {
		name, at         string
		user, start, end string
		override         *Override
	}{
		{"before the override, the shift ends where it begins", "2026-01-07T11:59:00Z", "U0A", "2026-01-05T09:00:00Z", "2026-01-07T12:00:00Z", nil},
		{"inside a shift", "2026-01-07T12:00:00Z", "U0D", "2026-01-07T12:00:00Z", "2026-01-08T12:00:00Z", &inside},
		{"after it, the rotation again", "2026-01-08T12:00:00Z", "U0A", "2026-01-05T09:00:00Z", "2026-01-11T12:00:00Z", nil},
		{"spanning a handoff, before it", "2026-01-12T08:00:00Z", "U0E", "2026-01-11T12:00:00Z", "2026-01-13T12:00:00Z", &spanning},
		{"spanning a handoff, after it", "2026-01-12T10:00:00Z", "U0E", "2026-01-11T12:00:00Z", "2026-01-13T12:00:00Z", &spanning},
		{"after the spanning override", "2026-01-13T12:00:00Z", "U0B", "2026-01-12T09:00:00Z", "2026-01-19T09:00:00Z", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.At(utc(tt.at), ovs)
			want := Shift{Schedule: "primary", User: tt.user, Start: utc(tt.start), End: utc(tt.end), Override: tt.override}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("At(%s) (-want +got):\n%s", tt.at, diff)
			}
		})
	}
	t.Run("the override set last wins", func(t *testing.T) {
		later := Override{ID: 4, Schedule: "primary", User: "U0F", Start: utc("2026-01-07T13:00:00Z"), End: utc("2026-01-07T14:00:00Z"), SetAt: utc("2026-01-07T12:30:00Z")}
		got := s.At(utc("2026-01-07T13:30:00Z"), []Override{inside, later})
		if got.User != "U0F" || !got.End.Equal(later.End) {
			t.Errorf("got %s until %s, want UF until %s", got.User, got.End, later.End)
		}
		// Before it begins, the earlier override ends where it starts.
		got = s.At(utc("2026-01-07T12:30:00Z"), []Override{inside, later})
		if got.User != "U0D" || !got.End.Equal(later.Start) {
			t.Errorf("got %s until %s, want UD until %s", got.User, got.End, later.Start)
		}
	})
	t.Run("now and next", func(t *testing.T) {
		now, next := s.NowAndNext(utc("2026-01-07T13:00:00Z"), ovs)
		if now.User != "U0D" || next.User != "U0A" || !next.Start.Equal(utc("2026-01-05T09:00:00Z")) || !next.End.Equal(utc("2026-01-11T12:00:00Z")) {
			t.Errorf("now %+v, next %+v", now, next)
		}
	})
}

func TestProvisionalAndBackup(t *testing.T) {
	p := mustPlan(t, Config{Schedules: []ScheduleConfig{
		{Name: "primary", TimeZone: "Europe/Berlin", Start: "2026-01-05", Handoff: "monday 09:00",
			Rotation: []string{"UBOB", "UCAROL", "UERIN"}, Provisional: []string{"UCAROL"}, Backup: []string{"UDAVE", "UFRANK"}},
	}})
	s := p.Schedule("primary")
	bob := s.At(utc("2026-01-06T00:00:00Z"), nil)
	if bob.User != "UBOB" || bob.Provisional || bob.Backup != "" {
		t.Errorf("first shift: %+v", bob)
	}
	carol := s.At(utc("2026-01-13T00:00:00Z"), nil)
	if carol.User != "UCAROL" || !carol.Provisional || carol.Backup != "UFRANK" {
		t.Errorf("second shift: %+v", carol)
	}
	at := utc("2026-01-13T00:00:00Z")
	tests := []struct {
		target Target
		want   Recipients
	}{
		{Target{TargetSchedule, "primary"}, Recipients{Users: []string{"UCAROL", "UFRANK"}}},
		{Target{TargetBackup, "primary"}, Recipients{Users: []string{"UFRANK"}}},
		{Target{TargetUser, "UZED"}, Recipients{Users: []string{"UZED"}}},
		{Target{TargetChannel, "C0OPS"}, Recipients{Channel: "C0OPS"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, p.Resolve(tt.target, at, nil)); diff != "" {
			t.Errorf("Resolve(%s) (-want +got):\n%s", tt.target, diff)
		}
	}
	// An override by a person who is not provisional pages nobody else.
	ov := []Override{{Schedule: "primary", User: "UERIN", Start: at.Add(-time.Hour), End: at.Add(time.Hour)}}
	if diff := cmp.Diff(Recipients{Users: []string{"UERIN"}}, p.Resolve(Target{TargetSchedule, "primary"}, at, ov)); diff != "" {
		t.Errorf("override (-want +got):\n%s", diff)
	}
}
