package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readmeLine is the README's command line that starts with prefix.
func readmeLine(t *testing.T, prefix string) []string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, prefix) {
			return strings.Fields(strings.TrimPrefix(line, "go run ./cmd/sitrep "))
		}
	}
	t.Fatalf("README.md has no line starting %q", prefix)
	return nil
}

// TestPostmortemOfAPlaygroundIncident follows the README: a playground run
// keeps its database with -db, and postmortem -db renders an incident from
// that file, with no SITREP_DB and no Slack settings.
func TestPostmortemOfAPlaygroundIncident(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "playground.db")
	out := filepath.Join(dir, "incident-1.html")
	// The README's two lines, with the files put in the test's directory.
	inDir := func(args []string) []string {
		for i, a := range args {
			switch a {
			case "playground.db":
				args[i] = db
			case "incident-1.html":
				args[i] = out
			}
		}
		return args
	}
	pgArgs := inDir(readmeLine(t, "go run ./cmd/sitrep playground -db"))
	pmArgs := inDir(readmeLine(t, "go run ./cmd/sitrep postmortem 1 -db"))

	pg := startPlayground(t, pgArgs[1:]...)
	general := pg.state("U0ALICE", "").channelID("general")
	pg.mustPost("/api/send", map[string]any{"user": "U0ALICE", "channel": general, "text": "/incident declare sev2 Search slow"})
	eventually(t, "the incident channel", func() bool { return pg.state("U0ALICE", "").channelID("inc-1-search-slow") != "" })
	pg.stop()

	stdout, _, err := runCmd(t, nil, pmArgs...)
	if err != nil {
		t.Fatalf("%v: %v", pmArgs, err)
	}
	if stdout != "" {
		t.Errorf("postmortem -o also wrote to stdout:\n%s", stdout)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The incident is still open: its postmortem is a draft.
	if !strings.Contains(string(page), "<title>Postmortem: #1 Search slow (draft)</title>") {
		t.Errorf("the page is not incident 1's postmortem:\n%.500s", page)
	}

	// A mistyped -db names the flag, and no database is left behind.
	missing := filepath.Join(dir, "nope.db")
	_, _, err = runCmd(t, nil, "postmortem", "1", "-db", missing)
	if err == nil || err.Error() != "-db: no database at "+missing {
		t.Errorf("postmortem -db %s: %v, want the flag named", missing, err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("postmortem -db created %s", missing)
	}
	// -db wins over SITREP_DB.
	if _, _, err := runCmd(t, map[string]string{"SITREP_DB": missing}, "postmortem", "1", "-db", db); err != nil {
		t.Errorf("postmortem -db with SITREP_DB set elsewhere: %v", err)
	}
}
