package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// scrape reads /metrics and parses it as Prometheus does.
func (in *instance) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(in.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics answered %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not in Prometheus's text format: %v", err)
	}
	return fams
}

// metricValue finds the series of family name with the given labels and
// returns its value (a counter's or gauge's value, a histogram's count),
// and whether there is one.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
series:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue series
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// TestMetricsAfterAnIncident scrapes /metrics after a scripted incident,
// and again while Slack is down, and checks each family the dashboards
// need.
func TestMetricsAfterAnIncident(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	clk := clock.NewFake(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
	sitrep := startAt(t, fake, testEnv(fake, w.db, "SITREP_ANNOUNCE_CHANNEL", w.announce), clk)

	_, ru := sitrep.slash(fake, "U1", w.general, "declare sev0 Checkout failing")
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = fake.ChannelByName("inc-1-checkout-failing"); return ok })
	card(t, fake, ch.ID)
	eventually(t, "the declarer told", func() bool { return strings.Contains(responses(fake, ru), "is open in") })
	sitrep.slash(fake, "U1", ch.ID, "note Database looks fine")
	sitrep.slash(fake, "U1", ch.ID, "sev sev9")
	forged := signedRequest(t, sitrep.base+"/slack/commands", slashBody("U1", ch.ID, "note forged", fake.NewResponseURL(), ""), clk.Now())
	forged.Header.Set("X-Slack-Signature", "v0="+strings.Repeat("0", 64))
	sitrep.do(forged)
	clk.Advance(15 * time.Minute) // sev0's cadence: a status update is due
	eventually(t, "the prompt", func() bool { return len(prompts(fake, ch.ID, "status update on incident #1")) == 1 })
	eventually(t, "Slack caught up", func() bool { return len(unsynced(t, w.db)) == 0 })

	fams := sitrep.scrape(t)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64 // -1: present, any value
	}{
		{"sitrep_incidents", []string{"status", "investigating", "severity", "sev0"}, 1},
		{"sitrep_incidents", []string{"status", "closed", "severity", "sev3"}, 0},
		{"sitrep_slack_request_duration_seconds", []string{"kind", "command", "outcome", "ok"}, 2},
		{"sitrep_slack_request_duration_seconds", []string{"kind", "command", "outcome", "invalid"}, 1},
		{"sitrep_slack_request_duration_seconds", []string{"kind", "command", "outcome", "rejected"}, 1},
		{"sitrep_slack_api_calls_total", []string{"method", "conversations.create", "result", "ok"}, 1},
		{"sitrep_slack_api_calls_total", []string{"method", "pins.add", "result", "ok"}, 1},
		{"sitrep_slack_api_calls_total", []string{"method", "response_url", "result", "ok"}, -1},
		{"sitrep_slack_api_call_duration_seconds", []string{"method", "chat.postMessage"}, -1},
		{"sitrep_slack_pending_incidents", nil, 0},
		{"sitrep_slack_pending_oldest_seconds", nil, 0},
		{"sitrep_prompts_sent_total", []string{"prompt", "update"}, 1},
		{"sitrep_prompts_sent_total", []string{"prompt", "postmortem"}, 0},
		{"sitrep_delivery_pass_duration_seconds", []string{"integration", "slack", "outcome", "ok"}, -1},
		{"sitrep_build_info", []string{"version", "dev"}, 1},
		{"go_goroutines", nil, -1},
		{"process_resident_memory_bytes", nil, -1},
	} {
		got, ok := metricValue(fams, c.name, c.labels...)
		switch {
		case !ok:
			t.Errorf("no %s%v in /metrics; it has %v", c.name, c.labels, fams[c.name])
		case c.want >= 0 && got != c.want:
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if n, _ := metricValue(fams, "sitrep_slack_api_calls_total", "method", "chat.postMessage", "result", "ok"); n < 4 {
		t.Errorf("%v chat.postMessage calls counted; the card, checklist, note and prompt make at least 4", n)
	}

	// Slack goes down: the note waits, and the metrics say so.
	fake.Fail(slackfake.AnyMethod, slackfake.Failure{Status: http.StatusServiceUnavailable})
	sitrep.slash(fake, "U1", ch.ID, "note Failing over")
	eventually(t, "the pending work in /metrics", func() bool {
		fams = sitrep.scrape(t)
		pending, _ := metricValue(fams, "sitrep_slack_pending_incidents")
		oldest, _ := metricValue(fams, "sitrep_slack_pending_oldest_seconds")
		failed, _ := metricValue(fams, "sitrep_slack_api_calls_total", "result", "http_5xx")
		failedPasses, _ := metricValue(fams, "sitrep_delivery_pass_duration_seconds", "integration", "slack", "outcome", "failed")
		return pending == 1 && oldest > 0 && failed > 0 && failedPasses > 0
	})
	fake.ClearFailures()
}

// logLines parses the program's JSON log lines.
func logLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("a log line is not JSON: %q", sc.Text())
		}
		lines = append(lines, m)
	}
	return lines
}

