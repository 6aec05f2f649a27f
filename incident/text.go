package incident

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Every text a person supplies (titles, notes, updates, summaries, reasons,
// follow-ups, affected services, messages put on the timeline) passes
// through this file before it is recorded, whichever surface it came from,
// so that one set of rules decides what may reach a channel topic, a
// message or the postmortem.

// cleanTitle trims the title, folds runs of white space (newlines included)
// into single spaces, and checks it: valid text, no control characters,
// not empty, not only punctuation, and not too long.
func cleanTitle(title string) (string, error) {
	if err := checkChars("title", title); err != nil {
		return "", err
	}
	title = strings.Join(strings.Fields(title), " ")
	if err := checkControls("title", title); err != nil {
		return "", err
	}
	switch n := textLen(title); {
	case n == 0:
		e := fieldErrorf("title", "An incident needs a title, such as {cmd}.")
		e.Hint = "declare sev1 Checkout failing"
		return "", e
	case n > MaxTitle:
		return "", fieldErrorf("title", "The title is %d characters long; keep it to %d and put details in a note.", n, MaxTitle)
	case !strings.ContainsFunc(title, func(r rune) bool { return !unicode.IsPunct(r) && !unicode.IsSpace(r) }):
		return "", fieldErrorf("title", "The title %q is only punctuation; say what is broken, such as \"Checkout failing\".", title)
	}
	return title, nil
}

// cleanText trims a free text and checks it: valid text, no control
// characters but newlines and tabs, and not too long. Line endings are
// brought to "\n" first, so text pasted from elsewhere is not refused for
// its carriage returns.
func cleanText(what, text string, optional bool) (string, error) {
	if err := checkChars(what, text); err != nil {
		return "", err
	}
	text = strings.TrimSpace(newlines.Replace(text))
	if err := checkControls(what, text); err != nil {
		return "", err
	}
	switch n := textLen(text); {
	case n == 0 && !optional:
		return "", fieldErrorf(what, "The %s is empty; say what to record.", what)
	case n > MaxText:
		return "", fieldErrorf(what, "The %s is %d characters long; keep it to %d, or split it.", what, n, MaxText)
	}
	return text, nil
}

// maxListItem bounds one item of a list, such as an affected service.
const maxListItem = 100

// cleanList trims the items of a list, such as the affected services,
// drops empty ones and repeats, and checks each as a one-line text.
func cleanList(what string, items []string) ([]string, error) {
	var out []string
	for _, it := range items {
		if err := checkChars(what, it); err != nil {
			return nil, err
		}
		it = strings.Join(strings.Fields(it), " ")
		if err := checkControls(what, it); err != nil {
			return nil, err
		}
		if n := textLen(it); n > maxListItem {
			return nil, fieldErrorf(what, "%q in the %s is %d characters long; keep each to %d.", string([]rune(it)[:20])+"…", what, n, maxListItem)
		}
		if it != "" && !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	return out, nil
}

// newlines brings Windows and old Mac line endings to "\n".
var newlines = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// checkChars refuses text that is not valid UTF-8. Such bytes cannot be
// shown: Slack replaces them in some places and not in others, and the
// record would not say what the person meant.
func checkChars(what, text string) error {
	if !utf8.ValidString(text) {
		return fieldErrorf(what, "The %s has bytes that are not text (invalid UTF-8). Type it again, or paste it as plain text.", what)
	}
	return nil
}

// checkControls refuses control characters other than newline and tab:
// NUL, escape sequences, backspaces and the like are never meant, and
// would reach channel topics and messages as they are. Text must have
// passed checkChars.
func checkControls(what, text string) error {
	i := strings.IndexFunc(text, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' })
	if i < 0 {
		return nil
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return fieldErrorf(what, "The %s has a control character (%s) in it, at character %d. Type it again without it, or paste it as plain text.",
		what, describeControl(r), utf8.RuneCountInString(text[:i])+1)
}

// describeControl names a control character the way people look it up.
func describeControl(r rune) string {
	switch r {
	case 0:
		return "NUL, U+0000"
	case '\n':
		return "a line break"
	case 0x1b:
		return "escape, U+001B"
	}
	return fmt.Sprintf("U+%04X", r)
}

// Recorded text is kept in chat markup, as people wrote it in Slack: &, <
// and > are escaped as &amp;, &lt; and &gt;, so that a mention (<@U1>) or
// a link (<https://x|x>) stays apart from angle brackets someone typed.
// Decoding on the way in would lose that difference for good, so each
// surface converts on the way out instead (Slack shows it as it is; the
// postmortem and other surfaces convert it, see internal/slacktext).
// Lengths are what a person typed: an entity counts as one character, so
// that a title with "&" in it is not refused for a length it does not
// have.
var entities = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

func textLen(s string) int { return utf8.RuneCountInString(entities.Replace(s)) }
