package templates

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sitrep-dev/sitrep/postmortem"
)

func execute(t *testing.T, dir string) string {
	t.Helper()
	tmpl, err := Postmortem(dir)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	v := postmortem.View{Number: 3, Title: "Disk full", Declared: time.Date(2024, 1, 2, 3, 4, 0, 0, time.UTC), ZoneName: "UTC"}
	if err := postmortem.Render(&buf, tmpl, v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestPostmortemEmbedded(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} { // no directory, and one without an override
		got := execute(t, dir)
		if !strings.HasPrefix(got, "# Incident #3: Disk full\n") {
			t.Errorf("dir %q: embedded template not used:\n%s", dir, got)
		}
	}
	a, _ := Postmortem("")
	b, _ := Postmortem("")
	if a != b {
		t.Error("the embedded template was parsed twice")
	}
}

func TestPostmortemOverride(t *testing.T) {
	dir := t.TempDir()
	src := "Postmortem {{.Number}}: {{.Title}}, declared {{utc .Declared}}\n"
	if err := os.WriteFile(filepath.Join(dir, PostmortemFile), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("Postmortem 3: Disk full, declared 2024-01-02 03:04 UTC\n", execute(t, dir)); diff != "" {
		t.Errorf("override mismatch (-want +got):\n%s", diff)
	}
}

func TestPostmortemErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(dir string) error
		want  []string // in the error
	}{
		{
			name: "parse error names the file",
			setup: func(dir string) error {
				return os.WriteFile(filepath.Join(dir, PostmortemFile), []byte("# {{.Title}\n"), 0o644)
			},
			want: []string{"parse postmortem template", PostmortemFile, ":1:"},
		},
		{
			name: "unknown function",
			setup: func(dir string) error {
				return os.WriteFile(filepath.Join(dir, PostmortemFile), []byte("{{shout .Title}}\n"), 0o644)
			},
			want: []string{PostmortemFile, `"shout" not defined`},
		},
		{
			name:  "unreadable",
			setup: func(dir string) error { return os.Mkdir(filepath.Join(dir, PostmortemFile), 0o755) },
			want:  []string{"read postmortem template", PostmortemFile},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tt.setup(dir); err != nil {
				t.Fatal(err)
			}
			_, err := Postmortem(dir)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
