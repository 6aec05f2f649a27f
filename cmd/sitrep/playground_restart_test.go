package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestPlaygroundSurvivesARestart rehearses an incident in the playground,
// stops it, and starts it again on the same -db: the rehearsal continues
// where it stopped. The channels are still there (a private one for its
// commander), Sitrep keeps working in them, list links to channels that
// exist, and a new incident's channel takes no old channel's ID.
func TestPlaygroundSurvivesARestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rehearsal.db")
	const alice, bob = "U0ALICE", "U0BOB"

	first := startPlayground(t, "-db", db)
	general := first.state(alice, "").channelID("general")
	first.mustPost("/api/send", map[string]any{"user": alice, "channel": general, "text": "/incident declare sev1 Checkout failing"})
	first.mustPost("/api/send", map[string]any{"user": alice, "channel": general, "text": "/incident declare"})
	var form string
	eventually(t, "the declare form", func() bool {
		if st := first.state(alice, general); st.Modal != nil {
			form = st.Modal.ID
		}
		return form != ""
	})
	first.mustPost("/api/submit", map[string]any{"user": alice, "view_id": form, "values": map[string]any{
		"title":    map[string]any{"title": map[string]any{"type": "plain_text_input", "value": "Payroll data exposed"}},
		"severity": map[string]any{"severity": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "sev1", "text": map[string]any{"type": "plain_text", "text": "sev1"}}}},
		"flags":    map[string]any{"flags": map[string]any{"type": "checkboxes", "selected_options": []any{map[string]any{"value": "private", "text": map[string]any{"type": "plain_text", "text": "Private"}}}}},
	}})
	var checkout, payroll string
	eventually(t, "both incidents' channels with their cards", func() bool {
		st := first.state(alice, "")
		checkout, payroll = st.channelID("inc-1-checkout-failing"), st.channelID("inc-2-payroll-data-exposed")
		return checkout != "" && payroll != "" && pinnedCard(first, alice, checkout) != "" && pinnedCard(first, alice, payroll) != ""
	})
	first.mustPost("/api/join", map[string]any{"user": bob, "channel": checkout})
	first.mustPost("/api/send", map[string]any{"user": bob, "channel": checkout, "text": "The payment provider is timing out"})
	card := pinnedCard(first, alice, checkout)
	first.stop()
	if _, err := os.Stat(db + ".slack.json"); err != nil {
		t.Fatalf("the playground's Slack was not kept beside the database: %v", err)
	}

	second := startPlayground(t, "-db", db)
	st := second.state(alice, "")
	if st.channelID("inc-1-checkout-failing") != checkout || st.channelID("inc-2-payroll-data-exposed") != payroll {
		t.Fatalf("after the restart alice sees the channels %+v, want inc-1 as %s and the private inc-2 as %s", st.Channels, checkout, payroll)
	}
	if second.state(bob, "").channelID("inc-2-payroll-data-exposed") != "" {
		t.Error("after the restart bob sees the private incident's channel")
	}
	if got := pinnedCard(second, alice, checkout); got != card {
		t.Errorf("after the restart the pinned card is %q, want %q", got, card)
	}
	if !slices.ContainsFunc(second.state(bob, checkout).Channel.Messages, func(m pgMessage) bool { return strings.Contains(m.Text, "timing out") }) {
		t.Error("bob's message is gone after the restart")
	}

	// Sitrep carries on in the same channels.
	second.mustPost("/api/send", map[string]any{"user": alice, "channel": checkout, "text": "/incident status identified"})
	eventually(t, "the status change on the topic and on the same card", func() bool {
		st := second.state(alice, checkout)
		return strings.Contains(st.Channel.Topic, "identified") && pinnedCard(second, alice, checkout) == card &&
			slices.ContainsFunc(st.Channel.Messages, func(m pgMessage) bool { return m.TS == card && strings.Contains(string(m.Blocks), "identified") })
	})
	second.mustPost("/api/send", map[string]any{"user": alice, "channel": payroll, "text": "/incident note Rotated the exposed keys"})
	eventually(t, "the note in the private channel", func() bool {
		return slices.ContainsFunc(second.state(alice, payroll).Channel.Messages, func(m pgMessage) bool { return strings.Contains(m.Text+string(m.Blocks), "Rotated the exposed keys") })
	})

	// A new incident gets a channel of its own.
	second.mustPost("/api/send", map[string]any{"user": alice, "channel": general, "text": "/incident declare sev2 Search slow"})
	var search string
	eventually(t, "the new incident's channel and card", func() bool {
		search = second.state(alice, "").channelID("inc-3-search-slow")
		return search != "" && pinnedCard(second, alice, search) != ""
	})
	if search == checkout || search == payroll {
		t.Errorf("the new incident's channel took the ID %s of an old one", search)
	}

	// list links to channels that exist.
	second.mustPost("/api/send", map[string]any{"user": alice, "channel": general, "text": "/incident list"})
	var listed string
	eventually(t, "the list", func() bool {
		for _, m := range second.state(alice, general).Channel.Messages {
			if m.Ephemeral && strings.Contains(string(m.Blocks), "Open incidents") {
				listed = string(m.Blocks)
			}
		}
		return listed != ""
	})
	seen := second.state(alice, "")
	links := regexp.MustCompile(`(?:<|\\u003c)#(C[A-Z0-9]+)`).FindAllStringSubmatch(listed, -1)
	if len(links) != 3 {
		t.Errorf("the list links %d channels, want 3:\n%s", len(links), listed)
	}
	for _, l := range links {
		if !slices.ContainsFunc(seen.Channels, func(c pgChannel) bool { return c.ID == l[1] }) {
			t.Errorf("the list links %s, a channel alice cannot find", l[1])
		}
	}
	if strings.Contains(listed, "warning") {
		t.Errorf("the list shows a problem after the restart:\n%s", listed)
	}
	if out := second.out.String(); strings.Contains(out, "belongs to another incident") || strings.Contains(out, "channel_not_found") {
		t.Errorf("Sitrep met an old channel it could not use after the restart:\n%s", out)
	}
}

