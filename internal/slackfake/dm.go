package slackfake

import (
	"fmt"
	"strings"
)

// Direct messages: conversations.open with one user opens (or finds) the
// direct message between the bot and that user, a "D…" conversation that
// chat.postMessage can post to. DMs are conversations, not channels: they
// are not listed by Channels or conversations.list, and DM finds them.
// Multi-person DMs (several users) are not served: the call answers
// not_implemented.

// DM returns the ID of the direct message between the bot and userID, if
// one was opened.
func (s *Server) DM(userID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.dms[userID]
	return id, ok
}

func (s *Server) conversationsOpen(r *request) result {
	if r.get("channel") != "" {
		ch := s.channels[r.get("channel")]
		if ch == nil || !ch.im {
			return apiErr("channel_not_found")
		}
		return success(result{"no_op": true, "already_open": true, "channel": result{"id": ch.id}})
	}
	var users []string
	for u := range strings.SplitSeq(r.get("users"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			users = append(users, u)
		}
	}
	switch {
	case len(users) == 0:
		return apiErr("users_list_not_supplied")
	case len(users) > 1:
		return apiErr("not_implemented") // the fake serves one-to-one DMs only
	}
	u := s.users[users[0]]
	if u == nil {
		return apiErr("user_not_found")
	}
	if id, ok := s.dms[u.ID]; ok {
		return success(result{"no_op": true, "already_open": true, "channel": result{"id": id}})
	}
	s.nextDM++
	ch := &channel{
		id:      fmt.Sprintf("D%08d", s.nextDM),
		private: true,
		im:      true,
		creator: DefaultBotUserID,
		created: s.clock(),
		members: []string{DefaultBotUserID, u.ID},
	}
	s.channels[ch.id] = ch
	s.dms[u.ID] = ch.id
	return success(result{"channel": result{"id": ch.id}})
}