// TestEachRequestLoggedOnce checks that every request from Slack, over
// HTTP and over Socket Mode, is logged in one line with its ID, kind,
// outcome, duration and, where known, the incident.
func TestEachRequestLoggedOnce(t *testing.T) {
	for _, socket := range []bool{false, true} {
		name := "http"
		if socket {
			name = "socket"
		}
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			fake := w.fake
			start := (*world).start
			if socket {
				start = (*world).startSocket
			}
			sitrep := start(w, t)
			ch := w.declared(t, sitrep)
			sitrep.slash(fake, "U1", ch.ID, "note Database looks fine")
			sitrep.slash(fake, "U1", ch.ID, "status sideways")
			sitrep.slash(fake, "U1", w.general, "note not in an incident channel")
			sitrep.stop()

			var requests []map[string]any
			ids := map[string]bool{}
			for _, l := range logLines(t, sitrep.logs.String()) {
				if l["msg"] != "slack request" {
					continue
				}
				requests = append(requests, l)
				id, _ := l["request_id"].(string)
				if id == "" || ids[id] {
					t.Errorf("request logged without an ID of its own: %v", l)
				}
				ids[id] = true
				if _, ok := l["duration_ms"].(float64); !ok {
					t.Errorf("request logged without its duration: %v", l)
				}
				if l["transport"] != name || l["kind"] != "command" {
					t.Errorf("request logged as %v over %v, want a command over %s", l["kind"], l["transport"], name)
				}
			}
			want := []struct {
				what, outcome string
				incident      float64
			}{
				{"declare", "ok", 1}, {"note", "ok", 1}, {"status", "invalid", 1}, {"note", "not_found", 0},
			}
			if len(requests) != len(want) {
				t.Fatalf("%d requests logged, want %d:\n%v", len(requests), len(want), requests)
			}
			for i, w := range want {
				got := requests[i]
				n, _ := got["incident"].(float64)
				if got["what"] != w.what || got["outcome"] != w.outcome || n != w.incident {
					t.Errorf("request %d logged as %v %v (incident %v), want %s %s (incident %v)", i, got["what"], got["outcome"], got["incident"], w.what, w.outcome, w.incident)
				}
			}
		})
	}
}

// runCmd runs one sitrep command in-process with env as its environment.
func runCmd(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	p := program{getenv: func(k string) string { return env[k] }, stdout: &out, stderr: &errOut}
	err = p.run(context.Background(), args)
	return out.String(), errOut.String(), err
}

// TestEveryCommandHasHelp runs each subcommand with -h: it must explain
// itself and succeed, without doing anything.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands {
		if c.name == "help" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			out, errOut, err := runCmd(t, map[string]string{"SITREP_DB": filepath.Join(t.TempDir(), "none.db")}, c.name, "-h")
			if err != nil {
				t.Fatalf("sitrep %s -h: %v", c.name, err)
			}
			if help := out + errOut; !strings.Contains(help, "Usage: sitrep "+c.name) {
				t.Errorf("sitrep %s -h says:\n%s", c.name, help)
			}
		})
	}
	out, _, err := runCmd(t, nil, "help")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("sitrep help does not list %s:\n%s", c.name, out)
		}
	}
	if _, errOut, err := runCmd(t, nil, "serve", "now"); err == nil || !strings.Contains(err.Error(), "takes no arguments") {
		t.Errorf("sitrep serve now: %v %s", err, errOut)
	}
}

func TestVersion(t *testing.T) {
	out, _, err := runCmd(t, nil, "version")
	if err != nil || !strings.HasPrefix(out, "sitrep dev (") || !strings.Contains(out, "go1.") {
		t.Errorf("sitrep version: %q, %v", out, err)
	}
}

