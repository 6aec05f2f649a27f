package postmortem_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/postmortem"
)

// tagRE finds HTML tags and comments in goldmark's output.
var tagRE = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*|!--)([^>]*)>`)

// allowed are the tags goldmark makes from the Markdown Sitrep writes; any
// other tag would have come from user text.
var allowed = map[string]bool{
	"h1": true, "h2": true, "p": true, "ul": true, "ol": true, "li": true, "strong": true, "em": true,
	"a": true, "br": true, "table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
	"input": true, "h3": true, "code": true, "blockquote": true,
}

// TestHTMLHostile checks that nothing a person wrote reaches the HTML as
// markup: no tag outside the allowed set, no omitted raw HTML (which would
// mean the Markdown escaping let some through), and links only to the web
// or mail.
func TestHTMLHostile(t *testing.T) {
	html, err := postmortem.HTML(render(t, hostile()))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range tagRE.FindAllStringSubmatch(string(html), -1) {
		if !allowed[strings.ToLower(m[2])] {
			t.Errorf("unexpected tag in output: %s", m[0])
		}
		if m[2] == "a" && m[1] == "" && !regexp.MustCompile(`^ href="(https?|mailto):[^"]+"$`).MatchString(m[3]) {
			t.Errorf("unexpected link: %s", m[0])
		}
		if m[2] == "input" && m[3] != ` disabled="" type="checkbox"` && m[3] != ` checked="" disabled="" type="checkbox"` {
			t.Errorf("unexpected input: %s", m[0])
		}
	}
	for _, bad := range []string{"<script", "<img", "<b>", `"javascript:`, "raw HTML omitted"} {
		if strings.Contains(string(html), bad) {
			t.Errorf("output contains %q", bad)
		}
	}
	// The text is all still there, as text.
	for _, text := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(5)&gt;", "# Not a heading | col | col"} {
		if !strings.Contains(string(html), text) {
			t.Errorf("output lacks the text %q", text)
		}
	}
}

// TestHTMLRawHTMLOmitted checks goldmark's own defence, should Markdown
// from elsewhere (an override template) contain raw HTML.
func TestHTMLRawHTMLOmitted(t *testing.T) {
	html, err := postmortem.HTML([]byte("<script>alert(1)</script>\n\nhi <img src=x onerror=alert(2)> [x](javascript:alert(3))\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "<img", "javascript:"} {
		if strings.Contains(string(html), bad) {
			t.Errorf("output contains %q:\n%s", bad, html)
		}
	}
}
