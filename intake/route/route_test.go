package route

import (
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

var sevs = []string{"sev0", "sev1", "sev2", "sev3"}

func TestRouteFirstMatchWins(t *testing.T) {
	r, err := New(Config{Routes: []Route{
		{Name: "noise", Matchers: []string{`alertname=~"Watchdog|InfoInhibitor"`}, Action: "ignore"},
		{Name: "pages", Matchers: []string{`severity="critical"`, `source!="sentry"`}, Action: "declare", Severity: "sev1", GroupBy: []string{"cluster"}, AutoResolve: true},
		{Name: "errors", Matchers: []string{`{source="sentry"}`}, Action: "declare"},
	}}, sevs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		a      incident.Alert
		route  string
		action incident.AlertAction
	}{
		{"ignored before a later match", incident.Alert{Source: "alertmanager", Key: "1", Labels: map[string]string{"alertname": "Watchdog", "severity": "critical"}}, "noise", incident.ActionIgnore},
		{"labels and source", incident.Alert{Source: "alertmanager", Key: "2", Labels: map[string]string{"alertname": "Down", "severity": "critical"}}, "pages", incident.ActionDeclare},
		{"source excluded", incident.Alert{Source: "sentry", Key: "3", Labels: map[string]string{"severity": "critical"}}, "errors", incident.ActionDeclare},
		{"no route: triage", incident.Alert{Source: "pingdom", Key: "4"}, DefaultRoute, incident.ActionTriage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := r.Route(tc.a)
			if got.Route != tc.route || got.Action != tc.action {
				t.Errorf("routed to %q (%s), want %q (%s)", got.Route, got.Action, tc.route, tc.action)
			}
		})
	}
	a := incident.Alert{Source: "alertmanager", Key: "x", Group: "{}:{alertname=\"Down\"}", Labels: map[string]string{"severity": "critical", "cluster": "eu"}}
	b := a
	b.Key, b.Group = "y", "other"
	if r.Route(a).Group != r.Route(b).Group {
		t.Errorf("group_by cluster: alerts of one cluster in groups %q and %q", r.Route(a).Group, r.Route(b).Group)
	}
	c := b
	c.Labels = map[string]string{"severity": "critical", "cluster": "us"}
	if r.Route(a).Group == r.Route(c).Group {
		t.Errorf("group_by cluster: two clusters share group %q", r.Route(a).Group)
	}
	def1, def2 := r.Route(incident.Alert{Source: "pingdom", Key: "1", Group: "g"}), r.Route(incident.Alert{Source: "pingdom", Key: "2", Group: "g"})
	if def1.Group != def2.Group {
		t.Errorf("without group_by the sender's grouping decides: %q vs %q", def1.Group, def2.Group)
	}
	if got := r.Route(a); got.Severity != "sev1" || !got.AutoResolve {
		t.Errorf("route settings not carried: %+v", got)
	}
}

func TestRouteConfigRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"bad matcher", Config{Routes: []Route{{Name: "pages", Matchers: []string{`severity=~"(critical"`}}}}, `alerts.routes[0] (pages): matchers[0] "severity=~\"(critical\""`},
		{"unknown action", Config{Routes: []Route{{Matchers: []string{`a="b"`}, Action: "page"}}}, `alerts.routes[0]: action "page" is not one of declare, triage or ignore`},
		{"unknown severity", Config{Routes: []Route{{Severity: "p1"}}}, `severity "p1" is not one of the severities`},
		{"bad reopen_within", Config{ReopenWithin: "soon"}, `alerts.reopen_within "soon"`},
		{"negative cap", Config{MaxDeclaresPerMinute: -1}, `alerts.max_declares_per_minute -1`},
		{"same name twice", Config{Routes: []Route{{Name: "a"}, {Name: "a"}}}, `used twice`},
		{"hold on triage", Config{Routes: []Route{{Name: "t", MinAlerts: 3}}}, `alerts.routes[0] (t): min_alerts, window and for hold back a declaration, but the action is triage`},
		{"window without min_alerts", Config{Routes: []Route{{Action: "declare", Window: "5m"}}}, `window "5m" counts alerts toward min_alerts`},
		{"bad for", Config{Routes: []Route{{Action: "declare", For: "ten minutes"}}}, `for "ten minutes": not a positive duration`},
		{"negative min_alerts", Config{Routes: []Route{{Action: "declare", MinAlerts: -2}}}, `min_alerts -2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Check(sevs)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Check = %v, want one line containing %q", err, tc.want)
			}
		})
	}
	if rules := (Config{}).Rules(); rules.MaxDeclaresPerMinute != 5 || rules.ReopenWithin.Minutes() != 30 {
		t.Errorf("defaults: %+v, want 5 a minute and 30m", rules)
	}
}

func TestGroupKeyStaysShort(t *testing.T) {
	r, err := New(Config{Routes: []Route{{Name: "all", GroupBy: []string{"big"}}}}, sevs, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := incident.Alert{Source: "generic", Key: "k", Labels: map[string]string{"big": strings.Repeat("x", 1000)}}
	b := a
	b.Labels = map[string]string{"big": strings.Repeat("x", 999) + "y"}
	ga, gb := r.Route(a).Group, r.Route(b).Group
	if len(ga) > MaxGroupKey || ga == gb {
		t.Errorf("group keys %q and %q: want short and distinct", ga, gb)
	}
}

func TestRouteHoldAndSource(t *testing.T) {
	r, err := New(Config{Routes: []Route{
		{Name: "pages", Source: "grafana", Action: "declare", MinAlerts: 3, Window: "2m", For: "90s"},
	}}, sevs, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := r.Route(incident.Alert{Source: "grafana", Key: "1"})
	want := incident.AlertHold{MinAlerts: 3, Window: 2 * time.Minute, For: 90 * time.Second}
	if got.Route != "pages" || got.Hold != want {
		t.Errorf("routed to %q with hold %+v, want pages with %+v", got.Route, got.Hold, want)
	}
	if got.Hold.Describe() != "3 alerts firing within 2m and firing for 1m30s" {
		t.Errorf("Describe = %q", got.Hold.Describe())
	}
	if got := r.Route(incident.Alert{Source: "sentry", Key: "1"}); got.Route != DefaultRoute {
		t.Errorf("source: grafana matched a sentry alert (route %q)", got.Route)
	}
}
