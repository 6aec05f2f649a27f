package postmortem_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/postmortem"
	"github.com/sitrep-dev/sitrep/templates"
)

// linkRE is what goldmark writes for a link Markdown made: to the web or
// mail only.
var linkRE = regexp.MustCompile(`(?i)^ href="(https?|mailto):[^"]+"$`)

// FuzzMarkdown checks Markdown, which turns Slack's mrkdwn into Markdown
// that cannot change the structure of the document it is placed in. For
// any text (and any display name the resolver returns):
//
//   - it does not panic, and valid UTF-8 in gives valid UTF-8 out, with no
//     control characters but line breaks;
//   - on its own, the result renders to paragraphs, line breaks, web or
//     mail links (never nested), and the emphasis and inline code that
//     Slack's markup asks for, only: no raw HTML, no image, heading, list,
//     quote, code block or table comes from a person's text;
//   - folded onto one line (the template's cell function), it stays one
//     table cell: one row, two cells, the second intact;
//   - a whole postmortem with the text in every field a person writes has
//     the same structure (headings, tables, rows, list items, checkboxes)
//     as one with plain text, and only the tags a postmortem has.
func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{
		"", "Database is slow", "ask <@U1>", "ask <@U1|ada>", "ask <@U2|bob>", "ask <@U3>",
		"see <#C1|ops-war-room>", "see <#C1>", "<!here> and <!channel>", "<!subteam^S1|@oncall> <!subteam^S2>",
		"<!date^1392734382^{date}|Feb 18, 2014>", "<https://x.example/a?b=1&amp;c=2|the dashboard>",
		"<https://x.example/a>", "<https://x.example/a_(b)|a | b>", "<mailto:a@b.example|a@b.example>",
		"<javascript:alert(1)|click>", "see https://x.example/p. ok", "https://en.wikipedia.org/wiki/A_(b)",
		"xhttps://x.example", "a &lt;b&gt; &amp; c", "&amp;lt;b&amp;gt; AT&amp;T &amp;#60;",
		"**b** `c` [l](u) a|b \\", "_it_ snake_case __init__", "# title", "&gt; said",
		"- a\n+ b\n* c\n1. d\n2) e\n2024. f", "3.14 and 10x", "a\n===\n~~~\n---", "    code",
		"\n\na\n\n\n\nb\n\n", "a\tb\x00c\r", "a < b", "<script>x</script>",
		"*bold* _italic_ ~strike~ `code`\n```\nblock\n```",
		"&<#C1|lt;>", "| a | b |\n| --- | --- |", "[ ] task\n[x] done", "\xff\xfe invalid utf-8",
	} {
		f.Add(s, "Ada Lovelace")
	}
	f.Add(hostileText, "Mallory | <b>`x`</b>\n# boss")
	for l := range strings.SplitSeq(hostileText, "\n") {
		f.Add(l, "")
	}
	// Sitrep's own escaped output, fed back in as if a person typed it.
	if md, err := os.ReadFile(filepath.Join("testdata", "hostile.md")); err == nil {
		f.Add(string(md), "<img src=x>")
	}

	cell, ok := postmortem.Funcs()["cell"].(func(string) string)
	if !ok {
		f.Fatal("the cell function is not a func(string) string")
	}
	tmpl, err := templates.Postmortem("")
	if err != nil {
		f.Fatal(err)
	}
	plain := lists(structure(f, document(f, tmpl, "plain text", "Ada")), postmortemOf("plain text", "Ada"))

	f.Fuzz(func(t *testing.T, s, who string) {
		resolve := func(id string) string {
			switch id {
			case "U1", "U0CMD":
				return who
			case "U2":
				return ""
			}
			return name(id)
		}
		md := postmortem.Markdown(s, resolve)

		if utf8.ValidString(s) && utf8.ValidString(who) && !utf8.ValidString(md) {
			t.Fatalf("Markdown(%q) = %q, not UTF-8", s, md)
		}
		for i := 0; i < len(md); i++ {
			if c := md[i]; (c < ' ' && c != '\n') || c == 0x7f {
				t.Fatalf("Markdown(%q) = %q, with control character %#x", s, md, c)
			}
		}

		// On its own: paragraphs, breaks and links.
		html, err := postmortem.HTML([]byte(md))
		if err != nil {
			t.Fatal(err)
		}
		checkTags(t, s, md, html, map[string]bool{"p": true, "br": true, "a": true, "em": true, "strong": true, "code": true})

		// Folded into a table cell: still one cell.
		c := cell(md)
		if strings.ContainsAny(c, "\r\n") {
			t.Fatalf("cell(Markdown(%q)) = %q, more than one line", s, c)
		}
		table := "| A | B |\n| --- | --- |\n| " + c + " | end |\n"
		html, err = postmortem.HTML([]byte(table))
		if err != nil {
			t.Fatal(err)
		}
		checkTags(t, s, table, html, map[string]bool{"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true, "a": true, "em": true, "strong": true, "code": true})
		if n := bytes.Count(html, []byte("<tr>")); n != 2 {
			t.Fatalf("cell(Markdown(%q)) makes %d table rows, want 2:\n%s\n%s", s, n, table, html)
		}
		if n := bytes.Count(html, []byte("<td")); n != 2 || !bytes.Contains(html, []byte("<td>end</td>\n</tr>\n</tbody>")) {
			t.Fatalf("cell(Markdown(%q)) splits the cell:\n%s\n%s", s, table, html)
		}

		// In a whole postmortem: the same structure as plain text.
		got := lists(structure(t, document(t, tmpl, s, who)), postmortemOf(s, who))
		for tag, n := range got {
			if plain[tag] != n {
				t.Fatalf("a postmortem of %q (name %q) has %d <%s>, plain text gives %d", s, who, n, tag, plain[tag])
			}
		}
		for tag, n := range plain {
			if got[tag] != n {
				t.Fatalf("a postmortem of %q (name %q) has %d <%s>, plain text gives %d", s, who, got[tag], tag, n)
			}
		}
	})
}

// checkTags fails t if html has a tag outside ok, a link off the web, or
// raw HTML that goldmark had to omit (which means the escaping let it
// through).
func checkTags(t *testing.T, in, md string, html []byte, ok map[string]bool) {
	t.Helper()
	if bytes.Contains(html, []byte("raw HTML omitted")) {
		t.Fatalf("Markdown(%q) lets raw HTML through:\n%s\n%s", in, md, html)
	}
	inLink := false
	for _, m := range tagRE.FindAllSubmatch(html, -1) {
		tag := strings.ToLower(string(m[2]))
		if !ok[tag] {
			t.Fatalf("Markdown(%q) makes a <%s>:\n%s\n%s", in, tag, md, html)
		}
		if tag != "a" {
			continue
		}
		if len(m[1]) > 0 {
			inLink = false
			continue
		}
		if !linkRE.Match(m[3]) {
			t.Fatalf("Markdown(%q) makes the link %s:\n%s\n%s", in, m[0], md, html)
		}
		// A link in a link is not HTML, and leaves the reader to guess
		// where it goes.
		if inLink {
			t.Fatalf("Markdown(%q) nests links:\n%s\n%s", in, md, html)
		}
		inLink = true
	}
}

// structure counts the tags of a rendered postmortem that make its
// structure: all but paragraphs, links, line breaks, emphasis and inline
// code, which a person's text may add. It fails on a tag a postmortem does not have.
func structure(t testing.TB, html []byte) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, m := range tagRE.FindAllSubmatch(html, -1) {
		tag := strings.ToLower(string(m[2]))
		if !allowed[tag] {
			t.Fatalf("unexpected tag %s in:\n%s", m[0], html)
		}
		if tag == "a" && len(m[1]) == 0 && !linkRE.Match(m[3]) {
			t.Fatalf("unexpected link %s in:\n%s", m[0], html)
		}
		switch tag {
		case "p", "a", "br", "em", "strong", "code":
		default:
			n[string(m[1])+tag+string(m[3])]++
		}
	}
	return n
}

