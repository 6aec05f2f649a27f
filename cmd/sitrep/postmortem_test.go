package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
	"github.com/sitrep-dev/sitrep/templates"
)

// postmortemDB records one resolved incident with notes in a new database and returns
// the database's path. The clock is fixed, so durations are known.
func postmortemDB(t *testing.T, title string, notes ...string) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sitrep.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	svc := incident.NewService(db, incident.DefaultConfig(), func() time.Time { return now })
	step := func(d time.Duration, what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		now = now.Add(d)
	}
	_, err = svc.Declare(ctx, incident.Declaration{Title: title, Actor: "U0CMD", Summary: "Writes failed."})
	step(5*time.Minute, "declare", err)
	_, err = svc.SetStatus(ctx, 1, "U0CMD", incident.Identified)
	step(10*time.Minute, "identified", err)
	for i, note := range notes {
		_, err = svc.AddNote(ctx, 1, "U0SCRIBE", note)
		d := time.Duration(0)
		if i == len(notes)-1 {
			d = 15 * time.Minute
		}
		step(d, "note", err)
	}
	_, err = svc.PostUpdate(ctx, 1, "U0CMD", "Failover done; watching.")
	step(60*time.Minute, "update", err)
	_, err = svc.Resolve(ctx, 1, "U0CMD", "Disk replaced.")
	step(0, "resolve", err)
	return path
}

// runPostmortemCmd runs "sitrep postmortem args..." with env alone as its
// environment: no Slack settings.
func runPostmortemCmd(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	p := program{getenv: func(k string) string { return env[k] }, stdout: &out, stderr: &errOut}
	err = p.run(context.Background(), append([]string{"postmortem"}, args...))
	return out.String(), errOut.String(), err
}

func TestPostmortemMarkdown(t *testing.T) {
	db := postmortemDB(t, "Primary DB disk full", "Disk at 100% on db-1")
	out, stderr, err := runPostmortemCmd(t, map[string]string{"SITREP_DB": db}, "1")
	if err != nil {
		t.Fatalf("err = %v; stderr:\n%s", err, stderr)
	}
	for _, want := range []string{
		"# Incident #1: Primary DB disk full\n",
		"- **Duration:** 1h 30m\n",
		"- **Time to identify:** 5m\n",
		"- **Commander:** U0CMD\n", // offline, people are their IDs
		"Times are UTC.\n",
		"| 2024-05-01 10:00 UTC | Declared as sev2 | U0CMD |\n",
		"| 2024-05-01 10:05 UTC | Status investigating → identified | U0CMD |\n",
		"| 2024-05-01 10:15 UTC | Note: Disk at 100% on db-1 | U0SCRIBE |\n",
		"| 2024-05-01 10:30 UTC | Status update: Failover done; watching. | U0CMD |\n",
		"| 2024-05-01 11:30 UTC | Resolved: Disk replaced. | U0CMD |\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, out)
		}
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing", stderr)
	}
}

func TestPostmortemHTMLFile(t *testing.T) {
	// Slack stores a typed "<" as "&lt;", so text with a raw "<" is Slack
	// markup to Sitrep; either way, no tag may reach the page.
	db := postmortemDB(t, `DB <down> & "out"`,
		"Found <script>alert(1)</script> in the logs",
		"Typed &lt;script&gt;alert(2)&lt;/script&gt; in Slack")
	for _, args := range [][]string{
		{"--html", "-o", "FILE", "1"}, // flags first
		{"1", "-o", "FILE", "--html"}, // flags after the number
		{"-o=FILE", "1", "-html"},     // flags on both sides
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "pm.html")
			if err := os.WriteFile(file, []byte(strings.Repeat("stale ", 10000)), 0o600); err != nil {
				t.Fatal(err)
			}
			for i, a := range args {
				args[i] = strings.ReplaceAll(a, "FILE", file)
			}
			out, stderr, err := runPostmortemCmd(t, map[string]string{"SITREP_DB": db}, args...)
			if err != nil {
				t.Fatalf("err = %v; stderr:\n%s", err, stderr)
			}
			if out != "" || stderr != "" {
				t.Errorf("with -o, printed stdout %q, stderr %q; want nothing", out, stderr)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			page := string(b)
			for _, want := range []string{
				"<!doctype html>\n",
				`<meta charset="utf-8">`,
				"<title>Postmortem: #1 DB &lt;down&gt; &amp; &#34;out&#34;</title>",
				"&amp; &quot;out&quot;</h1>", // the heading, from the Markdown
				"Typed &lt;script&gt;alert(2)&lt;/script&gt; in Slack",
				"<table>",
				"</body>\n</html>\n",
			} {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q:\n%s", want, page)
				}
			}
			for _, bad := range []string{"<script", "<down>", "stale"} {
				if strings.Contains(page, bad) {
					t.Errorf("page contains %q:\n%s", bad, page)
				}
			}
		})
	}
}

