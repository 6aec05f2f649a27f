package slackfake

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Slack's limits for conversations.
const (
	maxChannelNameLen = 80
	maxTopicLen       = 250
)

// checkNewChannelName applies Slack's channel name rules and returns the
// error code conversations.create would answer, or "".
func (s *Server) checkNewChannelName(name string) string {
	if name == "" {
		return "invalid_name_required"
	}
	if utf8.RuneCountInString(name) > maxChannelNameLen {
		return "invalid_name_maxlength"
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "invalid_name_specials"
		}
	}
	if strings.Trim(name, "-_") == "" {
		return "invalid_name_punctuation"
	}
	if s.channelByNameLocked(name) != nil {
		return "name_taken"
	}
	return ""
}

// visibleChannelLocked returns the channel if the bot can see it: public
// channels, and private ones it is a member of. Slack answers
// channel_not_found for the others.
func (s *Server) visibleChannelLocked(id string) (*channel, string) {
	ch := s.channels[id]
	if ch == nil || ch.private && !ch.isMember(DefaultBotUserID) {
		return nil, "channel_not_found"
	}
	return ch, ""
}

// channelJSON renders a conversation object shaped like
// web-api/conversations.create.json.
func (s *Server) channelJSON(ch *channel) result {
	var topic, purpose result
	topic = result{"value": ch.topic, "creator": ch.topicCreator, "last_set": unixOrZero(ch.topicSet)}
	purpose = result{"value": "", "creator": "", "last_set": 0}
	return result{
		"id":                    ch.id,
		"name":                  ch.name,
		"is_channel":            true,
		"is_group":              false,
		"is_im":                 false,
		"is_mpim":               false,
		"is_private":            ch.private,
		"created":               ch.created.Unix(),
		"creator":               ch.creator,
		"is_archived":           ch.archived,
		"is_general":            false,
		"unlinked":              0,
		"name_normalized":       ch.name,
		"is_shared":             false,
		"is_ext_shared":         false,
		"is_org_shared":         false,
		"pending_shared":        []string{},
		"is_pending_ext_shared": false,
		"is_member":             ch.isMember(DefaultBotUserID),
		"last_read":             "0000000000.000000",
		"latest":                nil,
		"unread_count":          0,
		"unread_count_display":  0,
		"topic":                 topic,
		"purpose":               purpose,
		"previous_names":        []string{},
		"priority":              0,
		"num_members":           len(ch.members),
	}
}

func (s *Server) conversationsCreate(r *request) result {
	name := r.get("name")
	if code := s.checkNewChannelName(name); code != "" {
		return apiErr(code)
	}
	ch := s.newChannelLocked(name, r.flag("is_private"), DefaultBotUserID)
	ch.members = []string{DefaultBotUserID}
	return success(result{"channel": s.channelJSON(ch)})
}