// lists takes the learnings' and remediations' lists out of the counts n:
// each line of those texts is an item of its own, so their number is the
// text's to decide (every item is still one line of safe Markdown).
func lists(n map[string]int, v postmortem.View) map[string]int {
	items := len(v.Learnings) + len(v.Remediations)
	n["li"] -= items
	n["/li"] -= items
	if len(v.Learnings) > 0 {
		n["ol"]--
		n["/ol"]--
	}
	if len(v.Remediations) > 0 {
		n["ul"]--
		n["/ul"]--
	}
	for k, c := range n {
		if c == 0 {
			delete(n, k)
		}
	}
	return n
}

// document renders the postmortem of postmortemOf(text, who) through tmpl
// and converts it to HTML.
func document(t testing.TB, tmpl *template.Template, text, who string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := postmortem.Render(&buf, tmpl, postmortemOf(text, who)); err != nil {
		t.Fatal(err)
	}
	html, err := postmortem.HTML(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return html
}

// postmortemOf is a resolved incident with text in every field a person
// writes and who as the name of its people.
func postmortemOf(text, who string) postmortem.View {
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	inc := &incident.Incident{
		Number: 1, Title: text, Severity: "sev1", Status: incident.Resolved,
		Summary: text, Impact: text, RootCause: text,
		Mitigation: text, ContributingFactors: text, WentWell: text, WentBadly: text,
		Learnings: text, Remediations: text,
		Services:   []string{text},
		Roles:      map[string]string{incident.CommanderRole: "U1", "comms": "U1"},
		DeclaredAt: at, ResolvedAt: at.Add(time.Hour),
		Checklist: []incident.CheckItem{
			{ID: "q", Kind: incident.Question, Text: text, Answer: "yes", AnsweredBy: "U1", AnsweredAt: at},
			{ID: "t", Kind: incident.Task, Text: text},
		},
		FollowUps: []incident.FollowUp{
			{ID: 1, Text: text, Owner: "U1", CreatedBy: "U1", CreatedAt: at},
			{ID: 2, Text: text, CreatedBy: "U1", CreatedAt: at, DoneBy: "U1", DoneAt: at},
		},
	}
	evs := []incident.Event{
		{Seq: 1, At: at, Kind: incident.KindNote, Actor: "U1", Text: text},
		{Seq: 2, At: at, Kind: incident.KindMessage, Actor: "U1", Text: text, Data: map[string]string{"author": "U1"}},
	}
	resolve := func(id string) string {
		if id == "U1" {
			return who
		}
		return name(id)
	}
	return postmortem.Build(inc, evs, time.UTC, resolve)
}
