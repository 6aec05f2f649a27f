package bot

import (
	"regexp"
	"strings"
	"testing"
)

// validName is Slack's rule for channel names.
var validName = regexp.MustCompile(`^[a-z0-9_-]{1,80}$`)

func TestChannelName(t *testing.T) {
	tests := []struct {
		name  string
		title string
		want  string
	}{
		{name: "plain", title: "Checkout failing for EU users", want: "inc-42-checkout-failing-for-eu-users"},
		{name: "punctuation collapses", title: "  API: 5xx -- on /v2/orders!!  ", want: "inc-42-api-5xx-on-v2-orders"},
		{name: "accents fold", title: "Zürich Ärger: café crème", want: "inc-42-zurich-arger-cafe-creme"},
		{name: "special letters fold", title: "Straße Øresund łódź", want: "inc-42-strasse-oresund-lodz"},
		{name: "only punctuation", title: "!!! ??? ...", want: "inc-42"},
		{name: "Japanese", title: "決済が失敗しています", want: "inc-42"},
		{name: "Japanese with Latin", title: "決済 API が失敗", want: "inc-42-api"},
		{name: "emoji", title: "🔥🔥🔥", want: "inc-42"},
		{name: "uppercase", title: "DATABASE DOWN", want: "inc-42-database-down"},
		{name: "underscores are punctuation", title: "job_queue stuck", want: "inc-42-job-queue-stuck"},
		{name: "full-width letters fold", title: "ＡＰＩ down", want: "inc-42-api-down"},
		{name: "long title is cut after a word",
			title: "Checkout failing for EU users after the payments provider rotated its certificates without notice and retries piled up",
			want:  "inc-42-checkout-failing-for-eu-users-after-the-payments-provider-rotated-its"},
		{name: "one long word is cut", title: strings.Repeat("x", 200), want: "inc-42-" + strings.Repeat("x", 70)},
		{name: "word ending exactly at the limit", title: strings.Repeat("a", 69) + " bc", want: "inc-42-" + strings.Repeat("a", 69)},
		{name: "two words filling the room", title: strings.Repeat("a", 65) + " bcde fg", want: "inc-42-" + strings.Repeat("a", 65) + "-bcde"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := channelName("inc", 42, tt.title)
			if got != tt.want {
				t.Errorf("channelName(%q) = %q, want %q", tt.title, got, tt.want)
			}
			if !validName.MatchString(got) {
				t.Errorf("%q breaks Slack's channel name rules", got)
			}
		})
	}
}

func TestChannelNameLongTitleLeavesRoomForSuffix(t *testing.T) {
	title := strings.Repeat("very long title ", 20)
	for _, n := range []int64{1, 999999} {
		name := channelName("incident", n, title)
		if len(name) > maxChannelName-suffixRoom {
			t.Errorf("%q is %d long; want at most %d", name, len(name), maxChannelName-suffixRoom)
		}
		if strings.HasSuffix(name, "-") {
			t.Errorf("%q ends in a hyphen", name)
		}
		for _, i := range []int{2, 99} {
			if s := withSuffix(name, i); !validName.MatchString(s) {
				t.Errorf("withSuffix(%q, %d) = %q, not a valid name", name, i, s)
			}
		}
	}
}

func FuzzChannelName(f *testing.F) {
	for _, s := range []string{"Checkout failing", "決済", "🔥", "", "a-b_c", "ÆØÅ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, title string) {
		name := channelName("inc", 7, title)
		if !validName.MatchString(name) || !strings.HasPrefix(name, "inc-7") {
			t.Fatalf("channelName(%q) = %q", title, name)
		}
		if s := withSuffix(name, 12); !validName.MatchString(s) {
			t.Fatalf("withSuffix(%q) = %q", name, s)
		}
		if strings.HasSuffix(name, "-") || len(name) > maxChannelName-suffixRoom {
			t.Fatalf("channelName(%q) = %q: a trailing hyphen, or no room for a suffix", title, name)
		}
	})
}
