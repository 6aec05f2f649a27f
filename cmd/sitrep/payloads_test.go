package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// Test payloads start from the real ones in shared/slack-payloads and
// change only the IDs and values a test needs, so their shape stays Slack's.

type obj = map[string]any

func realPayload(t *testing.T, name string) obj {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "shared", "slack-payloads", name))
	if err != nil {
		t.Fatalf("the shared payloads must sit beside the repo: %v", err)
	}
	var m obj
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// set assigns v at a dotted path, creating objects on the way.
func set(m obj, path string, v any) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(obj)
		if !ok {
			next = obj{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

// cardAction is a block_actions payload for a control on a message, shaped
// like block-actions-message-button.json.
func cardAction(t *testing.T, fake *slackfake.Server, user, channel, messageTS string, action obj) (obj, string) {
	p := realPayload(t, "block-actions-message-button.json")
	ru := fake.NewResponseURL()
	set(p, "user.id", user)
	set(p, "channel.id", channel)
	set(p, "container.channel_id", channel)
	set(p, "container.message_ts", messageTS)
	set(p, "message.ts", messageTS)
	set(p, "trigger_id", fake.NewTriggerIDFor(user))
	set(p, "response_url", ru)
	action["action_ts"] = "1605853645.582706"
	if _, ok := action["block_id"]; !ok {
		action["block_id"] = "card_controls"
	}
	p["actions"] = []any{action}
	return p, ru
}

func button(actionID, value string) obj {
	return obj{"action_id": actionID, "type": "button", "value": value, "text": obj{"type": "plain_text", "text": "x", "emoji": true}}
}

func staticSelect(actionID, value string) obj {
	return obj{"action_id": actionID, "type": "static_select",
		"selected_option": obj{"text": obj{"type": "plain_text", "text": value, "emoji": true}, "value": value}}
}

func usersSelect(actionID, user string) obj {
	return obj{"action_id": actionID, "type": "users_select", "selected_user": user, "block_id": "card_roles"}
}

// submission is a view_submission for the open modal view, shaped like
// view-submission-captured.json, with the form filled in.
func submission(t *testing.T, user string, view slackfake.View, values obj) obj {
	p := realPayload(t, "view-submission-captured.json")
	set(p, "user.id", user)
	set(p, "view.id", view.ID)
	set(p, "view.callback_id", view.CallbackID)
	set(p, "view.private_metadata", view.PrivateMetadata)
	set(p, "view.hash", view.Hash)
	set(p, "view.state.values", values)
	return p
}

func textValue(v string) obj { return obj{"type": "plain_text_input", "value": v} }
func optionValue(v string) obj {
	return obj{"type": "static_select", "selected_option": obj{"text": obj{"type": "plain_text", "text": v}, "value": v}}
}
func checkboxValues(vs ...string) obj {
	var opts []any
	for _, v := range vs {
		opts = append(opts, obj{"text": obj{"type": "plain_text", "text": v}, "value": v})
	}
	return obj{"type": "checkboxes", "selected_options": opts}
}

// shortcut is a message_action payload, shaped like message-action.json.
func shortcut(t *testing.T, fake *slackfake.Server, user, channel string, msg slackfake.Message) (obj, string) {
	p := realPayload(t, "message-action.json")
	ru := fake.NewResponseURL()
	set(p, "callback_id", "add_to_timeline")
	set(p, "user.id", user)
	set(p, "channel.id", channel)
	set(p, "trigger_id", fake.NewTriggerID())
	set(p, "response_url", ru)
	p["message"] = obj{"type": "message", "user": msg.User, "ts": msg.TS, "text": msg.Text}
	return p, ru
}

// reaction is a reaction_added event_callback, shaped like
// event-reaction-added.json.
func reaction(t *testing.T, eventID, user, emoji, channel, ts string) obj {
	p := realPayload(t, "event-reaction-added.json")
	set(p, "event_id", eventID)
	set(p, "event.user", user)
	set(p, "event.reaction", emoji)
	set(p, "event.item.channel", channel)
	set(p, "event.item.ts", ts)
	return p
}

// homeOpened is an app_home_opened event_callback, shaped like
// event-app-home-opened.json.
func homeOpened(t *testing.T, eventID, user string) obj {
	p := realPayload(t, "event-app-home-opened.json")
	set(p, "event_id", eventID)
	set(p, "event.user", user)
	set(p, "event.tab", "home")
	return p
}

// interact posts an interaction payload as Slack does: a signed form with
// one payload field.
func (in *instance) interact(p obj) answer {
	in.t.Helper()
	data, err := json.Marshal(p)
	if err != nil {
		in.t.Fatal(err)
	}
	if in.socket {
		return in.sendSocket("interactive", data)
	}
	body := "payload=" + url.QueryEscape(string(data))
	return in.do(signedRequest(in.t, in.base+"/slack/interactions", body, in.signTime()))
}

// sendEvent posts an Events API payload as Slack does: signed JSON, with
// the retry headers when retry > 0.
func (in *instance) sendEvent(p obj, retry int) answer {
	in.t.Helper()
	data, err := json.Marshal(p)
	if err != nil {
		in.t.Fatal(err)
	}
	if in.socket {
		return in.sendSocket("events_api", data)
	}
	req := signedRequest(in.t, in.base+"/slack/events", string(data), in.signTime())
	req.Header.Set("Content-Type", "application/json")
	if retry > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
		req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	a := in.do(req)
	if a.Status != http.StatusOK {
		in.t.Fatalf("event answered %+v", a)
	}
	return a
}
