package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/templates"
)

func TestSettingsErrorsNameTheSetting(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1-secret-token", "SLACK_SIGNING_SECRET": "shh-secret"}
	tests := []struct {
		name string
		env  map[string]string
		want string // the whole first line must start with this
	}{
		{"no bot token", map[string]string{"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN: required"},
		{"user token", map[string]string{"SLACK_BOT_TOKEN": "xoxp-123-secret"}, "SLACK_BOT_TOKEN: not a bot token"},
		{"no signing secret", map[string]string{"SLACK_SIGNING_SECRET": " "}, "SLACK_SIGNING_SECRET: required unless SLACK_APP_TOKEN"},
		{"app token of the wrong kind", map[string]string{"SLACK_APP_TOKEN": "xoxb-1-secret"}, "SLACK_APP_TOKEN: not an app-level token"},
		{"api url not a url", map[string]string{"SLACK_API_URL": "slack.com/api"}, `SLACK_API_URL: "slack.com/api" is not an http(s) URL`},
		{"channel name instead of id", map[string]string{"SITREP_ANNOUNCE_CHANNEL": "#incidents"}, `SITREP_ANNOUNCE_CHANNEL: "#incidents" is not a channel ID`},
		{"config file missing", map[string]string{"SITREP_CONFIG": filepath.Join(dir, "nope.yaml")}, "SITREP_CONFIG: cannot read"},
		{"config file malformed", map[string]string{"SITREP_CONFIG": write("bad.yaml", "severities: [")}, "SITREP_CONFIG: " + dir},
		{"config unknown key", map[string]string{"SITREP_CONFIG": write("typo.yaml", "severites: []\n")}, "SITREP_CONFIG: "},
		{"config bad default", map[string]string{"SITREP_CONFIG": write("def.yaml", "default_severity: sev9\n")}, `SITREP_CONFIG: ` + filepath.Join(dir, "def.yaml") + `: default_severity "sev9": not one of the severities`},
		{"config bad cadence", map[string]string{"SITREP_CONFIG": write("cad.yaml", "severities:\n  - name: p1\n    cadence: soon\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "cad.yaml") + `: line 3: cadence "soon": use a duration such as 30m, or none`},
		{"config commander as role", map[string]string{"SITREP_CONFIG": write("roles.yaml", "roles: [lead]\n")}, "SITREP_CONFIG: " + filepath.Join(dir, "roles.yaml") + `: roles[0] "lead": the commander role always exists`},
		{"config bad time zone", map[string]string{"SITREP_CONFIG": write("tz.yaml", "time_zone: Mars/Olympus\n")}, `SITREP_CONFIG: ` + filepath.Join(dir, "tz.yaml") + `: time_zone "Mars/Olympus"`},
		{"config bad prefix", map[string]string{"SITREP_CONFIG": write("prefix.yaml", "channel_prefix: Inc!\n")}, `SITREP_CONFIG: ` + filepath.Join(dir, "prefix.yaml") + `: channel_prefix "Inc!"`},
		{"config bad changes_by", map[string]string{"SITREP_CONFIG": write("changes.yaml", "changes_by: admins\n")}, `SITREP_CONFIG: ` + filepath.Join(dir, "changes.yaml") + `: changes_by "admins": use channel`},
		{"config bad admin", map[string]string{"SITREP_CONFIG": write("admins.yaml", "changes_by: commander\nadmins: [alice]\n")}, `SITREP_CONFIG: ` + filepath.Join(dir, "admins.yaml") + `: admins[0] "alice": not a Slack user ID`},
		{"config bad responder", map[string]string{"SITREP_CONFIG": write("resp.yaml", "responders: [bob]\n")}, `SITREP_CONFIG: ` + filepath.Join(dir, "resp.yaml") + `: responders[0] "bob"`},
		{"pagerduty url not a url", map[string]string{"PAGERDUTY_EVENTS_URL": "events.pagerduty.com"}, `PAGERDUTY_EVENTS_URL: "events.pagerduty.com" is not an http(s) URL`},
		{"twilio from not a number", map[string]string{"TWILIO_FROM": "5017122661"}, `TWILIO_FROM: "5017122661" is not a phone number in E.164 form`},
		{"public url with a query", map[string]string{"SITREP_PUBLIC_URL": "https://sitrep.example.com/?x=1"}, `SITREP_PUBLIC_URL: "https://sitrep.example.com/?x=1" is not an http(s) base URL`},
		{"sms step without twilio", map[string]string{"SITREP_CONFIG": write("oc6.yaml", "oncall:\n  phones: {U0BOB: \"+15558675310\"}\n  policies:\n    - {name: default, steps: [{notify: \"user:U0BOB\", after: 1m, sms: true}]}\n")},
			`TWILIO_ACCOUNT_SID: a policy step texts or calls`},
		{"oncall empty rotation", map[string]string{"SITREP_CONFIG": write("oc1.yaml", "oncall:\n  schedules:\n    - {name: primary, time_zone: UTC, start: 2026-01-05, handoff: monday 09:00, rotation: []}\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "oc1.yaml") + `: oncall.schedules[0] "primary": rotation is empty`},
		{"oncall bad handoff", map[string]string{"SITREP_CONFIG": write("oc2.yaml", "oncall:\n  schedules:\n    - {name: primary, time_zone: UTC, start: 2026-01-05, handoff: funday 25:00, rotation: [U0BOB]}\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "oc2.yaml") + `: oncall.schedules[0] "primary": handoff "funday 25:00"`},
		{"oncall after 0s", map[string]string{"SITREP_CONFIG": write("oc3.yaml", "oncall:\n  policies:\n    - {name: default, steps: [{notify: \"user:U0BOB\", after: 0s}]}\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "oc3.yaml") + `: oncall.policies[0] "default": steps[0].after "0s"`},
		{"oncall page_at unknown", map[string]string{"SITREP_CONFIG": write("oc4.yaml", "oncall:\n  page_at: p1\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "oc4.yaml") + `: oncall.page_at "p1": not one of the severities`},
		{"route pages an unknown policy", map[string]string{"SITREP_CONFIG": write("oc5.yaml", "alerts:\n  routes:\n    - {action: declare, page: loud}\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "oc5.yaml") + `: alerts.routes[0].page "loud": no policy in oncall.policies is called that`},
		{"checklist bad kind", map[string]string{"SITREP_CONFIG": write("kind.yaml", "checklist:\n  - {id: deploy, kind: poll, text: \"Deployed?\"}\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "kind.yaml") + `: checklist[0] (deploy): kind "poll": use question (yes/no/unknown) or task (done/skipped)`},
		{"checklist kind left out", map[string]string{"SITREP_CONFIG": write("nokind.yaml", "checklist:\n  - {id: deploy, text: \"Deployed?\"}\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "nokind.yaml") + `: checklist[0] (deploy): kind "": use question`},
		{"checklist unknown severity", map[string]string{"SITREP_CONFIG": write("from.yaml", "checklist:\n  - {id: deploy, kind: question, text: \"Deployed?\", from: p1}\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "from.yaml") + `: checklist[0] (deploy): from "p1": not one of the severities (sev0, sev1, sev2, sev3)`},
		{"checklist duplicate id", map[string]string{"SITREP_CONFIG": write("dup.yaml", "checklist:\n  - {id: deploy, kind: question, text: \"Deployed?\"}\n  - {id: deploy, kind: task, text: Roll back}\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "dup.yaml") + `: checklist[1].id "deploy": listed twice`},
		{"checklist too long", map[string]string{"SITREP_CONFIG": write("long.yaml", "checklist:\n"+strings.Repeat("  - {id: item, kind: task, text: Do it}\n", incident.MaxChecklistItems+1))},
			`SITREP_CONFIG: ` + filepath.Join(dir, "long.yaml") + `: checklist: at most 24 items`},
		{"checklist task with a suggestion", map[string]string{"SITREP_CONFIG": write("task.yaml", "checklist:\n  - {id: logs, kind: task, text: Read the logs, suggestion: Grep}\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "task.yaml") + `: checklist[0] (logs): only questions have suggestions`},
		{"checklist unknown key", map[string]string{"SITREP_CONFIG": write("typo-item.yaml", "checklist:\n  - {id: deploy, kind: question, text: \"Deployed?\", sugestion: Roll back}\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "typo-item.yaml") + `: line 2: field sugestion not found`},
		{"checklist not a list", map[string]string{"SITREP_CONFIG": write("map.yaml", "checklist:\n  deploy: Deployed?\n")}, `SITREP_CONFIG: ` + filepath.Join(dir, "map.yaml") + `: line 2: cannot unmarshal`},
		{"status page without scheme", map[string]string{"SITREP_CONFIG": write("sp.yaml", "status_pages:\n  - {name: AWS, url: status.aws.amazon.com}\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "sp.yaml") + `: status_pages[0]: url "status.aws.amazon.com" is not an http(s) URL`},
		{"status page without host", map[string]string{"SITREP_CONFIG": write("sp-host.yaml", "status_pages:\n  - {name: AWS, url: \"https://\"}\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "sp-host.yaml") + `: status_pages[0]: url "https://" is not an http(s) URL`},
		{"status page breaking the Slack link", map[string]string{"SITREP_CONFIG": write("sp-pipe.yaml", "status_pages:\n  - {name: AWS, url: \"https://status.aws.amazon.com/|x\"}\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "sp-pipe.yaml") + `: status_pages[0]: url "https://status.aws.amazon.com/|x" is not an http(s) URL`},
		{"status page without name", map[string]string{"SITREP_CONFIG": write("sp-name.yaml", "status_pages:\n  - url: https://status.aws.amazon.com/\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "sp-name.yaml") + `: status_pages[0]: name is required`},
		{"status page name on two lines", map[string]string{"SITREP_CONFIG": write("sp-lines.yaml", "status_pages:\n  - {name: \"AWS\\nus-east-1\", url: \"https://status.aws.amazon.com/\"}\n")},
			`SITREP_CONFIG: ` + filepath.Join(dir, "sp-lines.yaml") + `: status_pages[0]: name "AWS\nus-east-1": one line`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range good {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := loadSettings(func(k string) string { return env[k] })
			if err == nil {
				t.Fatalf("loadSettings succeeded, want %q", tt.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line starting with %q", msg, tt.want)
			}
			for _, secret := range []string{"secret-token", "shh-secret", "123-secret", "1-secret"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q shows a secret", msg)
				}
			}
		})
	}
}

// TestStartUpStopsOnBadSetting runs the program with a bad setting: it must
// exit with the one-line reason and serve nothing.
func TestStartUpStopsOnBadSetting(t *testing.T) {
	p := program{getenv: func(k string) string { return map[string]string{"SLACK_SIGNING_SECRET": "x"}[k] }, stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	err := p.run(context.Background(), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "SLACK_BOT_TOKEN: required") {
		t.Fatalf("run = %v, want the missing bot token named", err)
	}
}

// TestStartUpNamesEveryMissingSetting runs serve with nothing set, as a
// newcomer would: one run must name every missing setting, on one line, and
// point at the playground, which needs none of them.
func TestStartUpNamesEveryMissingSetting(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"nothing set", nil, "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET are not set. SLACK_BOT_TOKEN: required; "},
		{"only the signing secret", map[string]string{"SLACK_SIGNING_SECRET": "x"}, "SLACK_BOT_TOKEN: required; "},
		{"only the bot token", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET: required unless SLACK_APP_TOKEN"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCmd(t, tt.env, "serve")
			if err == nil {
				t.Fatal("serve started without Slack settings")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line starting with %q", msg, tt.want)
			}
			if !strings.HasSuffix(msg, "To try Sitrep without Slack, run: sitrep playground") {
				t.Errorf("error %q does not suggest the playground", msg)
			}
		})
	}
}

// TestExampleConfigIsTheDefault keeps sitrep.example.yaml honest: loading
// it must give exactly the built-in defaults it claims to show, the
// default checklist included.
func TestExampleConfigIsTheDefault(t *testing.T) {
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "SITREP_CONFIG": exampleConfig}
	s, err := loadSettings(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := incident.DefaultConfig()
	if want.Checklist, err = templates.Checklist(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, s.Incident); diff != "" {
		t.Errorf("example config differs from the defaults (-default +example):\n%s", diff)
	}
	if s.CommandName != "/incident" || s.ChannelPrefix != "inc" || s.TimeZone.String() != "UTC" || len(s.Responders) != 0 || s.AnnounceDrills {
		t.Errorf("example config: %+v", s)
	}
}

const exampleConfig = "../../sitrep.example.yaml"

// uncomment returns src with the commented-out block of key ("# key:" and
// the "#   " lines under it) made live.
func uncomment(t *testing.T, src, key string) string {
	t.Helper()
	lines := strings.Split(src, "\n")
	start := slices.Index(lines, "# "+key+":")
	if start < 0 {
		t.Fatalf("no commented-out %s: block", key)
	}
	lines[start] = key + ":"
	for i := start + 1; i < len(lines) && strings.HasPrefix(lines[i], "#   "); i++ {
		lines[i] = lines[i][1:]
	}
	return strings.Join(lines, "\n")
}

// TestExampleConfigCommentedKeys checks that the example's commented-out
// checklist and status pages work as they stand once uncommented.
func TestExampleConfigCommentedKeys(t *testing.T) {
	src, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "example.yaml")
	if err := os.WriteFile(p, []byte(uncomment(t, uncomment(t, string(src), "checklist"), "status_pages")), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "SITREP_CONFIG": p}
	s, err := loadSettings(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		Checklist   []string
		StatusPages []incident.Link
	}
	want := got{
		Checklist: []string{"recent-deploy", "status-page"},
		// The third parties of the alert-handling runbook (seeds/003).
		StatusPages: []incident.Link{
			{Name: "AWS", URL: "https://status.aws.amazon.com/"},
			{Name: "PyPI", URL: "https://status.python.org/"},
			{Name: "GitHub", URL: "https://www.githubstatus.com/"},
		},
	}
	if diff := cmp.Diff(want, got{checklistIDs(s.Incident.Checklist), s.Incident.StatusPages}); diff != "" {
		t.Errorf("uncommented example (-want +got):\n%s", diff)
	}
}

func checklistIDs(items []incident.ChecklistItem) []string {
	ids := []string{}
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	return ids
}

func TestChecklistConfig(t *testing.T) {
	defaults, err := templates.Checklist()
	if err != nil {
		t.Fatal(err)
	}
	// from lists the IDs and from of the checklist items that have one.
	from := func(items []incident.ChecklistItem) map[string]string {
		m := map[string]string{}
		for _, it := range items {
			if it.From != "" {
				m[it.ID] = it.From
			}
		}
		return m
	}
	custom := []incident.ChecklistItem{
		{ID: "deploy", Kind: incident.Question, Text: "Was there a deploy?", Suggestion: "Roll it back.", StatusPages: true},
		{ID: "page-ceo", Kind: incident.Task, Text: "Page the CEO", From: "sev0"},
	}
	pages := []incident.Link{{Name: "AWS", URL: "https://status.aws.amazon.com/"}}
	tests := []struct {
		name        string
		config      string // "" for no config file
		want        []incident.ChecklistItem
		wantFrom    map[string]string // when the default checklist is moved onto other severities
		statusPages []incident.Link
	}{
		{name: "no config file", want: defaults},
		{name: "config without a checklist", config: "roles: [comms]\n", want: defaults},
		{name: "null checklist keeps the default", config: "checklist:\n", want: defaults},
		{
			name: "replaced",
			config: "checklist:\n" +
				"  - id: deploy\n    kind: question\n    text: Was there a deploy?\n    suggestion: Roll it back.\n    status_pages: true\n" +
				"  - {id: page-ceo, kind: task, text: Page the CEO, from: sev0}\n" +
				"status_pages:\n  - {name: AWS, url: \"https://status.aws.amazon.com/\"}\n",
			want: custom, statusPages: pages,
		},
		{name: "turned off", config: "checklist: []\n", want: []incident.ChecklistItem{}},
		{name: "status pages with the default checklist", config: "status_pages:\n  - {name: AWS, url: \"https://status.aws.amazon.com/\"}\n", want: defaults, statusPages: pages},
		{
			name:     "default checklist on renamed severities",
			config:   "severities:\n  - {name: critical}\n  - {name: major}\n  - {name: minor}\n",
			wantFrom: map[string]string{"customers": "major", "status-page": "major"},
		},
		{
			name:     "default checklist on a one-severity scale",
			config:   "severities:\n  - {name: incident}\n",
			wantFrom: map[string]string{"customers": "incident", "status-page": "incident"},
		},
		{
			name:   "own severities and own checklist",
			config: "severities:\n  - {name: p1}\n  - {name: p2}\nchecklist:\n  - {id: page-ceo, kind: task, text: Page the CEO, from: p1}\n",
			want:   []incident.ChecklistItem{{ID: "page-ceo", Kind: incident.Task, Text: "Page the CEO", From: "p1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s"}
			if tt.config != "" {
				env["SITREP_CONFIG"] = filepath.Join(t.TempDir(), "c.yaml")
				if err := os.WriteFile(env["SITREP_CONFIG"], []byte(tt.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s, err := loadSettings(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantFrom != nil {
				if diff := cmp.Diff(checklistIDs(defaults), checklistIDs(s.Incident.Checklist)); diff != "" {
					t.Errorf("checklist items (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.wantFrom, from(s.Incident.Checklist)); diff != "" {
					t.Errorf("from (-want +got):\n%s", diff)
				}
			} else if diff := cmp.Diff(tt.want, s.Incident.Checklist); diff != "" {
				t.Errorf("checklist (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.statusPages, s.Incident.StatusPages); diff != "" {
				t.Errorf("status pages (-want +got):\n%s", diff)
			}
		})
	}
	// Moving the default onto other severities leaves the default alone.
	again, err := templates.Checklist()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"customers": "sev1", "status-page": "sev1"}, from(again)); diff != "" {
		t.Errorf("default checklist's from (-want +got):\n%s", diff)
	}
}

func TestCustomConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("severities:\n  - {name: p1, description: Page now, cadence: 10m}\n  - {name: p2, description: Next day}\nroles: []\nchannel_prefix: incident\ntime_zone: Europe/Berlin\nresponders: [U0SRE]\n"), 0o600)
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "SITREP_CONFIG": p, "SLACK_API_URL": "http://127.0.0.1:9/api"}
	s, err := loadSettings(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Incident.SeverityNames(); !cmp.Equal(got, []string{"p1", "p2"}) || s.Incident.DefaultSeverity != "p2" || len(s.Incident.Roles) != 0 {
		t.Errorf("incident config %+v", s.Incident)
	}
	if s.ChannelPrefix != "incident" || s.TimeZone.String() != "Europe/Berlin" || s.APIURL != "http://127.0.0.1:9/api/" || !cmp.Equal(s.Responders, []string{"U0SRE"}) {
		t.Errorf("settings %+v", s)
	}
}

func TestRealEnvironmentWinsOverDotenv(t *testing.T) {
	real := map[string]string{"SITREP_ADDR": ":9000", "SITREP_DB": ""}
	get := layered(func(k string) (string, bool) { v, ok := real[k]; return v, ok }, map[string]string{"SITREP_ADDR": ":7000", "SITREP_DB": "dotenv.db", "SLACK_BOT_TOKEN": "xoxb-dotenv"})
	for k, want := range map[string]string{"SITREP_ADDR": ":9000", "SITREP_DB": "", "SLACK_BOT_TOKEN": "xoxb-dotenv", "SITREP_CONFIG": ""} {
		if got := get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

// TestDotenvErrorsKeepSecrets feeds a malformed .env holding secrets: the
// error names the file and line, and quotes nothing from it.
func TestDotenvErrorsKeepSecrets(t *testing.T) {
	for name, body := range map[string]string{
		"bad key":             "SLACK-ADDR=1\nSLACK_BOT_TOKEN=xoxb-secret-123\nSLACK_SIGNING_SECRET=shh-secret\n",
		"unterminated":        "SLACK_BOT_TOKEN=\"xoxb-secret-123\nSLACK_SIGNING_SECRET=shh-secret\n",
		"line without equals": "SLACK_BOT_TOKEN=xoxb-secret-123\njust some words shh-secret\n",
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), ".env")
			os.WriteFile(p, []byte(body), 0o600)
			_, err := readDotenv(p)
			if err == nil {
				t.Fatal("a malformed .env was accepted")
			}
			if strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "not a valid .env file") {
				t.Errorf("error %q", err)
			}
		})
	}
	if env, err := readDotenv(filepath.Join(t.TempDir(), "missing.env")); err != nil || env != nil {
		t.Errorf("a missing .env gave %v, %v; want nothing and no error", env, err)
	}
}

// TestExampleConfigAlerts checks that the example's commented-out alert
// routes work as they stand once uncommented, and that config check shows
// them with the sources that are on.
func TestExampleConfigAlerts(t *testing.T) {
	src, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "example.yaml")
	if err := os.WriteFile(p, []byte(uncomment(t, string(src), "alerts")), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "SITREP_CONFIG": p, "SITREP_HOOK_SECRET_SENTRY": "sentry-client-secret"}
	s, err := loadSettings(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Alerts.Routes) != 4 || s.Alerts.Routes[1].Action != "declare" || s.Alerts.Routes[1].Severity != "sev1" || s.Alerts.Routes[3].MinAlerts != 3 || s.Alerts.Routes[3].For != "2m" {
		t.Fatalf("example routes: %+v", s.Alerts.Routes)
	}
	var out strings.Builder
	if err := printSettings(&out, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"SITREP_HOOK_SECRET_SENTRY", "(set, 20 characters, masked): POST /hooks/sentry is on",
		"(not set: POST /hooks/alertmanager is off)", "max_declares_per_minute: 5", "reopen_within: 30m0s",
		"name: pages", `- severity=~"critical|page"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("config check lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "sentry-client-secret") {
		t.Error("config check shows a hook secret")
	}
}

// TestExampleConfigTrackers checks that the example's commented-out
// trackers work as they stand once uncommented, and that config check
// lists them with their tokens masked.
func TestExampleConfigTrackers(t *testing.T) {
	src, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "example.yaml")
	if err := os.WriteFile(p, []byte(uncomment(t, string(src), "trackers")), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "SITREP_CONFIG": p,
		"SITREP_GITHUB_TOKEN": "ghp_secret_github_token", "SITREP_HOOK_SECRET_GITHUB": "github-hook-secret",
		"SITREP_JIRA_EMAIL": "sitrep@acme.example", "SITREP_JIRA_TOKEN": "jira-secret-token", "SITREP_LINEAR_TOKEN": "lin_api_secret"}
	s, err := loadSettings(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Trackers.Names, []string{"github", "jira", "asana", "linear"}) || s.Trackers.Default != "github" ||
		s.Incident.Export != (incident.Export{Tracker: "github", On: incident.ExportOnPostmortem}) || s.Trackers.Check != 15*time.Minute {
		t.Fatalf("example trackers: %+v, export %+v", s.Trackers, s.Incident.Export)
	}
	var out strings.Builder
	if err := printSettings(&out, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"SITREP_GITHUB_TOKEN", "(set, 23 characters, masked)", "SITREP_HOOK_SECRET_GITHUB", "POST /hooks/github is on",
		"SITREP_ASANA_TOKEN", "(not set): no issue can be made in Asana until it is set",
		"(not set: POST /hooks/linear is off; issues closed there are found by the periodic check only)",
		"SITREP_JIRA_EMAIL", "sitrep@acme.example", "LINEAR_API_URL", "https://api.linear.app/graphql",
		"repo: acme/ops", "export: on_postmortem", "check: 15m0s", "project: OPS",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("config check lacks %q:\n%s", want, out.String())
		}
	}
	for _, secret := range []string{"ghp_secret_github_token", "github-hook-secret", "jira-secret-token", "lin_api_secret"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("config check shows %s", secret)
		}
	}
}

// TestTrackerConfigErrors: each mistake in the trackers section is named,
// with what to write instead.
func TestTrackerConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, yaml, want string }{
		{"repo without owner", "trackers:\n  github: {repo: ops}\n", `trackers.github.repo "ops": use owner/name`},
		{"users not Slack IDs", "trackers:\n  github: {repo: acme/ops, users: {alice: alice}}\n", `trackers.github.users: "alice" is not a Slack user ID`},
		{"jira site not https", "trackers:\n  jira: {site: acme.atlassian.net, project: OPS}\n", `trackers.jira.site "acme.atlassian.net": your Jira Cloud site`},
		{"jira project lower case", "trackers:\n  jira: {site: \"https://acme.atlassian.net\", project: ops}\n", `trackers.jira.project "ops": the project key`},
		{"asana project not a gid", "trackers:\n  asana: {project: Ops}\n", `trackers.asana.project "Ops": the project's gid`},
		{"linear team key", "trackers:\n  linear: {team: OPS}\n", `trackers.linear.team "OPS": the team's UUID, not its key`},
		{"bad export", "trackers:\n  export: always\n  github: {repo: acme/ops}\n", `trackers.export "always": use on_create, on_postmortem`},
		{"default not configured", "trackers:\n  default: jira\n  github: {repo: acme/ops}\n", `trackers.default "jira": not a configured tracker (configured: github)`},
		{"export without tracker", "trackers:\n  export: on_create\n", `trackers.export is set but no tracker is configured`},
		{"check too often", "trackers:\n  check: 5s\n  github: {repo: acme/ops}\n", `trackers.check "5s": a duration of at least 1m`},
		{"unknown tracker", "trackers:\n  gitlab: {repo: acme/ops}\n", `field gitlab not found`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".yaml")
			if err := os.WriteFile(p, []byte(c.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "SITREP_CONFIG": p}
			_, err := loadSettings(func(k string) string { return env[k] })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("loadSettings = %v, want it to say %q", err, c.want)
			}
		})
	}
}

// TestExampleConfigOnCall checks that the example's commented-out oncall
// section works as it stands, and that config check shows it with the
// default page_at and masked routing keys.
func TestExampleConfigOnCall(t *testing.T) {
	src, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	live := uncomment(t, string(src), "oncall")
	live = strings.Replace(live, "       repeat: 1", "       repeat: 1\n       routing_key: R0UTINGKEYSECRET", 1)
	p := filepath.Join(t.TempDir(), "example.yaml")
	if err := os.WriteFile(p, []byte(live), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "SITREP_CONFIG": p,
		"PAGERDUTY_ROUTING_KEY": "R0123456789ABCDEF0123456789ABCDE", "SITREP_HOOK_SECRET_PAGERDUTY": "pd-hook-secret"}
	s, err := loadSettings(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	sch := s.Paging.Schedule("primary")
	if sch == nil || sch.Location.String() != "Europe/Berlin" || len(sch.Backup) != 1 || s.Paging.PageAt != "sev1" {
		t.Fatalf("paging: %+v", s.Paging)
	}
	if pol, ok := s.Paging.Policy("default"); !ok || len(pol.Steps) != 2 || pol.Repeat != 1 || pol.RoutingKey != "R0UTINGKEYSECRET" {
		t.Fatalf("policy: %+v", pol)
	}
	var out strings.Builder
	if err := printSettings(&out, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"oncall:", "page_at: sev1", "handoff: monday 09:00", "notify: schedule:primary", "routing_key: … (set, 16 characters, masked)",
		"PAGERDUTY_ROUTING_KEY", "(set, 32 characters, masked): pages also go to PagerDuty", "PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com/v2/enqueue",
		"SITREP_HOOK_SECRET_PAGERDUTY", "(set, 14 characters, masked): POST /hooks/pagerduty is on"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("config check lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "R0UTINGKEYSECRET") || strings.Contains(out.String(), "R0123456789ABCDEF") || strings.Contains(out.String(), "pd-hook-secret") {
		t.Error("config check shows a routing key")
	}
}