// inviteError is one entry of conversations.invite's "errors" array, which
// slack-go decodes as ConversationsInviteResponseError.
type inviteError struct {
	User  string `json:"user"`
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

func (s *Server) conversationsInvite(r *request) result {
	ch, code := s.visibleChannelLocked(r.get("channel"))
	if code != "" {
		return apiErr(code)
	}
	if ch.archived {
		return apiErr("is_archived")
	}
	if !ch.isMember(DefaultBotUserID) {
		return apiErr("not_in_channel")
	}
	var users []string
	for _, u := range strings.Split(r.get("users"), ",") {
		if u = strings.TrimSpace(u); u != "" && !slices.Contains(users, u) {
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		return apiErr("no_user")
	}
	var invalid, already []inviteError
	var add []string
	for _, u := range users {
		switch {
		case s.users[u] == nil:
			invalid = append(invalid, inviteError{User: u, Error: "user_not_found"})
		case u == DefaultBotUserID:
			invalid = append(invalid, inviteError{User: u, Error: "cant_invite_self"})
		case ch.isMember(u):
			already = append(already, inviteError{User: u, Error: "already_in_channel"})
		default:
			add = append(add, u)
		}
	}
	// Slack invites nobody if any invitee is invalid, unless force is set.
	if len(invalid) > 0 && (!r.flag("force") || len(add) == 0) {
		res := apiErr(invalid[0].Error)
		res["errors"] = invalid
		return res
	}
	if len(add) == 0 {
		res := apiErr("already_in_channel")
		res["errors"] = already
		return res
	}
	ch.members = append(ch.members, add...)
	return success(result{"channel": s.channelJSON(ch)})
}

func (s *Server) conversationsJoin(r *request) result {
	ch := s.channels[r.get("channel")]
	if ch == nil {
		return apiErr("channel_not_found")
	}
	if ch.private {
		return apiErr("method_not_supported_for_channel_type")
	}
	if ch.archived {
		return apiErr("is_archived")
	}
	if ch.isMember(DefaultBotUserID) {
		res := success(result{"channel": s.channelJSON(ch)})
		addWarning(res, "already_in_channel")
		return res
	}
	ch.members = append(ch.members, DefaultBotUserID)
	return success(result{"channel": s.channelJSON(ch)})
}

func (s *Server) conversationsSetTopic(r *request) result {
	ch, code := s.visibleChannelLocked(r.get("channel"))
	if code != "" {
		return apiErr(code)
	}
	if ch.archived {
		return apiErr("is_archived")
	}
	if !ch.isMember(DefaultBotUserID) {
		return apiErr("not_in_channel")
	}
	topic := r.get("topic")
	if utf8.RuneCountInString(topic) > maxTopicLen {
		return apiErr("too_long")
	}
	ch.topic = topic
	ch.topicCreator = DefaultBotUserID
	ch.topicSet = s.clock()
	text := "set the channel topic: " + topic
	if topic == "" {
		text = "cleared the channel topic"
	}
	ch.messages = append(ch.messages, &message{
		Message: Message{TS: s.nextTSLocked(), Channel: ch.id, User: DefaultBotUserID, Subtype: "channel_topic", Text: text},
		topic:   topic,
	})
	return success(result{"channel": s.channelJSON(ch)})
}

func (s *Server) conversationsInfo(r *request) result {
	ch, code := s.visibleChannelLocked(r.get("channel"))
	if code != "" {
		return apiErr(code)
	}
	return success(result{"channel": s.channelJSON(ch)})
}

func (s *Server) conversationsMembers(r *request) result {
	ch, code := s.visibleChannelLocked(r.get("channel"))
	if code != "" {
		return apiErr(code)
	}
	page, next, code := paginate(ch.members, func(u string) string { return u }, r.get("cursor"), "user:", limitParam(r, 100, 1000))
	if code != "" {
		return apiErr(code)
	}
	return success(result{"members": page, "response_metadata": result{"next_cursor": next}})
}

func (s *Server) conversationsArchive(r *request) result {
	ch, code := s.visibleChannelLocked(r.get("channel"))
	if code != "" {
		return apiErr(code)
	}
	if ch.archived {
		return apiErr("already_archived")
	}
	if !ch.isMember(DefaultBotUserID) {
		return apiErr("not_in_channel")
	}
	ch.archived = true
	return success(nil)
}

func (s *Server) conversationsList(r *request) result {
	types := map[string]bool{"public_channel": true}
	if t := r.get("types"); t != "" {
		types = map[string]bool{}
		for _, ty := range strings.Split(t, ",") {
			types[strings.TrimSpace(ty)] = true
		}
	}
	var list []*channel
	for _, id := range s.channelOrder {
		ch := s.channels[id]
		if ch.archived && r.flag("exclude_archived") {
			continue
		}
		if ch.private && (!types["private_channel"] || !ch.isMember(DefaultBotUserID)) {
			continue
		}
		if !ch.private && !types["public_channel"] {
			continue
		}
		list = append(list, ch)
	}
	page, next, code := paginate(list, func(ch *channel) string { return ch.id }, r.get("cursor"), "id:", limitParam(r, 100, 1000))
	if code != "" {
		return apiErr(code)
	}
	out := make([]result, 0, len(page))
	for _, ch := range page {
		out = append(out, s.channelJSON(ch))
	}
	return success(result{"channels": out, "response_metadata": result{"next_cursor": next}})
}

func (s *Server) conversationsHistory(r *request) result {
	ch, code := s.visibleChannelLocked(r.get("channel"))
	if code != "" {
		return apiErr(code)
	}
	if !ch.isMember(DefaultBotUserID) {
		return apiErr("not_in_channel")
	}
	latest, oldest, errRes := tsRange(r)
	if errRes != nil {
		return errRes
	}
	inclusive := r.flag("inclusive")
	latestIncl := inclusive
	if c := r.get("cursor"); c != "" {
		ts, ok := decodeCursor(c, "next_ts:")
		us, ok2 := parseTS(ts)
		if !ok || !ok2 {
			return apiErr("invalid_cursor")
		}
		if us < latest {
			latest, latestIncl = us, true
		}
	}
	limit := limitParam(r, 100, 999)
	var msgs []result
	hasMore, next := false, ""
	for i := len(ch.messages) - 1; i >= 0; i-- {
		m := ch.messages[i]
		if m.isReply() && m.Subtype != "thread_broadcast" {
			continue // replies live in conversations.replies
		}
		us, _ := parseTS(m.TS)
		if !inRange(us, oldest, latest, inclusive, latestIncl) {
			continue
		}
		if len(msgs) == limit {
			hasMore, next = true, encodeCursor("next_ts:"+m.TS)
			break
		}
		msgs = append(msgs, withMetadata(s.messageJSON(m), r.flag("include_all_metadata")))
	}
	if msgs == nil {
		msgs = []result{}
	}
	return success(result{
		"messages":          msgs,
		"has_more":          hasMore,
		"pin_count":         len(ch.pins),
		"response_metadata": result{"next_cursor": next},
	})
}

// tsRange reads the latest and oldest parameters of conversations.history
// and conversations.replies, in microseconds.
func tsRange(r *request) (latest, oldest int64, errRes result) {
	latest, oldest = int64(1<<62), 0
	if v := r.get("latest"); v != "" {
		us, ok := parseTS(v)
		if !ok {
			return 0, 0, apiErr("invalid_ts_latest")
		}
		latest = us
	}
	if v := r.get("oldest"); v != "" {
		us, ok := parseTS(v)
		if !ok {
			return 0, 0, apiErr("invalid_ts_oldest")
		}
		oldest = us
	}
	return latest, oldest, nil
}

// conversationsReplies returns a thread, oldest first: the parent, then the
// replies between oldest and latest. ts may name the parent or any reply; a
// message without replies is returned alone. Pages after the first (cursor
// set) hold replies only. The limit counts the parent; it defaults to and is
// capped at 1000.
func (s *Server) conversationsReplies(r *request) result {
	ch, code := s.visibleChannelLocked(r.get("channel"))
	if code != "" {
		return apiErr(code)
	}
	if !ch.isMember(DefaultBotUserID) {
		return apiErr("not_in_channel")
	}
	parent := ch.findMessage(r.get("ts"))
	if parent == nil {
		return apiErr("thread_not_found")
	}
	if parent.isReply() {
		if parent = ch.findMessage(parent.ThreadTS); parent == nil {
			return apiErr("thread_not_found")
		}
	}
	latest, oldest, errRes := tsRange(r)
	if errRes != nil {
		return errRes
	}
	inclusive := r.flag("inclusive")
	oldestIncl := inclusive
	first := true
	if c := r.get("cursor"); c != "" {
		ts, ok := decodeCursor(c, "next_ts:")
		us, ok2 := parseTS(ts)
		if !ok || !ok2 {
			return apiErr("invalid_cursor")
		}
		first = false
		if us > oldest {
			oldest, oldestIncl = us, true
		}
	}
	limit := limitParam(r, 1000, 1000)
	msgs := []result{}
	if first {
		msgs = append(msgs, s.messageJSON(parent))
	}
	hasMore, next := false, ""
	for _, m := range ch.messages {
		if !m.isReply() || m.ThreadTS != parent.TS {
			continue
		}
		us, _ := parseTS(m.TS)
		if !inRange(us, oldest, latest, oldestIncl, inclusive) {
			continue
		}
		if len(msgs) >= limit {
			hasMore, next = true, encodeCursor("next_ts:"+m.TS)
			break
		}
		msgs = append(msgs, withMetadata(s.messageJSON(m), r.flag("include_all_metadata")))
	}
	return success(result{
		"messages":          msgs,
		"has_more":          hasMore,
		"response_metadata": result{"next_cursor": next},
	})
}

// inRange reports whether a timestamp lies between oldest and latest, each
// bound included or not.
func inRange(us, oldest, latest int64, oldestIncl, latestIncl bool) bool {
	switch {
	case us < oldest || us > latest:
		return false
	case us == oldest && !oldestIncl, us == latest && !latestIncl:
		return false
	}
	return true
}

// limitParam reads the "limit" parameter: def when absent or invalid,
// clamped to max.
func limitParam(r *request, def, max int) int {
	n, err := strconv.Atoi(r.get("limit"))
	if err != nil || n <= 0 {
		return def
	}
	return min(n, max)
}

// paginate returns one page of items starting at the cursor (which encodes
// prefix + the key of the first item of the page) and the next cursor, ""
// on the last page. An unknown cursor gives invalid_cursor.
func paginate[T any](items []T, key func(T) string, cursor, prefix string, limit int) (page []T, next, code string) {
	start := 0
	if cursor != "" {
		k, ok := decodeCursor(cursor, prefix)
		if !ok {
			return nil, "", "invalid_cursor"
		}
		start = slices.IndexFunc(items, func(it T) bool { return key(it) == k })
		if start < 0 {
			return nil, "", "invalid_cursor"
		}
	}
	end := min(start+limit, len(items))
	if end < len(items) {
		next = encodeCursor(prefix + key(items[end]))
	}
	page = slices.Clone(items[start:end])
	if page == nil {
		page = []T{}
	}
	return page, next, ""
}

// Cursors look like Slack's: base64 of "<kind>:<value>".
func encodeCursor(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func decodeCursor(c, prefix string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return "", false
	}
	return strings.CutPrefix(string(b), prefix)
}

// withMetadata leaves a message's metadata in a history answer only when
// the caller asked for it, as Slack does.
func withMetadata(m result, include bool) result {
	if !include {
		delete(m, "metadata")
	}
	return m
}
