package slackfake

import (
	"slices"
	"strings"

	"github.com/sitrep-dev/sitrep"
)

// WithScopes sets the bot token's scopes (default: the bot scopes of
// Sitrep's manifest.yaml, sitrep.BotScopes). A Web API call that needs a
// scope the token lacks answers missing_scope, as Slack does, with the
// scope needed and the scopes provided.
func WithScopes(scopes ...string) Option {
	return func(s *Server) { s.scopes = slices.Clone(scopes) }
}

// manifestScopes are the bot scopes of manifest.yaml.
func manifestScopes() []string {
	scopes, err := sitrep.BotScopes()
	if err != nil {
		panic("slackfake: " + err.Error()) // the manifest is embedded: a broken one is a broken build
	}
	return scopes
}

// Scopes returns the bot token's scopes.
func (s *Server) Scopes() []string { return slices.Clone(s.scopes) }

// neededScopeLocked returns the bot token scope a Web API call needs, or ""
// when it needs none or its channel is unknown (the method then answers
// channel_not_found). The table follows each method's documented bot
// scopes; where a method takes a scope per conversation type, the channel
// named by the call decides: a public channel needs the channels: scope, a
// private one the groups: scope, a direct message the im: scope.
func (s *Server) neededScopeLocked(r *request) string {
	byType := func(ref, public, private, im string) string {
		ch := s.channels[ref]
		switch {
		case ch == nil:
			return ""
		case ch.im:
			return im
		case ch.private:
			return private
		}
		return public
	}
	channel := r.get("channel")
	switch r.method {
	case "users.info":
		return "users:read"
	case "conversations.create":
		if r.flag("is_private") {
			return "groups:write"
		}
		return "channels:manage"
	case "conversations.invite", "conversations.setTopic", "conversations.archive":
		return byType(channel, "channels:manage", "groups:write", "im:write")
	case "conversations.join":
		return "channels:join"
	case "conversations.info", "conversations.members":
		return byType(channel, "channels:read", "groups:read", "im:read")
	case "conversations.history", "conversations.replies":
		return byType(channel, "channels:history", "groups:history", "im:history")
	case "conversations.list":
		types := r.get("types")
		if types == "" {
			types = "public_channel"
		}
		for t := range strings.SplitSeq(types, ",") {
			need := map[string]string{"public_channel": "channels:read", "private_channel": "groups:read", "im": "im:read", "mpim": "mpim:read"}[strings.TrimSpace(t)]
			if need != "" && !slices.Contains(s.scopes, need) {
				return need
			}
		}
		return ""
	case "conversations.open":
		return "im:write"
	case "chat.postMessage", "chat.update", "chat.postEphemeral":
		return "chat:write"
	case "pins.add":
		return "pins:write"
	case "pins.list":
		return "pins:read"
	case "files.getUploadURLExternal", "files.completeUploadExternal":
		return "files:write"
	case "files.info":
		return "files:read"
	}
	// auth.test, chat.getPermalink and views.* need no scope;
	// apps.connections.open takes the app-level token.
	return ""
}

// missingScope is Slack's answer to a call the token lacks a scope for.
func (s *Server) missingScope(needed string) result {
	res := apiErr("missing_scope")
	res["needed"] = needed
	res["provided"] = strings.Join(s.scopes, ",")
	return res
}
