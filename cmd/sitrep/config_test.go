package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
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
		{"config bad cadence", map[string]string{"SITREP_CONFIG": write("cad.yaml", "severities:\n  - name: p1\n    cadence: soon\n")}, "SITREP_CONFIG: "},
		{"config commander as role", map[string]string{"SITREP_CONFIG": write("roles.yaml", "roles: [lead]\n")}, "SITREP_CONFIG: " + filepath.Join(dir, "roles.yaml") + `: roles[0] "lead": the commander role always exists`},
		{"config bad time zone", map[string]string{"SITREP_CONFIG": write("tz.yaml", "time_zone: Mars/Olympus\n")}, `SITREP_CONFIG: ` + filepath.Join(dir, "tz.yaml") + `: time_zone "Mars/Olympus"`},
		{"config bad prefix", map[string]string{"SITREP_CONFIG": write("prefix.yaml", "channel_prefix: Inc!\n")}, `SITREP_CONFIG: ` + filepath.Join(dir, "prefix.yaml") + `: channel_prefix "Inc!"`},
		{"config bad responder", map[string]string{"SITREP_CONFIG": write("resp.yaml", "responders: [bob]\n")}, `SITREP_CONFIG: ` + filepath.Join(dir, "resp.yaml") + `: responders[0] "bob"`},
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

// TestExampleConfigIsTheDefault keeps sitrep.example.yaml honest: loading
// it must give exactly the built-in defaults it claims to show.
func TestExampleConfigIsTheDefault(t *testing.T) {
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "SITREP_CONFIG": filepath.Join("..", "..", "sitrep.example.yaml")}
	s, err := loadSettings(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(incident.DefaultConfig(), s.Incident); diff != "" {
		t.Errorf("example config differs from the defaults (-default +example):\n%s", diff)
	}
	if s.CommandName != "/incident" || s.ChannelPrefix != "inc" || s.TimeZone.String() != "UTC" || len(s.Responders) != 0 || s.AnnounceDrills {
		t.Errorf("example config: %+v", s)
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
