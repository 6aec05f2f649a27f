package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// playgroundRun is one run of `sitrep playground`, in-process.
type playgroundRun struct {
	t      *testing.T
	base   string // the page, "http://127.0.0.1:port"
	out    *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startPlayground runs `sitrep playground` on a free port and returns once
// the page is served.
func startPlayground(t *testing.T, args ...string) *playgroundRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	r := &playgroundRun{t: t, out: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	p := program{getenv: func(string) string { return "" }, stdout: r.out, stderr: r.out, listening: func(a net.Addr) { addr <- a }}
	go func() { r.done <- p.run(ctx, append([]string{"playground", "-addr", "127.0.0.1:0"}, args...)) }()
	select {
	case a := <-addr:
		r.base = "http://" + a.String()
	case err := <-r.done:
		t.Fatalf("the playground exited at start: %v\n%s", err, r.out)
	case <-time.After(20 * time.Second):
		t.Fatalf("the playground did not start within 20s:\n%s", r.out)
	}
	t.Cleanup(r.stop)
	return r
}

func (r *playgroundRun) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("the playground exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		r.t.Error("the playground did not stop within 20s")
	}
}

// pgState is the part of /api/state the tests read.
type pgState struct {
	Version  string      `json:"version"`
	Channels []pgChannel `json:"channels"`
	Channel  *struct {
		ID, Name, Topic string
		Messages        []pgMessage `json:"messages"`
	} `json:"channel"`
	Modal *struct {
		ID, Title string
		Blocks    json.RawMessage
	} `json:"modal"`
}

type pgChannel struct {
	ID, Name        string
	Private, Member bool
}

type pgMessage struct {
	TS        string          `json:"ts"`
	UserName  string          `json:"user_name"`
	Bot       bool            `json:"bot"`
	Text      string          `json:"text"`
	Blocks    json.RawMessage `json:"blocks"`
	Pinned    bool            `json:"pinned"`
	Ephemeral bool            `json:"ephemeral"`
	Reactions []struct {
		Name  string
		Count int
	} `json:"reactions"`
}

func (r *playgroundRun) state(user, channel string) pgState {
	r.t.Helper()
	resp, err := http.Get(r.base + "/api/state?user=" + user + "&channel=" + channel)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st pgState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		r.t.Fatal(err)
	}
	return st
}

// channelID finds a channel the user sees by name.
func (st pgState) channelID(name string) string {
	for _, c := range st.Channels {
		if c.Name == name {
			return c.ID
		}
	}
	return ""
}

// post calls a playground API endpoint and returns its answer.
func (r *playgroundRun) post(path string, body map[string]any) map[string]any {
	r.t.Helper()
	data, _ := json.Marshal(body)
	resp, err := http.Post(r.base+path, "application/json", bytes.NewReader(data))
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		r.t.Fatalf("%s answered no JSON: %v", path, err)
	}
	return out
}

// mustPost is post that fails the test unless the answer is ok.
func (r *playgroundRun) mustPost(path string, body map[string]any) {
	r.t.Helper()
	if out := r.post(path, body); out["ok"] != true {
		r.t.Fatalf("%s %v answered %v\nplayground output:\n%s", path, body, out, r.out)
	}
}

