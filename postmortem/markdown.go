package postmortem

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sitrep-dev/sitrep/internal/slacktext"
)

// Markdown converts text in Slack's mrkdwn form into Markdown that cannot
// change the structure of the document it is placed in.
//
// Slack markup becomes Markdown: *bold* becomes **bold**, _italic_
// *italic*, `code` stays code; <@U1> and <@U1|label> become @name (name
// from the resolver, else the label, else the ID); <https://x|label> becomes
// [label](https://x); <https://x> an autolink; <#C1|name> #name; <!here>
// @here. Everything else is text: Slack's entities are decoded and the
// characters that Markdown would read as markup are escaped with a
// backslash, so that a person's words render as they wrote them and raw
// HTML is never passed through. Each line is trimmed and escaped at its
// start so that it cannot open a heading, quote, list, fence or table; runs
// of blank lines become one paragraph break. name may be nil.
func Markdown(s string, name func(userID string) string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	var line strings.Builder
	wrote, blank := false, false
	for raw := range strings.SplitSeq(s, "\n") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			blank = wrote
			continue
		}
		line.Reset()
		convertLine(&line, raw, name)
		l := strings.TrimSpace(line.String())
		if l == "" {
			continue
		}
		switch {
		case blank:
			b.WriteString("\n\n")
		case wrote:
			// A line break in Slack is a line break in the document: a
			// backslash hard break, which unlike two trailing spaces is
			// visible and survives editors that trim lines.
			b.WriteString("\\\n")
		}
		blank = false
		writeLineStart(&b, l)
		wrote = true
	}
	return b.String()
}

// writeLineStart writes l, escaping a block marker at its start. The inline
// escapes already cover *, _, `, <, [ and |; what is left are the markers
// that only mean something at the start of a line.
func writeLineStart(b *strings.Builder, l string) {
	switch l[0] {
	case '#', '>', '-', '+', '=', '~':
		b.WriteByte('\\')
		b.WriteString(l)
		return
	}
	// An ordered list marker: up to nine digits, then . or ), then a space
	// or the end of the line.
	i := 0
	for i < len(l) && i < 10 && l[i] >= '0' && l[i] <= '9' {
		i++
	}
	if i > 0 && i < 10 && i < len(l) && (l[i] == '.' || l[i] == ')') && (i+1 == len(l) || l[i+1] == ' ') {
		b.WriteString(l[:i])
		b.WriteByte('\\')
		b.WriteString(l[i:])
		return
	}
	b.WriteString(l)
}

// convertLine converts one line of Slack text: its <…> tokens, `code`,
// *bold* and _italic_ into Markdown, and the text between them into
// escaped Markdown text.
func convertLine(b *strings.Builder, s string, name func(string) string) {
	text := 0 // start of the text not yet written
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				// Not a Slack token: Slack stores a typed < as &lt;, so
				// this came from elsewhere. Keep it as text.
				i = len(s)
				continue
			}
			writeText(b, s[text:i])
			writeToken(b, s[i+1:i+j], name)
			i += j + 1
			text = i
		case '`':
			j := codeEnd(s, i)
			if j < 0 {
				i++
				continue
			}
			writeText(b, s[text:i])
			writeCode(b, s[i+1:j])
			i = j + 1
			text = i
		case '*', '_':
			j := emphasisEnd(s, i)
			if j < 0 {
				i++
				continue
			}
			var inner strings.Builder
			convertLine(&inner, s[i+1:j], name)
			if strings.TrimSpace(inner.String()) == "" {
				// Nothing to emphasise (control characters only): the
				// markers alone would make a rule or a list.
				i++
				continue
			}
			writeText(b, s[text:i])
			// Slack's *bold* is Markdown's **strong**, its _italic_
			// Markdown's *emphasis*.
			m := "**"
			if c == '_' {
				m = "*"
			}
			b.WriteString(m)
			b.WriteString(inner.String())
			b.WriteString(m)
			i = j + 1
			text = i
		default:
			i++
		}
	}
	writeText(b, s[text:])
}

