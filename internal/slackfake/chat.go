package slackfake

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// maxTextLen is the longest top-level message text Slack accepts.
const maxTextLen = 40000

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// botProfile is the bot_profile Slack attaches to bot messages.
func (s *Server) botProfile() result {
	return result{
		"id":      DefaultBotID,
		"deleted": false,
		"name":    botUserName,
		"updated": 0,
		"app_id":  DefaultAppID,
		"user_id": DefaultBotUserID,
		"team_id": s.teamID,
		"icons":   result{},
	}
}

// messageJSON renders a message as conversations.history and
// chat.postMessage do.
func (s *Server) messageJSON(m *message) result {
	res := result{"type": "message", "ts": m.TS, "text": m.Text, "team": s.teamID}
	if m.User != "" {
		res["user"] = m.User
	}
	if m.Subtype != "" {
		res["subtype"] = m.Subtype
	}
	if m.BotID != "" {
		res["bot_id"] = m.BotID
		res["app_id"] = DefaultAppID
		res["bot_profile"] = s.botProfile()
	}
	if len(m.Blocks) > 0 {
		res["blocks"] = json.RawMessage(m.Blocks)
	}
	if m.Metadata != nil {
		res["metadata"] = m.Metadata
	}
	if m.ThreadTS != "" {
		res["thread_ts"] = m.ThreadTS
	}
	if m.isReply() && m.parentUser != "" {
		res["parent_user_id"] = m.parentUser
	}
	if m.replyCount > 0 {
		res["reply_count"] = m.replyCount
		res["reply_users_count"] = len(m.replyUsers)
		res["reply_users"] = m.replyUsers
		res["latest_reply"] = m.latestReply
	}
	if m.Edited {
		res["edited"] = result{"user": m.editedBy, "ts": m.editedTS}
	}
	if m.Subtype == "channel_topic" {
		res["topic"] = m.topic
	}
	if len(m.Reactions) > 0 {
		var rs []result
		for _, r := range m.Reactions {
			rs = append(rs, result{"name": r.Name, "users": r.Users, "count": len(r.Users)})
		}
		res["reactions"] = rs
	}
	if len(m.Files) > 0 {
		res["files"] = s.filesJSON(m.Files)
		res["upload"] = true
		res["display_as_bot"] = false
	}
	return res
}

// resolveChannelLocked finds a channel by ID, or by name ("#name" or
// "name"), as chat.postMessage allows.
func (s *Server) resolveChannelLocked(ref string) *channel {
	if ch := s.channels[ref]; ch != nil {
		return ch
	}
	return s.channelByNameLocked(strings.TrimPrefix(ref, "#"))
}

// postableChannelLocked applies chat.postMessage's channel rules.
func (s *Server) postableChannelLocked(ref string) (*channel, string) {
	ch := s.resolveChannelLocked(ref)
	if ch == nil || ch.private && !ch.isMember(DefaultBotUserID) {
		return nil, "channel_not_found"
	}
	if ch.archived {
		return nil, "is_archived"
	}
	if !ch.isMember(DefaultBotUserID) {
		return nil, "not_in_channel"
	}
	return ch, ""
}

// content is the text and blocks of a message request.
type content struct {
	text          string
	textSet       bool
	blocks        json.RawMessage // nil when absent or empty
	blocksSet     bool
	hasAttachment bool
}

// parseContent reads and validates text, blocks and attachments. It returns
// an error result for invalid_blocks_format, invalid_blocks,
// msg_blocks_too_long, no_text or msg_too_long.
func (s *Server) parseContent(r *request) (content, result) {
	var c content
	c.text, c.textSet = r.params["text"]
	if a := strings.TrimSpace(r.get("attachments")); a != "" && a != "[]" && a != "null" {
		c.hasAttachment = true
	}
	if raw, set := r.params["blocks"]; set && raw != "" && raw != "null" {
		c.blocksSet = true
		var list []json.RawMessage
		if err := json.Unmarshal([]byte(raw), &list); err != nil {
			return c, apiErr("invalid_blocks_format")
		}
		if errs := ValidateBlocks(json.RawMessage(raw)); len(errs) > 0 {
			return c, invalidBlocks(errs)
		}
		if s.blocksTooLong(json.RawMessage(raw)) {
			return c, apiErr("msg_blocks_too_long")
		}
		if len(list) > 0 {
			c.blocks = json.RawMessage(raw)
		}
	}
	if c.text == "" && c.blocks == nil && !c.hasAttachment {
		return c, apiErr("no_text")
	}
	if utf8.RuneCountInString(c.text) > maxTextLen {
		return c, apiErr("msg_too_long")
	}
	return c, nil
}

// invalidBlocks shapes an invalid_blocks error like
// web-api/chat.postMessage.invalid_blocks.json.
func invalidBlocks(errs []string) result {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = "[ERROR] " + e
	}
	res := apiErr("invalid_blocks")
	res["errors"] = errs
	res["response_metadata"] = result{"messages": msgs}
	return res
}

func (s *Server) chatPostMessage(r *request) result {
	ch, code := s.postableChannelLocked(r.get("channel"))
	if code != "" {
		return apiErr(code)
	}
	c, errRes := s.parseContent(r)
	if errRes != nil {
		return errRes
	}
	md, code := parseMetadata(r.get("metadata"))
	if code != "" {
		return apiErr(code)
	}
	m := &message{Message: Message{
		TS:       s.nextTSLocked(),
		Channel:  ch.id,
		User:     DefaultBotUserID,
		BotID:    DefaultBotID,
		Text:     c.text,
		Blocks:   c.blocks,
		ThreadTS: r.get("thread_ts"),
		Metadata: md,
	}}
	if m.ThreadTS != "" && r.flag("reply_broadcast") {
		m.Subtype = "thread_broadcast"
	}
	ch.addMessage(m)
	return success(result{"channel": ch.id, "ts": m.TS, "message": s.messageJSON(m)})
}

