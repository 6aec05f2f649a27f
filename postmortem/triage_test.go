package postmortem_test

import (
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/postmortem"
)

// section returns the lines of the Markdown section headed "## title",
// without the heading and the blank lines.
func section(doc, title string) []string {
	_, rest, ok := strings.Cut(doc, "\n## "+title+"\n")
	if !ok {
		return nil
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	var lines []string
	for l := range strings.SplitSeq(rest, "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestHostileTriageAndFollowUps checks that hostile checklist items,
// answers, names and follow-ups keep the structure of their sections: one
// table row of four cells per item, one task per follow-up, in the
// Markdown and in the HTML.
func TestHostileTriageAndFollowUps(t *testing.T) {
	v := hostile()
	md := string(render(t, v))

	triage := section(md, "Triage")
	if len(triage) != 2+len(v.Triage) {
		t.Fatalf("triage section has %d lines, want a header, a delimiter and %d rows:\n%s", len(triage), len(v.Triage), strings.Join(triage, "\n"))
	}
	for i, r := range triage {
		// "| a | b | c | d |" has five unescaped pipes.
		if got := len(cellSplit.FindAllStringIndex(r, -1)); got != 5 {
			t.Errorf("triage line %d has %d unescaped pipes, want 5: %s", i, got, r)
		}
	}
	followUps := section(md, "Follow-ups")
	if len(followUps) != len(v.FollowUps) {
		t.Fatalf("follow-ups section has %d lines, want %d:\n%s", len(followUps), len(v.FollowUps), strings.Join(followUps, "\n"))
	}
	for i, l := range followUps {
		if !strings.HasPrefix(l, "- [ ] ") && !strings.HasPrefix(l, "- [x] ") {
			t.Errorf("follow-up %d is not a task: %s", i, l)
		}
	}

	out, err := postmortem.HTML([]byte(md))
	if err != nil {
		t.Fatal(err)
	}
	html := string(out)
	_, tri, _ := strings.Cut(html, "<h2>Triage</h2>")
	tri, _, _ = strings.Cut(tri, "<h2>")
	if got, want := strings.Count(tri, "<td>"), 4*len(v.Triage); got != want {
		t.Errorf("triage HTML has %d cells, want %d", got, want)
	}
	_, fu, _ := strings.Cut(html, "<h2>Follow-ups</h2>")
	if got, want := strings.Count(fu, `type="checkbox"`), len(v.FollowUps); got != want || strings.Count(fu, "<li>") != want {
		t.Errorf("follow-ups HTML has %d tasks, want %d", got, want)
	}
}
