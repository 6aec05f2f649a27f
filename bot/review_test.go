package bot

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
)

// TestRecordedWording: what is recorded for the postmortem is said in the
// channel as it is recorded: set, added to, or cleared.
func TestRecordedWording(t *testing.T) {
	cfg := incident.DefaultConfig()
	inc := &incident.Incident{Number: 7}
	tests := []struct {
		ev   incident.Event
		want string
	}{
		{incident.Event{Kind: "root_cause", Actor: "U1", Text: "An expired *cert*"}, ":mag: <@U1> recorded the root cause:\nAn expired *cert*"},
		{incident.Event{Kind: "impact", Actor: "U1"}, ":busts_in_silhouette: <@U1> cleared the impact."},
		{incident.Event{Kind: "learnings", Actor: "U2", Text: "Alert <!here> on expiry", Data: map[string]string{"added": "true"}}, ":bulb: <@U2> added to the learnings: Alert &lt;!here> on expiry"},
		{incident.Event{Kind: "services", Actor: "U2", Text: "checkout, api"}, ":gear: <@U2> recorded the affected services:\ncheckout, api"},
		{incident.Event{Kind: "went_well", Actor: "U2", Text: "Paging"}, ""}, // in the postmortem, not the channel
	}
	for _, tt := range tests {
		if got := channelMessage(inc, tt.ev, cfg); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.ev.Kind, got, tt.want)
		}
	}
}

// TestToPlain: a form is prefilled with a stored text as a person would
// type it.
func TestToPlain(t *testing.T) {
	b := &Bot{names: newNameCache(nil, nil)}
	b.names.names["U2"] = cachedName{name: "Bob Brown"}
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"ask <@U1|ann> and <@U2> or <@U3>", "ask @ann and @Bob Brown or <@U3>"},
		{"see <https://x.example/a?b=1&amp;c=2|the graph> and <https://y.example>", "see the graph (https://x.example/a?b=1&c=2) and https://y.example"},
		{"in <#C1|ops> <!here> a &lt; b &amp;&amp; c", "in #ops @here a < b && c"},
		{"*bold* stays", "*bold* stays"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, b.toPlain(tt.in, 100)); diff != "" {
			t.Errorf("toPlain(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	if got := b.toPlain("ééé", 2); got != "éé" {
		t.Errorf("toPlain cut to 2 = %q", got)
	}
}
