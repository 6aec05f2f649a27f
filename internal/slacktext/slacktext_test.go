package slacktext

import "testing"

func TestEscapeUnescape(t *testing.T) {
	for _, tc := range []struct{ typed, stored string }{
		{"plain words", "plain words"},
		{"p99 < 200ms & rising > 5%", "p99 &lt; 200ms &amp; rising &gt; 5%"},
		{"<@U0BOB> typed by hand", "&lt;@U0BOB&gt; typed by hand"},
		{"an entity typed: &lt;", "an entity typed: &amp;lt;"},
		{"AT&T", "AT&amp;T"},
	} {
		if got := Escape(tc.typed); got != tc.stored {
			t.Errorf("Escape(%q) = %q, want %q", tc.typed, got, tc.stored)
		}
		if got := Unescape(tc.stored); got != tc.typed {
			t.Errorf("Unescape(%q) = %q, want %q", tc.stored, got, tc.typed)
		}
	}
	// Only Slack's three entities are decoded.
	if got := Unescape("&quot;&#60;&nbsp;"); got != "&quot;&#60;&nbsp;" {
		t.Errorf("Unescape decoded an entity Slack does not use: %q", got)
	}
}
