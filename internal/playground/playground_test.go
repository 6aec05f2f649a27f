package playground

import (
	"testing"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

func TestEscapeTyped(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	Seed(fake)
	general, _ := fake.ChannelByName("general")
	for _, tc := range []struct{ typed, want string }{
		{"declare sev1 Checkout failing", "declare sev1 Checkout failing"},
		{"lead @bob", "lead <@U0BOB|bob>"},
		{"role comms @carol.", "role comms <@U0CAROL|carol>."},
		{"followup Add alerts (@dan)", "followup Add alerts (<@U0DAN|dan>)"},
		{"note @nobody and bob@example.com", "note @nobody and bob@example.com"},
		{"note see #general", "note see <#" + general.ID + "|general>"},
		{"note #nochannel", "note #nochannel"},
		{"note p99 < 200ms & rising > 5%", "note p99 &lt; 200ms &amp; rising &gt; 5%"},
		{"note <@U0BOB> typed by hand", "note &lt;@U0BOB&gt; typed by hand"},
		{"@here checkout is down", "<!here> checkout is down"},
	} {
		if got := escapeTyped(tc.typed, fake); got != tc.want {
			t.Errorf("escapeTyped(%q) = %q, want %q", tc.typed, got, tc.want)
		}
	}
}

func TestCompareTS(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1700000000.000100", "1700000000.000200", -1},
		{"1700000001.000000", "1700000000.999999", 1},
		{"999999999.000000", "1700000000.000000", -1},
		{"1700000000.000100", "1700000000.000100", 0},
	} {
		got := compareTS(tc.a, tc.b)
		if (got < 0) != (tc.want < 0) || (got > 0) != (tc.want > 0) {
			t.Errorf("compareTS(%s, %s) = %d, want sign %d", tc.a, tc.b, got, tc.want)
		}
	}
}
