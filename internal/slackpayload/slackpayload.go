// Package slackpayload builds the payloads Slack sends an app, for the
// tests and the playground that play Slack's part against a
// slackfake.Server. Each starts from a real payload Slack sent (copies of
// shared/slack-payloads, checked against them by a test) and changes only
// the IDs and values, so the app sees Slack's shapes.
package slackpayload

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

//go:embed payloads/*.json
var payloadFS embed.FS

// Obj is a JSON object.
type Obj = map[string]any

// Load returns a fresh copy of the real payload in file name.
func Load(name string) Obj {
	data, err := payloadFS.ReadFile("payloads/" + name)
	if err != nil {
		panic(err) // embedded: only a broken build or a misspelt name gets here
	}
	var m Obj
	if err := json.Unmarshal(data, &m); err != nil {
		panic(err)
	}
	return m
}

// Set assigns v at a dotted path of m, creating objects on the way.
func Set(m Obj, path string, v any) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(Obj)
		if !ok {
			next = Obj{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

// Now is a Slack-style timestamp ("1700000000.000100") of the present.
func Now() string { return TS(time.Now()) }

// TS is t as a Slack timestamp.
func TS(t time.Time) string { return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000) }

// fromUser fills in the fields every interaction payload has: who, the
// workspace, the app, and a trigger_id for opening a form.
func fromUser(fake *slackfake.Server, p Obj, user string) {
	name := user
	if u, ok := fake.User(user); ok {
		name = u.Name
	}
	p["user"] = Obj{"id": user, "username": name, "name": name, "team_id": fake.TeamID()}
	Set(p, "team.id", fake.TeamID())
	p["api_app_id"] = slackfake.DefaultAppID
	p["trigger_id"] = fake.NewTriggerIDFor(user)
}

// Message is a message as interaction payloads carry it.
func Message(m slackfake.Message) Obj {
	msg := Obj{"type": "message", "ts": m.TS, "text": m.Text}
	if m.User != "" {
		msg["user"] = m.User
	}
	if m.BotID != "" {
		msg["bot_id"] = m.BotID
	}
	if len(m.Blocks) > 0 {
		msg["blocks"] = json.RawMessage(m.Blocks)
	}
	return msg
}

// View is a view as interaction payloads carry it: as the app last sent
// it, with the fields Slack adds and the state of its inputs.
func View(fake *slackfake.Server, v slackfake.View, values Obj) Obj {
	var view Obj
	json.Unmarshal(v.Raw, &view)
	if view == nil {
		view = Obj{}
	}
	for k, val := range (Obj{"id": v.ID, "team_id": fake.TeamID(), "callback_id": v.CallbackID, "private_metadata": v.PrivateMetadata,
		"hash": v.Hash, "root_view_id": v.RootViewID, "state": Obj{"values": values}, "app_id": slackfake.DefaultAppID, "bot_id": fake.BotID()}) {
		view[k] = val
	}
	return view
}

// MessageAction is a block_actions payload for a control on a message in
// channel (block-actions-message-button.json). A message the fake does not
// have is taken for an ephemeral one, with which Slack sends no message.
func MessageAction(fake *slackfake.Server, user, channel, messageTS, responseURL string, action Obj) Obj {
	p := Load("block-actions-message-button.json")
	fromUser(fake, p, user)
	Set(p, "channel.id", channel)
	if ch, ok := fake.Channel(channel); ok {
		if dm, isDM := fake.DM(user); isDM && dm == channel {
			// Slack names a direct message so in the payload's channel.
			Set(p, "channel.name", "directmessage")
		} else {
			Set(p, "channel.name", ch.Name)
		}
	}
	container := Obj{"type": "message", "message_ts": messageTS, "channel_id": channel, "is_ephemeral": false}
	if m, ok := fake.Message(channel, messageTS); ok {
		p["message"] = Message(m)
	} else {
		container["is_ephemeral"] = true
		delete(p, "message")
	}
	p["container"] = container
	p["response_url"] = responseURL
	p["actions"] = []any{action}
	return p
}

// ViewAction is a block_actions payload for a control in a view: a modal
// or the App Home (block-actions-static-select-modal.json).
func ViewAction(fake *slackfake.Server, user string, v slackfake.View, action Obj) Obj {
	p := Load("block-actions-static-select-modal.json")
	fromUser(fake, p, user)
	p["container"] = Obj{"type": "view", "view_id": v.ID}
	p["view"] = View(fake, v, Obj{})
	p["actions"] = []any{action}
	return p
}

// Submission is a view_submission of v with its inputs' values
// (view-submission-captured.json).
func Submission(fake *slackfake.Server, user string, v slackfake.View, values Obj) Obj {
	p := Load("view-submission-captured.json")
	fromUser(fake, p, user)
	p["view"] = View(fake, v, values)
	p["response_urls"] = []any{}
	return p
}

// Shortcut is a message shortcut (callbackID) used on message m in channel
// (message-action.json).
func Shortcut(fake *slackfake.Server, user, channel, callbackID, responseURL string, m slackfake.Message) Obj {
	p := Load("message-action.json")
	fromUser(fake, p, user)
	name := user
	if u, ok := fake.User(user); ok {
		name = u.Name
	}
	p["user"] = Obj{"id": user, "name": name} // a shortcut's user has no username
	p["callback_id"] = callbackID
	p["response_url"] = responseURL
	ch := Obj{"id": channel}
	if c, ok := fake.Channel(channel); ok {
		ch["name"] = c.Name
	}
	p["channel"] = ch
	p["message_ts"] = m.TS
	p["action_ts"] = Now()
	p["message"] = Message(m)
	return p
}

// event is an event_callback from the real one in file, carrying ev.
func event(fake *slackfake.Server, file, eventID string, ev Obj) Obj {
	p := Load(file)
	p["team_id"] = fake.TeamID()
	p["api_app_id"] = slackfake.DefaultAppID
	p["event_id"] = eventID
	p["event_time"] = time.Now().Unix()
	p["authorizations"] = []any{Obj{"enterprise_id": nil, "team_id": fake.TeamID(), "user_id": fake.BotUserID(), "is_bot": true, "is_enterprise_install": false}}
	p["event"] = ev
	return p
}

// Reaction is a reaction_added event for emoji added to the message at ts
// in channel (event-reaction-added.json).
func Reaction(fake *slackfake.Server, eventID, user, emoji, channel, ts string) Obj {
	ev := Obj{"type": "reaction_added", "user": user, "reaction": emoji, "item": Obj{"type": "message", "channel": channel, "ts": ts}, "event_ts": Now()}
	if m, ok := fake.Message(channel, ts); ok && m.User != "" {
		ev["item_user"] = m.User
	}
	return event(fake, "event-reaction-added.json", eventID, ev)
}

// HomeOpened is an app_home_opened event for user's Home tab
// (event-app-home-opened.json), with the view they see if there is one.
func HomeOpened(fake *slackfake.Server, eventID, user string) Obj {
	ev := Obj{"type": "app_home_opened", "user": user, "channel": "D0" + strings.TrimPrefix(user, "U"), "tab": "home", "event_ts": Now()}
	if v, ok := fake.HomeView(user); ok {
		ev["view"] = Obj{"id": v.ID, "type": "home", "hash": v.Hash}
	}
	return event(fake, "event-app-home-opened.json", eventID, ev)
}

// Membership is a member_joined_channel (joined) or member_left_channel
// event for user in channel, in the envelope of event-reaction-added.json
// (the inner event's shape is Slack's documented one:
// https://api.slack.com/events/member_joined_channel).
func Membership(fake *slackfake.Server, eventID, user, channel string, joined bool) Obj {
	ev := Obj{"type": "member_left_channel", "user": user, "channel": channel, "channel_type": "G", "team": fake.TeamID(), "event_ts": Now()}
	if ch, ok := fake.Channel(channel); ok && !ch.Private {
		ev["channel_type"] = "C"
	}
	if joined {
		ev["type"] = "member_joined_channel"
	}
	return event(fake, "event-reaction-added.json", eventID, ev)
}

// FileShared is a file_shared event for a file shared in channel by the
// bot, in the event wrapper of event-reaction-added.json. No real
// file_shared payload is stored; the inner event follows Slack's
// documented example (type, channel_id, file_id, user_id, file.id,
// event_ts).
func FileShared(fake *slackfake.Server, eventID, fileID, channel string) Obj {
	ev := Obj{"type": "file_shared", "channel_id": channel, "file_id": fileID, "user_id": fake.BotUserID(), "file": Obj{"id": fileID}, "event_ts": Now()}
	return event(fake, "event-reaction-added.json", eventID, ev)
}
