package postmortem

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMarkdown(t *testing.T) {
	names := map[string]string{"U1": "Ada Lovelace", "U2": ""}
	name := func(id string) string { return names[id] }
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "Database is slow", "Database is slow"},
		{"mention resolved", "ask <@U1>", "ask @Ada Lovelace"},
		{"mention resolver beats label", "ask <@U1|ada>", "ask @Ada Lovelace"},
		{"mention label fallback", "ask <@U2|bob>", "ask @bob"},
		{"mention id fallback", "ask <@U3>", "ask @U3"},
		{"channel", "see <#C1|ops-war-room>", "see #ops-war-room"},
		{"channel without name", "see <#C1>", "see #C1"},
		{"broadcast", "<!here> and <!channel>", "@here and @channel"},
		{"subteam", "<!subteam^S1|@oncall> <!subteam^S2>", "@oncall @S2"},
		{"date fallback", "<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"},
		{"labelled link", "<https://x.example/a?b=1&amp;c=2|the dashboard>", "[the dashboard](https://x.example/a?b=1&c=2)"},
		{"bare slack link", "<https://x.example/a>", "<https://x.example/a>"},
		{"link parens and pipe", "<https://x.example/a_(b)|a | b>", `[a \| b](https://x.example/a_%28b%29)`},
		{"mailto", "<mailto:a@b.example|a@b.example>", "[a@b.example](mailto:a@b.example)"},
		{"unsafe scheme is text", "<javascript:alert(1)|click>", "click"},
		{"bare url", "see https://x.example/p. ok", "see <https://x.example/p>. ok"},
		{"bare url keeps balanced paren", "https://en.wikipedia.org/wiki/A_(b)", "<https://en.wikipedia.org/wiki/A_%28b%29>"},
		{"not a url", "xhttps://x.example", "xhttps://x.example"},
		{"entities", "a &lt;b&gt; &amp; c", `a \<b> & c`},
		{"entity text stays text", "&amp;lt;b&amp;gt; AT&amp;T &amp;#60;", `\&lt;b\&gt; AT&T \&#60;`},
		{"markdown markup is text", "**b** `c` [l](u) a|b \\", `\*\*b\*\* ` + "`c`" + ` \[l\](u) a\|b \\`},
		{"underscores", "_it_ snake_case __init__", `*it* snake_case \_\_init\_\_`},
		{"slack bold and italic", "*Checkout* is _down_ for *EU users*", "**Checkout** is *down* for **EU users**"},
		{"sitrep's own markup", "*What we know:* 30% errors\n*What we are doing:* rollback", "**What we know:** 30% errors\\\n**What we are doing:** rollback"},
		{"bold around a link and a mention", "*see <https://x.example|the graph> by <@U1>*", "**see [the graph](https://x.example) by @Ada Lovelace**"},
		{"italic inside bold", "*a _b_ c*", "**a *b* c**"},
		{"not emphasis mid-word or spaced", "2*3*4 a * b * c snake_case_name *open", `2\*3\*4 a \* b \* c snake_case_name \*open`},
		{"code keeps its text", "run `kubectl get *pods* <x>` now", "run `kubectl get *pods* <x>` now"},
		{"code with entities", "`a &lt; b &amp;&amp; c`", "`a < b && c`"},
		{"code with a pipe stays text", "`a|b`", "\\`a\\|b\\`"},
		{"unclosed code", "a ` b", "a \\` b"},
		{"emphasis of nothing", "*\x01*", `\*\*`},
		{"bold at line start is not a list", "*Done* now", "**Done** now"},
		{"heading", "# title", `\# title`},
		{"quote", "&gt; said", `\> said`},
		{"lists", "- a\n+ b\n* c\n1. d\n2) e\n2024. f", "\\- a\\\n\\+ b\\\n\\* c\\\n1\\. d\\\n2\\) e\\\n2024\\. f"},
		{"number not a list", "3.14 and 10x", "3.14 and 10x"},
		{"setext and fences", "a\n===\n~~~\n---", "a\\\n\\===\\\n\\~~~\\\n\\---"},
		{"indent is not code", "    code", "code"},
		{"blank lines collapse", "\n\na\n\n\n\nb\n\n", "a\n\nb"},
		{"tabs and controls", "a\tb\x00c\r", "a bc"},
		{"stray angle", "a < b", `a \< b`},
		{"raw tag unencoded", "<script>x</script>", "scriptx/script"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Markdown(tt.in, name)); diff != "" {
				t.Errorf("Markdown(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestMarkdownNilResolver(t *testing.T) {
	if got, want := Markdown("<@U1|ada> <@U2>", nil), "@ada @U2"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFold(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"one line", "a b", "a b"},
		{"hard breaks", "a\\\nb\\\nc", "a b c"},
		{"paragraphs", "a\n\nb", "a b"},
		{"escaped backslash before paragraph break", `a \\` + "\n\nb", `a \\ b`},
		{"escaped backslash then hard break", `a \\\` + "\nb", `a \\ b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, fold(tt.in)); diff != "" {
				t.Errorf("fold(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}