func (s *Server) chatUpdate(r *request) result {
	ch, code := s.visibleChannelLocked(r.get("channel"))
	if code != "" {
		return apiErr(code)
	}
	if ch.archived {
		return apiErr("is_archived")
	}
	m := ch.findMessage(r.get("ts"))
	if m == nil {
		return apiErr("message_not_found")
	}
	if m.User != DefaultBotUserID || m.Subtype != "" && m.Subtype != "thread_broadcast" {
		return apiErr("cant_update_message")
	}
	c, errRes := s.parseContent(r)
	if errRes != nil && errRes["error"] != "no_text" {
		return errRes
	}
	// Slack keeps what is not sent: the text when "text" is absent, the
	// blocks when "blocks" is absent ("blocks": [] removes them).
	text, blocks := m.Text, m.Blocks
	if c.textSet {
		text = c.text
	}
	if c.blocksSet {
		blocks = c.blocks
	}
	if !c.textSet && !c.blocksSet && !c.hasAttachment || text == "" && blocks == nil && !c.hasAttachment {
		return apiErr("no_text")
	}
	m.Text, m.Blocks = text, blocks
	m.Edited = true
	m.editedBy = DefaultBotUserID
	m.editedTS = s.nextTSLocked()
	return success(result{"channel": ch.id, "ts": m.TS, "text": m.Text, "message": s.messageJSON(m)})
}

func (s *Server) chatPostEphemeral(r *request) result {
	ch, code := s.visibleChannelLocked(r.get("channel"))
	if code != "" {
		return apiErr(code)
	}
	if ch.archived {
		return apiErr("is_archived")
	}
	// Slack shows an app's ephemeral message only in a conversation the
	// app is in, public or not.
	if !ch.isMember(DefaultBotUserID) {
		return apiErr("not_in_channel")
	}
	user := r.get("user")
	if s.users[user] == nil {
		return apiErr("user_not_found")
	}
	if !ch.isMember(user) {
		return apiErr("user_not_in_channel")
	}
	c, errRes := s.parseContent(r)
	if errRes != nil {
		return errRes
	}
	e := Ephemeral{TS: s.nextTSLocked(), Channel: ch.id, User: user, Text: c.text, Blocks: c.blocks, ThreadTS: r.get("thread_ts")}
	ch.ephemerals = append(ch.ephemerals, e)
	return success(result{"message_ts": e.TS})
}

func (s *Server) chatGetPermalink(r *request) result {
	ch, code := s.visibleChannelLocked(r.get("channel"))
	if code != "" {
		return apiErr(code)
	}
	m := ch.findMessage(r.get("message_ts"))
	if m == nil {
		return apiErr("message_not_found")
	}
	link := permalinkBase + "archives/" + ch.id + "/p" + strings.Replace(m.TS, ".", "", 1)
	if m.isReply() {
		link += "?thread_ts=" + m.ThreadTS + "&cid=" + ch.id
	}
	return success(result{"channel": ch.id, "permalink": link})
}

func (s *Server) pinsAdd(r *request) result {
	ch, code := s.visibleChannelLocked(r.get("channel"))
	if code != "" {
		return apiErr(code)
	}
	ts := r.get("timestamp")
	if ts == "" {
		return apiErr("no_item_specified")
	}
	if ch.archived {
		return apiErr("is_archived")
	}
	if !ch.isMember(DefaultBotUserID) {
		return apiErr("not_in_channel")
	}
	if ch.findMessage(ts) == nil {
		return apiErr("message_not_found")
	}
	for _, p := range ch.pins {
		if p.ts == ts {
			return apiErr("already_pinned")
		}
	}
	ch.pins = append(ch.pins, pin{ts: ts, by: DefaultBotUserID, at: s.clock()})
	return success(nil)
}

func (s *Server) pinsList(r *request) result {
	ch, code := s.visibleChannelLocked(r.get("channel"))
	if code != "" {
		return apiErr(code)
	}
	items := []result{}
	for i := len(ch.pins) - 1; i >= 0; i-- { // most recently pinned first
		p := ch.pins[i]
		m := ch.findMessage(p.ts)
		if m == nil {
			continue
		}
		items = append(items, result{
			"type":       "message",
			"created":    p.at.Unix(),
			"created_by": p.by,
			"channel":    ch.id,
			"message":    s.messageJSON(m),
		})
	}
	return success(result{"items": items})
}

// parseMetadata checks message metadata as Slack does: a JSON object with
// an event_type and an event_payload object.
func parseMetadata(raw string) (json.RawMessage, string) {
	if strings.TrimSpace(raw) == "" {
		return nil, ""
	}
	var md struct {
		EventType    string          `json:"event_type"`
		EventPayload json.RawMessage `json:"event_payload"`
	}
	if err := json.Unmarshal([]byte(raw), &md); err != nil || md.EventType == "" {
		return nil, "invalid_metadata_format"
	}
	var payload map[string]any
	if err := json.Unmarshal(md.EventPayload, &payload); err != nil || payload == nil {
		return nil, "invalid_metadata_format"
	}
	out, _ := json.Marshal(md)
	return out, ""
}
