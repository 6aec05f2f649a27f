package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// cardBlocksOf returns the pinned card's blocks, decoded.
func cardBlocksOf(t *testing.T, fake *slackfake.Server, channel string) []map[string]any {
	t.Helper()
	ts, _ := card(t, fake, channel)
	m, _ := fake.Message(channel, ts)
	var blocks []map[string]any
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// cardActionIDs lists the action IDs of the card's controls, in order.
func cardActionIDs(t *testing.T, fake *slackfake.Server, channel string) []string {
	t.Helper()
	var ids []string
	for _, b := range cardBlocksOf(t, fake, channel) {
		els, _ := b["elements"].([]any)
		if b["type"] != "actions" {
			continue
		}
		for _, e := range els {
			ids = append(ids, e.(map[string]any)["action_id"].(string))
		}
	}
	return ids
}

// TestCardLifecycle drives an incident from its card alone, under
// changes_by: commander: labelled role pickers, Resolve (refused to
// someone who may not, done for the commander), Reopen, Write postmortem,
// Close; the closed card shows when it closed and links to the
// postmortem; and every control left on older messages (a reminder's Post
// update, a checklist button) says what a closed incident allows instead
// of pointing at reopen.
func TestCardLifecycle(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	cfg := filepath.Join(t.TempDir(), "sitrep.yaml")
	if err := os.WriteFile(cfg, []byte("changes_by: commander\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
	sitrep := startAt(t, fake, testEnv(fake, w.db, "SITREP_CONFIG", cfg), clk)
	sitrep.slash(fake, "U1", w.general, "declare sev2 Checkout failing")
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = fake.ChannelByName("inc-1-checkout-failing"); return ok })
	cardTS, _ := card(t, fake, ch.ID)

	// Each role's picker stands beside the role's name.
	labelled := map[string]bool{}
	for _, b := range cardBlocksOf(t, fake, ch.ID) {
		acc, _ := b["accessory"].(map[string]any)
		text, _ := b["text"].(map[string]any)
		if acc != nil && acc["type"] == "users_select" {
			role := strings.TrimPrefix(acc["action_id"].(string), "card_role:")
			labelled[role] = strings.HasPrefix(text["text"].(string), "*"+strings.ToUpper(role[:1])+role[1:]+"*\n")
		}
	}
	if !labelled["commander"] || !labelled["comms"] || !labelled["scribe"] {
		t.Errorf("role pickers without their role beside them: %v", labelled)
	}

	// "sev 1" means sev1.
	if a, _ := sitrep.slash(fake, "U1", ch.ID, "sev 1"); a.Text != "" {
		t.Fatalf("sev 1 answered %q", a.Text)
	}
	eventually(t, "sev1 in the topic", func() bool { c, _ := fake.Channel(ch.ID); return strings.HasPrefix(c.Topic, "sev1 · ") })

	// A reminder, to click after the close.
	clk.Advance(30 * time.Minute)
	eventually(t, "the reminder", func() bool { return len(prompts(fake, ch.ID, dueText)) == 1 })
	reminder := prompts(fake, ch.ID, dueText)[0]
	var checklistTS, item string
	for _, m := range fake.Messages(ch.ID) {
		if sub := regexp.MustCompile(`"action_id":"checklist_yes:([^"]+)"`).FindStringSubmatch(string(m.Blocks)); sub != nil {
			checklistTS, item = m.TS, sub[1]
		}
	}
	if item == "" {
		t.Fatal("no checklist with a Yes button")
	}

	if got := cardActionIDs(t, fake, ch.ID); !contains(got, "card_resolve") {
		t.Fatalf("the open card has no Resolve: %v", got)
	}
	p, ru := cardAction(t, fake, "U2", ch.ID, cardTS, button("card_resolve", "1"))
	sitrep.interact(p)
	eventually(t, "the refusal", func() bool {
		return strings.Contains(responses(fake, ru), "Only its commander (<@U1>) may resolve incident #1")
	})
	p, _ = cardAction(t, fake, "U1", ch.ID, cardTS, button("card_resolve", "1"))
	sitrep.interact(p)
	// Resolve asks for the summary, as /incident resolve does.
	submitForm(t, sitrep, fake, "U1", "resolve", 1, obj{"summary": obj{"summary": textValue("Rolled back")}})
	eventually(t, "the resolved card", func() bool {
		got := cardActionIDs(t, fake, ch.ID)
		return len(got) == 2 && got[0] == "prompt_postmortem" && got[1] == "card_reopen"
	}, func() string { return strings.Join(cardActionIDs(t, fake, ch.ID), ", ") })

	p, _ = cardAction(t, fake, "U1", ch.ID, cardTS, button("card_reopen", "1"))
	sitrep.interact(p)
	eventually(t, "the reopened card", func() bool { return contains(cardActionIDs(t, fake, ch.ID), "card_resolve") })
	p, _ = cardAction(t, fake, "U1", ch.ID, cardTS, button("card_resolve", "1"))
	sitrep.interact(p)
	submitForm(t, sitrep, fake, "U1", "resolve", 2, obj{"summary": obj{"summary": textValue("Rolled back again")}})
	eventually(t, "resolved again", func() bool { return contains(cardActionIDs(t, fake, ch.ID), "card_reopen") })
	if a, _ := sitrep.slash(fake, "U1", ch.ID, "update"); !strings.Contains(a.Text, "is resolved; `/incident reopen` it to post updates") {
		t.Errorf("update without text on a resolved incident answered %q", a.Text)
	}

	p, _ = cardAction(t, fake, "U1", ch.ID, cardTS, button("prompt_postmortem", "1"))
	sitrep.interact(p)
	submitForm(t, sitrep, fake, "U1", "postmortem", 1, obj{})
	eventually(t, "the postmortem", func() bool { return len(fake.Files(ch.ID)) == 1 })
	link := "<https://fake.slack.com/files/"
	var c string
	eventually(t, "the card with the postmortem and a Close button", func() bool {
		_, c = card(t, fake, ch.ID)
		return strings.Contains(c, "*Postmortem*\n"+link) && contains(cardActionIDs(t, fake, ch.ID), "card_close")
	}, func() string { return c })

	p, _ = cardAction(t, fake, "U1", ch.ID, cardTS, button("card_close", "1"))
	sitrep.interact(p)
	eventually(t, "the closed card", func() bool {
		_, c = card(t, fake, ch.ID)
		return strings.Contains(c, "*Closed*\n<!date^") && strings.Contains(c, "*Postmortem*\n"+link) && len(cardActionIDs(t, fake, ch.ID)) == 0
	}, func() string { return c })
	if strings.Contains(c, "Assign") {
		t.Errorf("the closed card still offers role pickers:\n%s", c)
	}

	// Controls left on older messages answer with what is possible.
	for _, click := range []struct {
		name, ts string
		action   obj
	}{
		{"the reminder's Post update", reminder.TS, button("card_update", "1")},
		{"a checklist answer", checklistTS, button("checklist_yes:"+item, item)},
		{"the card's Resolve, from a stale client", cardTS, button("card_resolve", "1")},
	} {
		p, ru := cardAction(t, fake, "U1", ch.ID, click.ts, click.action)
		sitrep.interact(p)
		var got string
		eventually(t, "the answer to "+click.name, func() bool { got = responses(fake, ru); return got != "" })
		for _, want := range []string{"Incident #1 is closed, so its record is final", "cannot be reopened", "Its postmortem: " + link, "`/incident declare`"} {
			if !strings.Contains(got, want) {
				t.Errorf("%s answered without %q:\n%s", click.name, want, got)
			}
		}
		if strings.Contains(got, "reopen` it") {
			t.Errorf("%s points at reopen on a closed incident:\n%s", click.name, got)
		}
	}
	if a, _ := sitrep.slash(fake, "U1", ch.ID, "update"); !strings.Contains(a.Text, "its record is final") {
		t.Errorf("update without text on a closed incident answered %q", a.Text)
	}
}
