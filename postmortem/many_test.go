package postmortem_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/postmortem"
)

// cellSplit splits a table row on the pipes that are not escaped.
var cellSplit = regexp.MustCompile(`(^|[^\\])\|`)

// TestManyEvents checks the structure of a postmortem with 5,000 events:
// one table row each, three cells in every row, in time order, and the same
// rows in the HTML.
func TestManyEvents(t *testing.T) {
	const n = 5000
	inc, evs := many(n)
	md := render(t, postmortem.Build(inc, evs, time.UTC, name))

	var rows []string
	for l := range strings.SplitSeq(string(md), "\n") {
		if strings.HasPrefix(l, "| 2024-") {
			rows = append(rows, l)
		}
	}
	if len(rows) != n {
		t.Fatalf("got %d timeline rows, want %d", len(rows), n)
	}
	prev := ""
	for i, r := range rows {
		// "| a | b | c |" has four unescaped pipes.
		if got := len(cellSplit.FindAllStringIndex(r, -1)); got != 4 {
			t.Fatalf("row %d has %d unescaped pipes, want 4: %s", i, got, r)
		}
		if r < prev {
			t.Fatalf("row %d is out of order: %s after %s", i, r, prev)
		}
		prev = r
	}
	if !bytes.HasSuffix(md, []byte("No follow-ups were recorded.\n")) {
		t.Errorf("document does not end with its last section: %q", md[len(md)-80:])
	}

	html, err := postmortem.HTML(md)
	if err != nil {
		t.Fatal(err)
	}
	if got := bytes.Count(html, []byte("<tr>")); got != n+1 {
		t.Errorf("HTML has %d table rows, want %d and the header", got, n)
	}
	if got := bytes.Count(html, []byte("<td>")); got != 3*n {
		t.Errorf("HTML has %d table cells, want %d", got, 3*n)
	}
}
