package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestPlaygroundChecksWhoAsks sends the playground's API what its page
// would not: a person acting in a private incident channel they are not
// in, and on a form opened for someone else. The playground answers as
// Slack's client would, without the request reaching Sitrep.
func TestPlaygroundChecksWhoAsks(t *testing.T) {
	pg := startPlayground(t, "-db", filepath.Join(t.TempDir(), "playground.db"))
	const alice, bob = "U0ALICE", "U0BOB"
	general := pg.state(alice, "").channelID("general")
	pg.mustPost("/api/send", map[string]any{"user": alice, "channel": general, "text": "/incident declare"})
	var form string
	eventually(t, "the declare form", func() bool {
		if st := pg.state(alice, general); st.Modal != nil {
			form = st.Modal.ID
		}
		return form != ""
	})
	// Bob cannot close or submit alice's form.
	for _, path := range []string{"/api/close", "/api/submit"} {
		if out := pg.post(path, map[string]any{"user": bob, "view_id": form, "values": map[string]any{}}); out["ok"] != false || !strings.Contains(out["error"].(string), "form is closed") {
			t.Errorf("%s of alice's form by bob answered %v", path, out)
		}
	}
	pg.mustPost("/api/submit", map[string]any{"user": alice, "view_id": form, "values": map[string]any{
		"title":    map[string]any{"title": map[string]any{"type": "plain_text_input", "value": "Payroll data exposed"}},
		"severity": map[string]any{"severity": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "sev1", "text": map[string]any{"type": "plain_text", "text": "sev1"}}}},
		"flags":    map[string]any{"flags": map[string]any{"type": "checkboxes", "selected_options": []any{map[string]any{"value": "private", "text": map[string]any{"type": "plain_text", "text": "Private"}}}}},
	}})
	var priv, cardTS string
	eventually(t, "the private incident's card", func() bool {
		priv = pg.state(alice, "").channelID("inc-1-payroll-data-exposed")
		if priv == "" {
			return false
		}
		for _, m := range pg.state(alice, priv).Channel.Messages {
			if m.Pinned {
				cardTS = m.TS
			}
		}
		return cardTS != ""
	})
	if pg.state(bob, "").channelID("inc-1-payroll-data-exposed") != "" {
		t.Fatal("bob sees the private channel")
	}
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/api/send", map[string]any{"user": bob, "channel": priv, "text": "/incident status identified"}},
		{"/api/send", map[string]any{"user": bob, "channel": priv, "text": "hello"}},
		{"/api/action", map[string]any{"user": bob, "channel": priv, "message_ts": cardTS, "block_id": "card_controls", "action_id": "card_update", "type": "button", "value": "1"}},
		{"/api/react", map[string]any{"user": bob, "channel": priv, "ts": cardTS, "name": "pushpin"}},
		{"/api/shortcut", map[string]any{"user": bob, "channel": priv, "ts": cardTS, "callback_id": "add_to_timeline"}},
	} {
		if out := pg.post(c.path, c.body); out["ok"] != false || !strings.Contains(out["error"].(string), "there is no channel") {
			t.Errorf("%s %v by bob answered %v", c.path, c.body["text"], out)
		}
	}
	for _, m := range pg.state(alice, priv).Channel.Messages {
		if strings.Contains(m.Text, "U0BOB") || strings.Contains(m.Text, "hello") || len(m.Reactions) > 0 {
			t.Errorf("bob reached the private channel: %+v", m)
		}
	}
}