// TestHealthcheck asks a running Sitrep, as a container's health check
// does, and one that is not running.
func TestHealthcheck(t *testing.T) {
	w := newWorld(t)
	sitrep := w.start(t)
	addr := strings.TrimPrefix(sitrep.base, "http://")
	out, _, err := runCmd(t, map[string]string{"SITREP_ADDR": addr}, "healthcheck")
	if err != nil || !strings.Contains(out, "ok") {
		t.Errorf("healthcheck of a running Sitrep: %q, %v", out, err)
	}
	if _, _, err := runCmd(t, nil, "healthcheck", "-url", sitrep.base+"/healthz"); err != nil {
		t.Errorf("healthcheck -url: %v", err)
	}
	sitrep.stop()
	if _, _, err := runCmd(t, map[string]string{"SITREP_ADDR": addr}, "healthcheck"); err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("healthcheck of a stopped Sitrep: %v", err)
	}
	if _, _, err := runCmd(t, map[string]string{"SITREP_ADDR": "8080"}, "healthcheck"); err == nil || !strings.HasPrefix(err.Error(), "SITREP_ADDR: ") {
		t.Errorf("healthcheck with a bad SITREP_ADDR: %v", err)
	}
	for addr, want := range map[string]string{
		":8080":          "http://127.0.0.1:8080/healthz",
		"0.0.0.0:9000":   "http://127.0.0.1:9000/healthz",
		"[::]:9000":      "http://127.0.0.1:9000/healthz",
		"10.0.0.5:8080":  "http://10.0.0.5:8080/healthz",
		"localhost:8081": "http://localhost:8081/healthz",
	} {
		if got, err := healthURL(addr); err != nil || got != want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
}

// TestMigrateAndBackupWhileServing migrates a new database, then backs up
// the database of a running Sitrep in the middle of an incident, and
// checks that the copy opens and holds the incident.
func TestMigrateAndBackupWhileServing(t *testing.T) {
	w := newWorld(t)
	env := map[string]string{"SITREP_DB": w.db}
	out, _, err := runCmd(t, env, "migrate")
	if err != nil || !strings.Contains(out, "schema up to date") || !strings.Contains(out, "0001_init.sql") || !strings.Contains(out, "(now)") {
		t.Fatalf("sitrep migrate on a new database: %q, %v", out, err)
	}
	if out, _, err := runCmd(t, env, "migrate"); err != nil || strings.Contains(out, "(now)") {
		t.Errorf("sitrep migrate again applied something: %q, %v", out, err)
	}

	fake := w.fake
	sitrep := w.start(t)
	ch := w.declared(t, sitrep)
	sitrep.slash(fake, "U1", ch.ID, "note Database looks fine")

	dest := filepath.Join(t.TempDir(), "backup.db")
	out, _, err = runCmd(t, env, "backup", dest)
	if err != nil || !strings.Contains(out, "1 incidents") {
		t.Fatalf("sitrep backup: %q, %v", out, err)
	}
	if _, _, err := runCmd(t, env, "backup", dest); err == nil || !strings.Contains(err.Error(), "-f") {
		t.Errorf("a second backup over the first: %v, want a refusal that mentions -f", err)
	}
	if _, _, err := runCmd(t, env, "backup", "-f", dest); err != nil {
		t.Errorf("sitrep backup -f: %v", err)
	}
	if _, _, err := runCmd(t, env, "backup", w.db); err == nil {
		t.Error("a backup onto the database itself was allowed")
	}
	if _, _, err := runCmd(t, map[string]string{"SITREP_DB": filepath.Join(t.TempDir(), "missing.db")}, "backup", dest); err == nil || !strings.HasPrefix(err.Error(), "SITREP_DB: ") {
		t.Errorf("a backup of a missing database: %v", err)
	}
	if _, _, err := runCmd(t, env, "backup"); err == nil {
		t.Error("a backup without a file name was allowed")
	}

	db, err := sqlite.Open(context.Background(), dest)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	inc, err := db.Get(context.Background(), 1)
	if err != nil || inc.Title != "Checkout failing" {
		t.Errorf("the backup holds %+v, %v", inc, err)
	}
}