// pinnedCard returns the ts of the pinned incident card in a channel, or "".
func pinnedCard(pg *playgroundRun, user, channel string) string {
	for _, m := range pg.state(user, channel).Channel.Messages {
		if m.Pinned && strings.Contains(string(m.Blocks), `"card_update"`) {
			return m.TS
		}
	}
	return ""
}

// TestPlaygroundRefusesADatabaseWithoutItsSlack starts the playground on a
// database whose Slack was not kept: its incidents' channels are gone and
// new channels would take their IDs, so it says so instead of starting.
// A kept Slack it cannot read is left for the person to look at.
func TestPlaygroundRefusesADatabaseWithoutItsSlack(t *testing.T) {
	db := filepath.Join(t.TempDir(), "old.db")
	pg := startPlayground(t, "-db", db)
	general := pg.state("U0ALICE", "").channelID("general")
	pg.mustPost("/api/send", map[string]any{"user": "U0ALICE", "channel": general, "text": "/incident declare sev2 Search slow"})
	eventually(t, "the incident channel", func() bool { return pg.state("U0ALICE", "").channelID("inc-1-search-slow") != "" })
	pg.stop()

	run := func() error {
		out := &syncBuffer{}
		p := program{getenv: func(string) string { return "" }, stdout: out, stderr: out}
		return p.run(t.Context(), []string{"playground", "-addr", "127.0.0.1:0", "-db", db})
	}
	if err := os.WriteFile(db+".slack.json", []byte(`{"version":1,"users":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(); err == nil || !strings.Contains(err.Error(), "move the file away") {
		t.Errorf("with a broken Slack file the playground answered %v", err)
	}
	if data, _ := os.ReadFile(db + ".slack.json"); string(data) != `{"version":1,"users":` {
		t.Errorf("the broken Slack file was changed to %.100s", data)
	}
	os.Remove(db + ".slack.json")
	if err := run(); err == nil || !strings.Contains(err.Error(), "give -db a new file") {
		t.Errorf("without its Slack file the playground answered %v", err)
	}
}
