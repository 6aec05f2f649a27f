package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/clock"
)

func runOncallImport(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut syncBuffer
	p := program{getenv: func(string) string { return "" }, stdout: &out, stderr: &errOut,
		clock: clock.NewFake(time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC))}
	err := p.run(context.Background(), append([]string{"oncall"}, args...))
	return out.String(), errOut.String(), err
}

// TestOncallImport runs sitrep oncall import on the recorded exports of
// one schedule in both tools, checks that the two agree, and that what it
// prints is a config file Sitrep reads and compiles as it would at start.
func TestOncallImport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	export := func(name string) string {
		return filepath.Join("..", "..", "testdata", "shared", "integrations", "schedules", name)
	}
	users := filepath.Join(dir, "users.yaml")
	if err := os.WriteFile(users, []byte("PANA001: U0ANA\nPBEN002: U0BEN\nUANA7Q2K9M3XP: U0ANA\nUBEN4R8T1V6YL: U0BEN\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pdOut, pdErr, err := runOncallImport(t, "import", "--from", "pagerduty", "--users", users, "--user", "Chloé Dubois=U0CHL", export("pagerduty-schedule-layers.json"))
	if err != nil {
		t.Fatalf("pagerduty: %v\n%s", err, pdErr)
	}
	gOut, gErr, err := runOncallImport(t, "import", export("grafana-oncall-schedule-web.json"), "--users", users, "--from", "grafana-oncall", "--user", "UCHL2W5H8J3NF=U0CHL", export("grafana-oncall-on-call-shifts-web.json"))
	if err != nil {
		t.Fatalf("grafana: %v\n%s", err, gErr)
	}
	body := func(out string) string { return out[strings.Index(out, "\noncall:"):] }
	if body(pdOut) != body(gOut) {
		t.Errorf("the two tools' exports of one schedule import differently:\n%s\n---\n%s", pdOut, gOut)
	}
	for _, want := range []string{"name: checkout-on-call", "time_zone: Europe/Berlin", `start: "2026-01-05"`, "handoff: monday 09:00", "shift: 1w", "- U0ANA\n        - U0BEN\n        - U0CHL"} {
		if !strings.Contains(pdOut, want) {
			t.Errorf("output lacks %q:\n%s", want, pdOut)
		}
	}
	for _, want := range []string{`note: Checkout on-call: layer "Layer 3" ended`, `note: Checkout on-call: layer "Layer 2"`} {
		if !strings.Contains(pdErr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, pdErr)
		}
	}
	for _, want := range []string{`"Weekday business hours"`, `"Weekend backup"`, `"Release night"`, `"Christmas Eve override"`} {
		if !strings.Contains(gErr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, gErr)
		}
	}
	file := filepath.Join(dir, "imported.yaml")
	if err := os.WriteFile(file, []byte(pdOut), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := loadConfigFile(file)
	if err != nil {
		t.Fatalf("the printed config does not load: %v\n%s", err, pdOut)
	}
	if len(s.OnCall.Schedules) != 1 || s.OnCall.Schedules[0].Name != "checkout-on-call" {
		t.Errorf("loaded schedules %+v", s.OnCall.Schedules)
	}
}

func TestOncallImportBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pd := filepath.Join("..", "..", "testdata", "shared", "integrations", "schedules", "pagerduty-schedule-layers.json")
	notJSON := filepath.Join(dir, "page.html")
	badUsers := filepath.Join(dir, "bad-users.yaml")
	for f, b := range map[string]string{notJSON: "<html>Sign in</html>", badUsers: "PANA001: ana@example.com\n"} {
		if err := os.WriteFile(f, []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "the one subcommand is import"},
		{[]string{"import", pd}, "--from pagerduty or --from grafana-oncall"},
		{[]string{"import", "--from", "pagerduty"}, "name the export file"},
		{[]string{"import", "--from", "opsgenie", pd}, `unknown source "opsgenie"`},
		{[]string{"import", "--from", "pagerduty", notJSON}, "export 1 is not JSON"},
		{[]string{"import", "--from", "grafana-oncall", pd}, "looks like PagerDuty's"},
		{[]string{"import", "--from", "pagerduty", pd}, "no Slack user ID for 3 PagerDuty user(s): PANA001 (Ana Alves), PBEN002 (Ben Brandt), PCHL003 (Chloé Dubois)"},
		{[]string{"import", "--from", "pagerduty", "--users", badUsers, pd}, `PANA001: "ana@example.com" is not a Slack member ID`},
		{[]string{"import", "--from", "pagerduty", "--user", "PANA001", pd}, "as ID=U…"},
		{[]string{"import", "--from", "pagerduty", filepath.Join(dir, "missing.json")}, "missing.json"},
	} {
		out, _, err := runOncallImport(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one saying %q", tc.args, err, tc.want)
		}
		if out != "" {
			t.Errorf("%v: printed a config despite the error:\n%s", tc.args, out)
		}
	}
}