// TestConfigCheck prints the effective settings of a custom config with
// the secrets masked, and names the setting that is wrong.
func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "sitrep.yaml")
	if err := os.WriteFile(cfgFile, []byte("channel_prefix: incident\ntime_zone: Europe/Berlin\nroles: [comms]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SLACK_BOT_TOKEN":      "xoxb-2222-3333-abcdefghijklmnopqrstuvwx",
		"SLACK_SIGNING_SECRET": "8f742231b10e8888f742231b10e88888",
		"SLACK_APP_TOKEN":      "xapp-1-A111-2222-abcdefabcdef",
		"SITREP_CONFIG":        cfgFile,
		"SITREP_LOG_LEVEL":     "debug",
	}
	out, _, err := runCmd(t, env, "config", "check")
	if err != nil {
		t.Fatalf("config check: %v", err)
	}
	for _, want := range []string{"Settings are valid", "Socket Mode", "channel_prefix: incident", "time_zone: Europe/Berlin", "cadence: 15m0s", "SITREP_LOG_LEVEL", "debug",
		fmt.Sprintf("xoxb-… (set, %d characters, masked)", len(env["SLACK_BOT_TOKEN"])),
		// sev3 is never prompted: the README calls that cadence "none".
		"- name: sev3\n      description: 'Minor: little customer impact'\n      cadence: none\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("config check does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "cadence: 0s") {
		t.Errorf("config check prints a cadence of 0s, not none:\n%s", out)
	}
	for _, k := range []string{"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"} {
		secret := env[k]
		if strings.Contains(out, secret[len(secret)/2:]) || strings.Contains(out, secret[5:len(secret)/2]) {
			t.Errorf("config check shows part of %s:\n%s", k, out)
		}
	}
	// The printed configuration is itself a valid config file that gives
	// the same settings.
	_, yamlPart, _ := strings.Cut(out, "# The effective configuration, as a SITREP_CONFIG file:\n")
	again := filepath.Join(dir, "effective.yaml")
	if err := os.WriteFile(again, []byte(yamlPart), 0o644); err != nil {
		t.Fatal(err)
	}
	env["SITREP_CONFIG"] = again
	out2, _, err := runCmd(t, env, "config", "check")
	if err != nil {
		t.Fatalf("config check of the printed configuration: %v", err)
	}
	if strings.ReplaceAll(out2, again, cfgFile) != out {
		t.Errorf("the printed configuration gives other settings:\n%s\nwant:\n%s", out2, out)
	}

	env["SITREP_LOG_LEVEL"] = "loud"
	if _, _, err := runCmd(t, env, "config", "check"); err == nil || !strings.Contains(err.Error(), "SITREP_LOG_LEVEL") {
		t.Errorf("config check with a bad log level: %v", err)
	}
	if _, _, err := runCmd(t, env, "config"); err == nil {
		t.Error("sitrep config without check succeeded")
	}
}

// TestConfigCheckFileAlone checks a config file with no Slack settings at
// all, as someone preparing one for the playground would: -file checks the
// file alone and says the rest was not checked; without -file, the missing
// tokens are named and -file suggested.
func TestConfigCheckFileAlone(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "sitrep.yaml")
	if err := os.WriteFile(cfgFile, []byte("channel_prefix: drill\nroles: [comms]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"config", "check", "-file", cfgFile}, {"config", "-file", cfgFile, "check"}} {
		out, _, err := runCmd(t, nil, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		for _, want := range []string{"The config file " + cfgFile + " is valid", "the Slack tokens and other settings from the environment were not", "channel_prefix: drill", "cadence: none"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v does not say %q:\n%s", args, want, out)
			}
		}
		if strings.Contains(out, "SLACK_BOT_TOKEN") {
			t.Errorf("%v lists the environment's settings:\n%s", args, out)
		}
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("channel_prefix: Drill!\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, nil, "config", "check", "-file", bad); err == nil || !strings.HasPrefix(err.Error(), "config check -file: "+bad+`: channel_prefix "Drill!"`) {
		t.Errorf("config check -file of a bad file: %v", err)
	}

	_, _, err := runCmd(t, map[string]string{"SITREP_CONFIG": cfgFile}, "config", "check")
	if err == nil || !strings.Contains(err.Error(), "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET are not set") || !strings.HasSuffix(err.Error(), "sitrep config check -file sitrep.yaml") {
		t.Errorf("config check without tokens: %v, want them named and -file suggested", err)
	}
}
