package bot

import (
	"fmt"
	"testing"

	"github.com/sitrep-dev/sitrep/incident"
)

// TestErrorText: the bot names people as mentions, the first five of them,
// and actions as the full command with the configured name.
func TestErrorText(t *testing.T) {
	b := &Bot{opts: Options{CommandName: "/inc"}}
	var admins []string
	for i := range 7 {
		admins = append(admins, fmt.Sprintf("UA%d", i))
	}
	e := &incident.Error{Code: incident.EFORBIDDEN, Message: "Only its commander ({commander}) or an admin ({admins}) may close incident #1. Hand over with {cmd}.",
		People: map[string][]string{"commander": {"U1"}, "admins": admins}, Hint: "lead @you"}
	want := "Only its commander (<@U1>) or an admin (<@UA0>, <@UA1>, <@UA2>, <@UA3>, <@UA4> and 2 more) may close incident #1. Hand over with `/inc lead @you`."
	if got := b.errorText(fmt.Errorf("close: %w", e)); got != want {
		t.Errorf("errorText =\n%s\nwant\n%s", got, want)
	}
	if got := b.errorText(fmt.Errorf("disk on fire")); got != incident.ErrorMessage(fmt.Errorf("x")) {
		t.Errorf("an internal error is worded %q; it must not show its text", got)
	}
}
