package postmortem_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sitrep-dev/sitrep/postmortem"
	"github.com/sitrep-dev/sitrep/templates"
)

var update = flag.Bool("update", false, "update the golden files in testdata")

func render(t testing.TB, v postmortem.View) []byte {
	t.Helper()
	tmpl, err := templates.Postmortem("")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := postmortem.Render(&buf, tmpl, v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// golden compares got with testdata/name, or rewrites it under -update.
// Every golden is also linted by testdata/lint.sh.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./postmortem -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestGolden(t *testing.T) {
	_, _, seed := seed004()
	tests := []struct {
		name string
		view postmortem.View
	}{
		{"seed004", seed},
		{"no-events", noEvents()},
		{"still-open", stillOpen()},
		{"hostile", hostile()},
		{"reviewed", reviewed()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := render(t, tt.view)
			golden(t, tt.name+".md", md)
			html, err := postmortem.HTML(md)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".html", html)
		})
	}
}
