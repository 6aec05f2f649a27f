package slackfake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// sections returns n section blocks of each characters (Block Kit allows
// 3,000 in one section), plus an actions block with a button labelled
// label if label is not empty.
func sections(n, each int, label string) []slack.Block {
	var blocks []slack.Block
	for range n {
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, strings.Repeat("x", each), false, false), nil, nil))
	}
	if label != "" {
		blocks = append(blocks, slack.NewActionBlock("", slack.NewButtonBlockElement("a", "value-not-counted", slack.NewTextBlockObject(slack.PlainTextType, label, false, false))))
	}
	return blocks
}

func TestBlocksText(t *testing.T) {
	raw, err := json.Marshal(sections(2, 3000, "Done"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := BlocksText(raw), 6004; got != want {
		t.Errorf("BlocksText = %d, want %d (section texts and the button's label, not its value or IDs)", got, want)
	}
	if got, want := BlocksSize(raw), 6004+3*BlockOverhead; got != want {
		t.Errorf("BlocksSize = %d, want %d (the text and the overhead of three blocks)", got, want)
	}
	rich := json.RawMessage(`[{"type":"rich_text","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":"héllo"}]}]}]`)
	if got := BlocksText(rich); got != 5 {
		t.Errorf("BlocksText(rich_text) = %d, want 5 (characters, not bytes)", got)
	}
}

// TestBlocksTextLimit: a message whose blocks are each valid but carry more
// than 12,000 characters in all (counting 100 for each block) is refused
// with msg_blocks_too_long by every way of sending a message; at the limit
// it is accepted.
func TestBlocksTextLimit(t *testing.T) {
	f := newFixture(t)
	atLimit := sections(4, 2900, "")                                // 11,600 + 400
	over := append(sections(3, 2900, ""), sections(1, 2901, "")...) // one more
	_, ts, err := f.api.PostMessage(f.ops, slack.MsgOptionBlocks(atLimit...))
	if err != nil {
		t.Fatalf("PostMessage at the limit: %v", err)
	}
	_, _, err = f.api.PostMessage(f.ops, slack.MsgOptionBlocks(over...))
	if got := slackErr(t, err); got != "msg_blocks_too_long" {
		t.Errorf("PostMessage over the limit: error %q, want msg_blocks_too_long", got)
	}
	_, _, _, err = f.api.UpdateMessage(f.ops, ts, slack.MsgOptionBlocks(over...))
	if got := slackErr(t, err); got != "msg_blocks_too_long" {
		t.Errorf("UpdateMessage over the limit: error %q, want msg_blocks_too_long", got)
	}
	if m, _ := f.s.Message(f.ops, ts); BlocksSize(m.Blocks) != 12000 {
		t.Errorf("the refused update changed the message")
	}
	_, err = f.api.PostEphemeral(f.ops, f.alice, slack.MsgOptionBlocks(over...))
	if got := slackErr(t, err); got != "msg_blocks_too_long" {
		t.Errorf("PostEphemeral over the limit: error %q, want msg_blocks_too_long", got)
	}

	u := f.s.NewResponseURL()
	body, _ := json.Marshal(map[string]any{"text": "t", "blocks": over})
	resp, err := http.Post(u, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var ans struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	if ans.OK || ans.Error != "msg_blocks_too_long" {
		t.Errorf("response_url over the limit answered %+v, want msg_blocks_too_long", ans)
	}
	if n := len(f.s.Responses(u)); n != 0 {
		t.Errorf("the response_url kept %d refused posts", n)
	}
}

func TestBlocksTextLimitOption(t *testing.T) {
	for _, tc := range []struct {
		limit int
		want  string
	}{{100, "msg_blocks_too_long"}, {0, ""}} {
		s, api, _ := newFake(t, WithBlocksTextLimit(tc.limit))
		ch := s.AddChannel("ops", false, s.BotUserID())
		_, _, err := api.PostMessage(ch, slack.MsgOptionBlocks(sections(5, 3000, "")...))
		if got := slackErr(t, err); got != tc.want {
			t.Errorf("limit %d: 15,500 characters answered %q, want %q", tc.limit, got, tc.want)
		}
	}
}

// TestResponseURLRefusals: a response_url refuses a post under HTTP 200
// with {"ok":false,"error":…} (expired, used up) or under an HTTP error
// status, and injected failures can take either form.
func TestResponseURLRefusals(t *testing.T) {
	s, _, clock := newFake(t)
	post := func(u string) (int, string) {
		t.Helper()
		resp, err := http.Post(u, "application/json", strings.NewReader(`{"text":"hi"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ans struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&ans)
		if ans.OK {
			return resp.StatusCode, ""
		}
		return resp.StatusCode, ans.Error
	}
	expired := s.NewResponseURL()
	clock.Advance(31 * time.Minute)
	fresh := s.NewResponseURL()
	for _, tc := range []struct {
		name       string
		fail       *Failure
		url        string
		wantStatus int
		wantCode   string
	}{
		{"accepted", nil, fresh, http.StatusOK, ""},
		{"expired", nil, expired, http.StatusOK, "expired_url"},
		{"unknown", nil, strings.TrimSuffix(fresh, "2") + "99", http.StatusNotFound, "invalid_url"},
		{"injected, ok false", &Failure{Error: "used_url", Times: 1}, fresh, http.StatusOK, "used_url"},
		{"injected, HTTP error", &Failure{Status: http.StatusNotFound, Error: "invalid_url", Times: 1}, fresh, http.StatusNotFound, "invalid_url"},
		{"injected, server error", &Failure{Status: http.StatusInternalServerError, Times: 1}, fresh, http.StatusInternalServerError, "internal_error"},
	} {
		if tc.fail != nil {
			s.Fail(ResponseURLMethod, *tc.fail)
		}
		if status, code := post(tc.url); status != tc.wantStatus || code != tc.wantCode {
			t.Errorf("%s: HTTP %d %q, want HTTP %d %q", tc.name, status, code, tc.wantStatus, tc.wantCode)
		}
	}
}