// codeEnd returns the index of the backtick that closes the code span
// opened at s[i], or -1 when there is none on the line or it would be
// empty.
func codeEnd(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '`')
	if j <= 0 {
		return -1
	}
	return i + 1 + j
}

// writeCode writes the text of a code span. A pipe would end a table cell
// even inside code, and a span of spaces reads as nothing: those are
// written as text, backticks and all, which shows what was typed.
func writeCode(b *strings.Builder, code string) {
	code = slacktext.Unescape(code)
	if strings.ContainsAny(code, "|") || strings.TrimSpace(code) == "" {
		escapeText(b, "`"+code+"`")
		return
	}
	b.WriteByte('`')
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c == '\t':
			b.WriteByte(' ')
		case c < ' ' || c == 0x7f:
			// control characters have no place in a document
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('`')
}

// emphasisEnd returns the index of the marker that closes the *bold* or
// _italic_ opened at s[i], as Slack reads them: the opening marker starts
// a word and is followed by text, the closing one ends a word and follows
// text; markers inside <…> tokens and `code` do not count. -1 when s[i]
// opens nothing.
func emphasisEnd(s string, i int) int {
	c := s[i]
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); isAlnum(r) || r == rune(c) {
			return -1
		}
	}
	if i+1 >= len(s) || s[i+1] == ' ' || s[i+1] == '\t' || s[i+1] == c {
		return -1
	}
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '<':
			if k := strings.IndexByte(s[j:], '>'); k > 0 {
				j += k
			}
		case '`':
			if k := codeEnd(s, j); k > 0 {
				j = k
			}
		case c:
			if s[j-1] == ' ' || s[j-1] == '\t' || j == i+1 {
				continue
			}
			if r, _ := utf8.DecodeRuneInString(s[j+1:]); j+1 < len(s) && (isAlnum(r) || r == rune(c)) {
				continue
			}
			return j
		}
	}
	return -1
}

// writeToken writes the Markdown for the inside of one Slack <…> token.
func writeToken(b *strings.Builder, tok string, name func(string) string) {
	target, label, _ := strings.Cut(tok, "|")
	label = strings.TrimSpace(slacktext.Unescape(label))
	switch {
	case strings.HasPrefix(target, "@"):
		id := target[1:]
		who := ""
		if name != nil {
			who = strings.TrimSpace(name(id))
		}
		if who == "" {
			who = label
		}
		if who == "" {
			who = id
		}
		b.WriteByte('@')
		writeText(b, strings.TrimPrefix(who, "@"))
	case strings.HasPrefix(target, "#"):
		if label == "" {
			label = target[1:]
		}
		b.WriteByte('#')
		writeText(b, label)
	case strings.HasPrefix(target, "!"):
		// Special mentions (<!here>, <!subteam^S1|@team>) and dates
		// (<!date^…|fallback>): the label is what Slack would show.
		if label != "" {
			writeText(b, label)
			return
		}
		cmd, arg, _ := strings.Cut(target[1:], "^")
		if cmd == "subteam" && arg != "" {
			cmd = arg
		}
		b.WriteByte('@')
		writeText(b, cmd)
	default:
		url := slacktext.Unescape(target)
		if !safeURL(url) {
			// Not a link Slack would make; show it as text.
			if label == "" {
				label = url
			}
			writeText(b, label)
			return
		}
		if label == "" {
			writeAutolink(b, url)
			return
		}
		b.WriteByte('[')
		writeText(b, label)
		b.WriteString("](")
		writeURL(b, url)
		b.WriteByte(')')
	}
}

// safeURL reports whether u is a link worth making: only web and mail
// links, so that nothing like javascript: reaches a reader's browser.
func safeURL(u string) bool {
	l := strings.ToLower(u)
	return (strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "mailto:")) &&
		len(u) > len("mailto:")
}

// writeURL writes u percent-encoding the characters that would end a link
// destination or autolink early, or split a table cell.
func writeURL(b *strings.Builder, u string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '(' || c == ')' || c == '|' || c == '\\' || c == '`':
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
}

