package bot

import "testing"

func TestPlainAndDefuse(t *testing.T) {
	tests := []struct {
		in, plain, defused string
	}{
		{"DB down", "DB down", "DB down"},
		{"R&amp;D &lt;3 &gt; x", "R&D <3 > x", "R&amp;D &lt;3 &gt; x"},
		{"ask <@U2|bob> and <@U3>", "ask @bob and @U3", "ask <@U2|bob> and <@U3>"},
		{"see <#C1|ops>", "see #ops", "see <#C1|ops>"},
		{"<https://status.example.com|status page> and <https://x.example>", "status page and https://x.example", "<https://status.example.com|status page> and <https://x.example>"},
		{"<!channel> <!here|here> <!subteam^S1|@sre>", "@channel here @sre", "&lt;!channel> &lt;!here|here> &lt;!subteam^S1|@sre>"},
		{"&amp;lt; stays literal", "&lt; stays literal", "&amp;lt; stays literal"},
	}
	for _, tt := range tests {
		if got := plain(tt.in); got != tt.plain {
			t.Errorf("plain(%q) = %q, want %q", tt.in, got, tt.plain)
		}
		if got := defuse(tt.in); got != tt.defused {
			t.Errorf("defuse(%q) = %q, want %q", tt.in, got, tt.defused)
		}
	}
}