func TestPostmortemMarkdownFile(t *testing.T) {
	db := postmortemDB(t, "Disk full", "Disk at 100%")
	file := filepath.Join(t.TempDir(), "pm.md")
	out, _, err := runPostmortemCmd(t, map[string]string{"SITREP_DB": db}, "-o", file, "1")
	if err != nil || out != "" {
		t.Fatalf("err = %v, stdout %q", err, out)
	}
	want, _, _ := runPostmortemCmd(t, map[string]string{"SITREP_DB": db}, "1")
	got, err := os.ReadFile(file)
	if err != nil || string(got) != want {
		t.Errorf("file holds %q (err %v), want what stdout shows:\n%s", got, err, want)
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm()&^0o644 != 0 {
		t.Errorf("file mode %v (err %v), want at most 0644", st.Mode(), err)
	}
}

func TestPostmortemConfigAndTemplates(t *testing.T) {
	db := postmortemDB(t, "Disk full", "Disk at 100%")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sitrep.yaml")
	if err := os.WriteFile(cfg, []byte("time_zone: Europe/Berlin\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SITREP_DB": db, "SITREP_CONFIG": cfg}
	out, _, err := runPostmortemCmd(t, env, "1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Times are UTC, with Europe/Berlin in brackets.") {
		t.Errorf("time_zone not used:\n%s", out)
	}

	tmpl := t.TempDir()
	src := "PM {{.Number}} {{.Title}} {{utc .Declared}} {{len .Timeline}} rows\n"
	if err := os.WriteFile(filepath.Join(tmpl, templates.PostmortemFile), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("time_zone: Europe/Berlin\ntemplates_dir: "+tmpl+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err = runPostmortemCmd(t, env, "1")
	if err != nil {
		t.Fatal(err)
	}
	if want := "PM 1 Disk full 2024-05-01 10:00 UTC 5 rows\n"; out != want {
		t.Errorf("with templates_dir: got %q, want %q", out, want)
	}

	if err := os.WriteFile(cfg, []byte("templates_dir: "+filepath.Join(tmpl, "nope")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runPostmortemCmd(t, env, "1"); err == nil || !strings.Contains(err.Error(), "templates_dir") {
		t.Errorf("missing templates_dir directory: err = %v", err)
	}
}

func TestPostmortemHelp(t *testing.T) {
	out, stderr, err := runPostmortemCmd(t, nil, "-h")
	if err != nil || out != "" || !strings.Contains(stderr, "Usage: sitrep postmortem <n>") || !strings.Contains(stderr, "-html") {
		t.Errorf("-h: err = %v, stdout %q, stderr:\n%s", err, out, stderr)
	}
}

func TestPostmortemErrors(t *testing.T) {
	db := postmortemDB(t, "Disk full", "Disk at 100%")
	missing := filepath.Join(t.TempDir(), "typo.db")
	const noNumber = "postmortem: give the incident number, e.g. sitrep postmortem 42"
	tests := []struct {
		name string
		db   string
		args []string
		want string
	}{
		{"no number", db, nil, noNumber},
		{"only flags", db, []string{"--html"}, noNumber},
		{"not a number", db, []string{"forty-two"}, noNumber},
		{"zero", db, []string{"0"}, noNumber},
		{"two numbers", db, []string{"1", "2"}, `postmortem: one incident number only, not "1 2"`},
		{"unknown incident", db, []string{"7"}, "postmortem: There is no incident #7."},
		{"unknown flag", db, []string{"--pdf", "1"}, "postmortem: flag provided but not defined: -pdf"},
		{"no database", missing, []string{"1"}, "SITREP_DB: no database at " + missing},
		{"database is a directory", filepath.Dir(missing), []string{"1"}, "SITREP_DB: " + filepath.Dir(missing) + " is not a database file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runPostmortemCmd(t, map[string]string{"SITREP_DB": tt.db}, tt.args...)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
		})
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the missing database was created (stat err = %v)", err)
	}
}