func writeAutolink(b *strings.Builder, u string) {
	b.WriteByte('<')
	writeURL(b, u)
	b.WriteByte('>')
}

// writeText decodes Slack's entities in s and writes it escaped as
// Markdown text. Bare web addresses become autolinks, as Slack shows them.
func writeText(b *strings.Builder, s string) {
	s = slacktext.Unescape(s)
	for s != "" {
		i := bareURL(s)
		if i < 0 {
			escapeText(b, s)
			return
		}
		escapeText(b, s[:i])
		n := urlEnd(s[i:])
		writeAutolink(b, s[i:i+n])
		s = s[i+n:]
	}
}

// bareURL returns the index of the first http:// or https:// that starts a
// word in s, or -1.
func bareURL(s string) int {
	off := 0
	for {
		i := strings.Index(s[off:], "http")
		if i < 0 {
			return -1
		}
		i += off
		rest := s[i:]
		if (strings.HasPrefix(rest, "https://") && len(rest) > 8) || (strings.HasPrefix(rest, "http://") && len(rest) > 7) {
			if r, _ := utf8.DecodeLastRuneInString(s[:i]); i == 0 || !isAlnum(r) {
				return i
			}
		}
		off = i + 4
	}
}

// urlEnd returns the length of the URL at the start of s: up to a space or
// angle bracket, less trailing punctuation that more likely ends the
// sentence (as GitHub's autolinking does).
func urlEnd(s string) int {
	n := strings.IndexAny(s, " \t<>")
	if n < 0 {
		n = len(s)
	}
	for n > 0 {
		c := s[n-1]
		// A closing parenthesis belongs to the URL when it closes one
		// the URL opened, as in a Wikipedia link.
		if c == ')' && strings.Count(s[:n], "(") >= strings.Count(s[:n], ")") {
			break
		}
		if strings.IndexByte(".,:;!?'\")*_~", c) < 0 {
			break
		}
		n--
	}
	return n
}

// escapeText writes plain text with every character that could start
// Markdown markup escaped. Underscores inside words stay as they are,
// because CommonMark never reads them as emphasis and snake_case names
// are common in incident text.
func escapeText(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '`', '*', '[', ']', '<', '|':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '_':
			before, _ := utf8.DecodeLastRuneInString(s[:i])
			after, _ := utf8.DecodeRuneInString(s[i+1:])
			if i > 0 && i+1 < len(s) && isAlnum(before) && isAlnum(after) {
				b.WriteByte(c)
			} else {
				b.WriteString(`\_`)
			}
		case '&':
			// Only an & that would read as an entity reference
			// (&lt;, &#60;) needs escaping; AT&T does not.
			if entityAt(s[i+1:]) {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		case '\t', '\r', '\v', '\f':
			b.WriteByte(' ')
		default:
			if c < ' ' || c == 0x7f {
				continue // control characters have no place in a document
			}
			b.WriteByte(c)
		}
	}
}

// entityAt reports whether s (what follows an &) looks like the rest of an
// HTML entity reference.
func entityAt(s string) bool {
	s = strings.TrimPrefix(s, "#")
	n := 0
	for n < len(s) && n < 32 && (s[n] >= 'a' && s[n] <= 'z' || s[n] >= 'A' && s[n] <= 'Z' || s[n] >= '0' && s[n] <= '9') {
		n++
	}
	return n > 0 && n < len(s) && s[n] == ';'
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// fold puts a Markdown block on one line, for a table cell or a list item,
// where a line break would end the cell or item. Markdown's escaping has
// already made every line safe mid-line as well as at its start; only the
// hard breaks Markdown added go.
func fold(s string) string {
	if strings.IndexByte(s, '\n') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for l := range strings.SplitSeq(s, "\n") {
		if l == "" {
			continue
		}
		// A hard break is a final backslash that is not itself escaped:
		// an odd run of them.
		n := len(l) - len(strings.TrimRight(l, `\`))
		if n%2 == 1 {
			l = l[:len(l)-1]
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(l)
	}
	return b.String()
}
