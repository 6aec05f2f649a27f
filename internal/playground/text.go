package playground

import (
	"regexp"
	"strings"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/internal/slacktext"
)

// mentionRE finds @name and #channel as people type them.
var mentionRE = regexp.MustCompile(`(^|[\s(])([@#])([a-z0-9][a-z0-9._-]*)`)

// escapeTyped turns what a person typed into what Slack sends and stores:
// &, < and > escaped, @name of a workspace member as <@U…|name>, and
// #channel as <#C…|channel> (the manifest's should_escape: true). Names
// nobody has stay as typed, as in Slack.
func escapeTyped(text string, fake *slackfake.Server) string {
	text = slacktext.Escape(text)
	users := map[string]string{}
	for _, u := range fake.Users() {
		users[u.Name] = u.ID
	}
	return mentionRE.ReplaceAllStringFunc(text, func(m string) string {
		sm := mentionRE.FindStringSubmatch(m)
		before, sigil, name := sm[1], sm[2], strings.TrimRight(sm[3], "._-")
		rest := sm[3][len(name):]
		if sigil == "@" {
			if name == "here" || name == "channel" || name == "everyone" {
				return before + "<!" + name + ">" + rest
			}
			if id, ok := users[name]; ok {
				return before + "<@" + id + "|" + name + ">" + rest
			}
			return m
		}
		if ch, ok := fake.ChannelByName(name); ok {
			return before + "<#" + ch.ID + "|" + name + ">" + rest
		}
		return m
	})
}
