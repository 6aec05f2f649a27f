package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// TestChangesByCommander runs Sitrep with changes_by: commander and one
// admin. Someone else is refused a severity change by command and by the
// card's select (which is put back), and the refusal names who may; the
// admin may resolve; once command is handed over, the new commander may
// steer and the old one may not.
func TestChangesByCommander(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	fake.AddUser(slackfake.User{ID: "U0ADMIN1", Name: "dee"})
	cfg := filepath.Join(t.TempDir(), "sitrep.yaml")
	if err := os.WriteFile(cfg, []byte("changes_by: commander\nadmins: [U0ADMIN1]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sitrep := start(t, fake, testEnv(fake, w.db, "SITREP_ANNOUNCE_CHANNEL", w.announce, "SITREP_CONFIG", cfg))
	sitrep.slash(fake, "U1", w.general, "declare sev1 Checkout failing")
	eventually(t, "the channel", func() bool { _, ok := fake.ChannelByName("inc-1-checkout-failing"); return ok })
	ch := mustChannel(t, fake, "inc-1-checkout-failing").ID
	cardTS, _ := card(t, fake, ch)
	const refusal = "Only its commander (<@U1>) or an admin (<@U0ADMIN1>) may change the severity of incident #1."

	a, _ := sitrep.slash(fake, "U2", ch, "sev sev0")
	if !strings.Contains(a.Text, refusal) {
		t.Errorf("/incident sev by someone else answered %q, want %q", a.Text, refusal)
	}
	updates := cardUpdates(fake, cardTS)
	p, ru := cardAction(t, fake, "U2", ch, cardTS, staticSelect("card_severity", "sev0"))
	if a := sitrep.interact(p); a.Status != http.StatusOK {
		t.Fatalf("severity select answered %+v", a)
	}
	eventually(t, "the refusal of the select", func() bool { return strings.Contains(responses(fake, ru), refusal) })
	eventually(t, "the select put back", func() bool { return cardUpdates(fake, cardTS) > updates })
	if _, text := card(t, fake, ch); !strings.Contains(text, "*Severity*\nsev1 ·") {
		t.Errorf("the card changed after refusals:\n%s", text)
	}

	// The commander hands over; the old commander may no longer steer.
	if a, _ := sitrep.slash(fake, "U1", ch, "lead <@U2|bob>"); strings.Contains(a.Text, "Only") {
		t.Fatalf("the commander could not hand over: %q", a.Text)
	}
	eventually(t, "the handover", func() bool { return contains(texts(fake, ch), "<@U2> is now *commander*") })
	if a, _ := sitrep.slash(fake, "U2", ch, "sev sev0"); strings.Contains(a.Text, "Only") {
		t.Fatalf("the new commander was refused: %q", a.Text)
	}
	eventually(t, "the raise", func() bool { return contains(texts(fake, ch), "raised the severity to *sev0*") })
	if a, _ := sitrep.slash(fake, "U1", ch, "resolve"); !strings.Contains(a.Text, "Only its commander (<@U2>) or an admin (<@U0ADMIN1>) may resolve incident #1.") {
		t.Errorf("the old commander's resolve answered %q", a.Text)
	}
	if a, _ := sitrep.slash(fake, "U0ADMIN1", ch, "resolve Failed over"); strings.Contains(a.Text, "Only") {
		t.Fatalf("the admin was refused: %q", a.Text)
	}
	eventually(t, "the resolution", func() bool { return contains(texts(fake, ch), "resolved incident #1") })
	// Notes, updates and status changes stay open to everyone.
	if a, _ := sitrep.slash(fake, "U1", ch, "note Cause found in the deploy log"); strings.Contains(a.Text, "Only") {
		t.Errorf("a note was refused: %q", a.Text)
	}
}

// cardUpdates counts the chat.update calls on the message at ts.
func cardUpdates(fake *slackfake.Server, ts string) int {
	n := 0
	for _, c := range fake.Calls("chat.update") {
		if c.Params["ts"] == ts {
			n++
		}
	}
	return n
}