// TestPlaygroundAPI walks an incident through the playground's API, as the
// page does: the declaration typed in #general, a checklist answer, the
// update form from the card, a reaction and a plain message, with the
// demo people switching; and checks what each of them is shown.
func TestPlaygroundAPI(t *testing.T) {
	pg := startPlayground(t, "-db", filepath.Join(t.TempDir(), "playground.db"))
	if !strings.Contains(pg.out.String(), "Sitrep playground: open http://127.0.0.1:") {
		t.Errorf("the playground does not say where to go:\n%s", pg.out)
	}
	resp, err := http.Get(pg.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "<html") {
		t.Fatalf("the page: %s\n%.300s", resp.Status, page)
	}

	const alice, bob = "U0ALICE", "U0BOB"
	st := pg.state(alice, "")
	general := st.channelID("general")
	if general == "" || st.channelID("incidents") == "" || st.channelID("random") == "" {
		t.Fatalf("the demo workspace's channels: %+v", st.Channels)
	}

	if out := pg.post("/api/send", map[string]any{"user": alice, "channel": general, "text": "/deploy now"}); out["ok"] != true {
		t.Fatalf("an unknown command: %v", out)
	}
	pg.mustPost("/api/send", map[string]any{"user": alice, "channel": general, "text": "/incident declare sev1 Checkout failing"})
	var inc string
	eventually(t, "the incident channel in the list", func() bool { inc = pg.state(alice, "").channelID("inc-1-checkout-failing"); return inc != "" })
	st = pg.state(alice, general)
	var said []string
	for _, m := range st.Channel.Messages {
		if m.Ephemeral {
			said = append(said, m.Text)
		}
	}
	if !contains(said, "`/deploy` is not a valid command") || !contains(said, "Declared incident #1") {
		t.Errorf("alice was told %q", said)
	}
	if other := pg.state(bob, general); len(other.Channel.Messages) != len(st.Channel.Messages)-len(said) {
		t.Errorf("bob sees %d messages in #general, alice %d of which %d only for her", len(other.Channel.Messages), len(st.Channel.Messages), len(said))
	}

	// The card and the checklist, as alice sees them in the incident channel.
	var card, checklist string
	eventually(t, "the card and the checklist", func() bool {
		st = pg.state(alice, inc)
		for _, m := range st.Channel.Messages {
			switch {
			case m.Pinned && strings.Contains(string(m.Blocks), `"card_update"`):
				card = m.TS
			case strings.Contains(string(m.Blocks), `"checklist_yes:recent-deploy"`):
				checklist = m.TS
			}
		}
		return card != "" && checklist != "" && strings.Contains(st.Channel.Topic, "investigating")
	})

	// Bob answers a checklist question.
	pg.mustPost("/api/join", map[string]any{"user": bob, "channel": inc})
	pg.mustPost("/api/action", map[string]any{"user": bob, "channel": inc, "message_ts": checklist,
		"block_id": "checklist:recent-deploy", "action_id": "checklist_yes:recent-deploy", "type": "button", "value": "recent-deploy"})
	eventually(t, "the answer in the checklist, and its suggestion", func() bool {
		st = pg.state(bob, inc)
		answered, suggested := false, false
		for _, m := range st.Channel.Messages {
			answered = answered || (m.TS == checklist && strings.Contains(string(m.Blocks), "1/11 answered"))
			suggested = suggested || strings.Contains(m.Text, "rolling back")
		}
		return answered && suggested
	})

	// Alice opens the update form from the card and submits it.
	pg.mustPost("/api/action", map[string]any{"user": alice, "channel": inc, "message_ts": card,
		"block_id": "card_controls", "action_id": "card_update", "type": "button", "value": "1"})
	var modal string
	eventually(t, "the update form", func() bool {
		st = pg.state(alice, inc)
		if st.Modal != nil {
			modal = st.Modal.ID
		}
		return modal != ""
	})
	if pg.state(bob, inc).Modal != nil {
		t.Error("bob sees alice's form")
	}
	bad := pg.post("/api/submit", map[string]any{"user": alice, "view_id": modal, "values": map[string]any{
		"know":  map[string]any{"know": map[string]any{"type": "plain_text_input", "value": nil}},
		"doing": map[string]any{"doing": map[string]any{"type": "plain_text_input", "value": nil}},
	}})
	if bad["ok"] != false || bad["errors"] == nil {
		t.Errorf("an empty update form was answered %v, want errors to show in the form", bad)
	}
	pg.mustPost("/api/submit", map[string]any{"user": alice, "view_id": modal, "values": map[string]any{
		"status": map[string]any{"status": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "identified", "text": map[string]any{"type": "plain_text", "text": "identified"}}}},
		"know":   map[string]any{"know": map[string]any{"type": "plain_text_input", "value": "The payment provider times out"}},
		"doing":  map[string]any{"doing": map[string]any{"type": "plain_text_input", "value": "Failing over to the secondary"}},
		"next":   map[string]any{"next": map[string]any{"type": "static_select", "selected_option": nil}},
	}})
	eventually(t, "the update posted and the status changed", func() bool {
		st = pg.state(alice, inc)
		posted := false
		for _, m := range st.Channel.Messages {
			posted = posted || strings.Contains(m.Text, "Failing over to the secondary")
		}
		return st.Modal == nil && posted && strings.Contains(st.Channel.Topic, "identified")
	})

	// Bob writes in the channel and pins his message to the timeline.
	pg.mustPost("/api/send", map[string]any{"user": bob, "channel": inc, "text": "Error rate is back under 1% for @alice"})
	var msg string
	eventually(t, "bob's message", func() bool {
		for _, m := range pg.state(bob, inc).Channel.Messages {
			if m.UserName == "Bob Brown" && strings.Contains(m.Text, "<@U0ALICE|alice>") {
				msg = m.TS
			}
		}
		return msg != ""
	})
	pg.mustPost("/api/react", map[string]any{"user": bob, "channel": inc, "ts": msg, "name": "pushpin"})
	eventually(t, "bob told his message is on the timeline", func() bool {
		for _, m := range pg.state(bob, inc).Channel.Messages {
			if m.Ephemeral && strings.Contains(m.Text, "timeline") {
				return true
			}
		}
		return false
	})
	pg.mustPost("/api/send", map[string]any{"user": alice, "channel": inc, "text": "/incident timeline"})
	eventually(t, "the timeline with the checklist answer, the update and bob's message", func() bool {
		for _, m := range pg.state(alice, inc).Channel.Messages {
			if m.Ephemeral && strings.Contains(string(m.Blocks)+m.Text, "Error rate is back") &&
				strings.Contains(string(m.Blocks)+m.Text, "recent") && strings.Contains(string(m.Blocks)+m.Text, "Failing over") {
				return true
			}
		}
		return false
	}, func() string {
		b, _ := json.MarshalIndent(pg.state(alice, inc).Channel.Messages, "", " ")
		return string(b)
	})

	// Mistakes get a clear answer.
	for _, c := range []struct {
		path string
		body map[string]any
		want string
	}{
		{"/api/send", map[string]any{"user": "U0NOBODY", "channel": general, "text": "hi"}, "pick a person"},
		{"/api/send", map[string]any{"user": alice, "channel": "C0NONE", "text": "hi"}, "no channel"},
		{"/api/send", map[string]any{"user": alice, "channel": general, "text": "  "}, "type a message"},
		{"/api/submit", map[string]any{"user": alice, "view_id": modal, "values": map[string]any{}}, "form is closed"},
	} {
		if out := pg.post(c.path, c.body); out["ok"] != false || !strings.Contains(out["error"].(string), c.want) {
			t.Errorf("%s %v answered %v, want an error saying %q", c.path, c.body, out, c.want)
		}
	}
}

// TestPlaygroundOverSocketMode declares an incident in the playground with
// Sitrep on Socket Mode.
func TestPlaygroundOverSocketMode(t *testing.T) {
	pg := startPlayground(t, "-socket")
	general := pg.state("U0ALICE", "").channelID("general")
	pg.mustPost("/api/send", map[string]any{"user": "U0ALICE", "channel": general, "text": "/incident declare sev2 Search slow"})
	eventually(t, "the incident channel", func() bool { return pg.state("U0ALICE", "").channelID("inc-1-search-slow") != "" })
}
