package templates

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sitrep-dev/sitrep/incident"
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

// applies lists the IDs of the items of checklist that go on an incident of
// severity sev under cfg: those without a from, and those from sev or a less
// severe severity (as incident.ChecklistItem documents From).
func applies(cfg incident.Config, checklist []incident.ChecklistItem, sev string) []string {
	rank := slices.Index(cfg.SeverityNames(), sev)
	var ids []string
	for _, it := range checklist {
		if it.From == "" || rank <= slices.Index(cfg.SeverityNames(), it.From) {
			ids = append(ids, it.ID)
		}
	}
	return ids
}

func TestChecklist(t *testing.T) {
	items, err := Checklist()
	if err != nil {
		t.Fatal(err)
	}
	cfg := incident.DefaultConfig()
	cfg.Checklist = items
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the default checklist does not validate with the default severities: %v", err)
	}

	counts := map[string]int{}
	for _, sev := range cfg.SeverityNames() {
		counts[sev] = len(applies(cfg, items, sev))
	}
	// The customer and status-page items are for major incidents only.
	want := map[string]int{"sev0": 11, "sev1": 11, "sev2": 9, "sev3": 9}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("items per severity (-want +got):\n%s", diff)
	}

	statusPages := 0
	for _, it := range items {
		if it.Suggestion != "" && it.Kind != incident.Question {
			t.Errorf("item %s has a suggestion but is a %s; suggestions are offered on a yes", it.ID, it.Kind)
		}
		if it.StatusPages {
			statusPages++
			if it.Kind != incident.Question || it.Suggestion == "" {
				t.Errorf("item %s offers the status pages, but not with a question's suggestion", it.ID)
			}
		}
	}
	if statusPages != 1 {
		t.Errorf("%d items offer the status pages, want the third-party question alone", statusPages)
	}

	// Each call has its own copy.
	items[0].Text = "changed"
	again, err := Checklist()
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Text == "changed" {
		t.Error("a caller's change to the checklist reached the next caller")
	}
}

func TestParseChecklistIsStrict(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // in the error
	}{
		{"unknown key", "- id: a\n  kind: task\n  text: A\n  sugestion: B\n", "field sugestion not found"},
		{"not a list", "id: a\n", "cannot unmarshal"},
		{"empty", "", "empty"},
		{"two documents", "- id: a\n  kind: task\n  text: A\n---\n- id: b\n", "one YAML document only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseChecklist("c.yaml", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "c.yaml") {
				t.Errorf("error %v, want one naming c.yaml and containing %q", err, tt.want)
			}
		})
	}
}
