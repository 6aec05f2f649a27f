package oncall

import (
	"strings"
	"testing"
	"time"
)

func TestCompileRefusesBadConfig(t *testing.T) {
	good := func() Config {
		return Config{
			Schedules: []ScheduleConfig{{Name: "primary", TimeZone: "Europe/Berlin", Start: "2026-01-05", Handoff: "monday 09:00",
				Rotation: []string{"U0BOB", "U0CAROL"}, Provisional: []string{"U0CAROL"}, Backup: []string{"U0DAVE"}}},
			Policies: []PolicyConfig{{Name: "default", Steps: []StepConfig{{Notify: "schedule:primary", After: "5m"}, {Notify: "backup:primary", After: "10m"}}, Repeat: 1}},
		}
	}
	if _, err := good().Compile([]string{"sev1"}); err != nil {
		t.Fatalf("good config refused: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no one in a schedule", func(c *Config) { c.Schedules[0].Rotation = nil }, `oncall.schedules[0] "primary": rotation is empty`},
		{"an unknown user ID", func(c *Config) { c.Schedules[0].Rotation[1] = "carol" }, `rotation[1] "carol": not a Slack user ID`},
		{"provisional not in the rotation", func(c *Config) { c.Schedules[0].Provisional = []string{"U0ERIN"} }, `provisional[0] "U0ERIN": not in the rotation`},
		{"provisional without backup", func(c *Config) { c.Schedules[0].Backup = nil; c.Policies[0].Steps = c.Policies[0].Steps[:1] }, "need a backup rotation"},
		{"an unknown time zone", func(c *Config) { c.Schedules[0].TimeZone = "Mars/Olympus" }, `time_zone "Mars/Olympus": not a known IANA time zone`},
		{"funday 25:00", func(c *Config) { c.Schedules[0].Handoff = "funday 25:00" }, `handoff "funday 25:00": a weekday and a 24-hour time`},
		{"an hour past 23", func(c *Config) { c.Schedules[0].Handoff = "monday 25:00" }, `handoff "monday 25:00"`},
		{"no handoff", func(c *Config) { c.Schedules[0].Handoff = "" }, `handoff "": a weekday`},
		{"weekday with daily shifts", func(c *Config) { c.Schedules[0].Shift = "1d" }, "needs a shift of whole weeks"},
		{"a shift in hours", func(c *Config) { c.Schedules[0].Shift = "12h" }, `shift "12h": a whole number of days or weeks`},
		{"a bad start", func(c *Config) { c.Schedules[0].Start = "2026-02-30" }, `start "2026-02-30"`},
		{"a schedule twice", func(c *Config) { c.Schedules = append(c.Schedules, c.Schedules[0]) }, `oncall.schedules[1] "primary": listed twice`},
		{"after 0s", func(c *Config) { c.Policies[0].Steps[0].After = "0s" }, `oncall.policies[0] "default": steps[0].after "0s": a duration from 10s to 24h0m0s`},
		{"after missing", func(c *Config) { c.Policies[0].Steps[1].After = "" }, `steps[1].after ""`},
		{"a policy looping back to itself", func(c *Config) { c.Policies[0].Steps[1].Notify = "policy:default" }, `steps[1].notify "policy:default": loops back to policy "default" (default → default)`},
		{"a loop through another policy", func(c *Config) {
			c.Policies[0].Steps[1].Notify = "policy:second"
			c.Policies = append(c.Policies, PolicyConfig{Name: "second", Steps: []StepConfig{{Notify: "policy:default", After: "1m"}}})
		}, `loops back to policy "default" (default → second → default)`},
		{"an unknown schedule", func(c *Config) { c.Policies[0].Steps[0].Notify = "schedule:nope" }, `no schedule is called "nope"`},
		{"an unknown notify kind", func(c *Config) { c.Policies[0].Steps[0].Notify = "email:bob" }, `steps[0].notify "email:bob": use schedule:<name>`},
		{"a bad user step", func(c *Config) { c.Policies[0].Steps[0].Notify = "user:bob" }, `"bob" is not a Slack user ID`},
		{"a bad channel step", func(c *Config) { c.Policies[0].Steps[0].Notify = "channel:ops" }, `"ops" is not a channel ID`},
		{"no steps", func(c *Config) { c.Policies[0].Steps = nil }, "no steps"},
		{"negative repeat", func(c *Config) { c.Policies[0].Repeat = -1 }, "repeat -1: between 0 and 10"},
		{"a phone not in E.164", func(c *Config) { c.Phones = map[string]string{"U0BOB": "0151 1234567"} }, `oncall.phones.U0BOB: "0151 1234567" is not a phone number in E.164 form`},
		{"an sms step without numbers", func(c *Config) {
			c.Phones = map[string]string{"U0BOB": "+4915112345678"}
			c.Policies[0].Steps[0].SMS = true
		}, `steps[0] texts or calls, but U0CAROL has no number in oncall.phones`},
		{"page_at unknown", func(c *Config) { c.PageAt = "sev9" }, `oncall.page_at "sev9": not one of the severities (sev1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.change(&c)
			_, err := c.Compile([]string{"sev1"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestCompileInlinesPolicies(t *testing.T) {
	p := mustPlan(t, Config{
		Schedules: []ScheduleConfig{{Name: "primary", TimeZone: "UTC", Start: "2026-01-05", Handoff: "monday 09:00", Rotation: []string{"U0BOB"}}},
		Policies: []PolicyConfig{
			{Name: "base", Steps: []StepConfig{{Notify: "schedule:primary", After: "5m"}}},
			{Name: "loud", Steps: []StepConfig{{Notify: "policy:base"}, {Notify: "channel:C0OPS", After: "1m"}}, Repeat: 2},
		},
	})
	pol, ok := p.Policy("loud")
	if !ok || len(pol.Steps) != 2 || pol.Steps[0].Target.String() != "schedule:primary" || pol.Steps[0].After != 5*time.Minute || pol.Repeat != 2 {
		t.Errorf("loud = %+v", pol)
	}
	if p.PageAt != "sev1" {
		t.Errorf("page_at defaults to %q, want sev1", p.PageAt)
	}
}
