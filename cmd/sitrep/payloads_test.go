package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/internal/slackpayload"
)

// Test payloads are slackpayload's: real ones from shared/slack-payloads
// with only the IDs and values a test needs changed, as the playground
// sends them, so their shape stays Slack's.

type obj = slackpayload.Obj

// cardAction is a block_actions payload for a control on a message, with
// a fresh response_url, which it returns too.
func cardAction(t *testing.T, fake *slackfake.Server, user, channel, messageTS string, action obj) (obj, string) {
	t.Helper()
	ru := fake.NewResponseURL()
	action["action_ts"] = "1605853645.582706"
	if _, ok := action["block_id"]; !ok {
		action["block_id"] = "card_controls"
	}
	return slackpayload.MessageAction(fake, user, channel, messageTS, ru, action), ru
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

// submission is a view_submission for the open modal view, with the form
// filled in.
func submission(t *testing.T, fake *slackfake.Server, user string, view slackfake.View, values obj) obj {
	t.Helper()
	return slackpayload.Submission(fake, user, view, values)
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

// shortcut is the add-to-timeline message shortcut used on msg, with a
// fresh response_url, which it returns too.
func shortcut(t *testing.T, fake *slackfake.Server, user, channel string, msg slackfake.Message) (obj, string) {
	t.Helper()
	ru := fake.NewResponseURL()
	return slackpayload.Shortcut(fake, user, channel, "add_to_timeline", ru, msg), ru
}

// reaction is a reaction_added event_callback.
func reaction(t *testing.T, fake *slackfake.Server, eventID, user, emoji, channel, ts string) obj {
	t.Helper()
	return slackpayload.Reaction(fake, eventID, user, emoji, channel, ts)
}

// homeOpened is an app_home_opened event_callback.
func homeOpened(t *testing.T, fake *slackfake.Server, eventID, user string) obj {
	t.Helper()
	return slackpayload.HomeOpened(fake, eventID, user)
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
