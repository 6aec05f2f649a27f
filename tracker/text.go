package tracker

import (
	"regexp"
	"strings"

	"github.com/sitrep-dev/sitrep/internal/slacktext"
)

// slackToken is one piece of Slack's markup: <@U1>, <#C1|name>,
// <!here>, <https://…|label>, <https://…>.
var slackToken = regexp.MustCompile(`<([^<>\n]+)>`)

// Plain is Slack text as plain text, for titles and trackers that take no
// markup: people by name, channels by name, links by their label (or
// address), Slack's entities decoded. Emphasis marks are left: they read
// as they were typed.
func Plain(s string, name func(userID string) string) string {
	s = slackToken.ReplaceAllStringFunc(s, func(tok string) string {
		in := tok[1 : len(tok)-1]
		target, label, hasLabel := strings.Cut(in, "|")
		switch {
		case strings.HasPrefix(target, "@"):
			if n := name(target[1:]); n != "" {
				return "@" + n
			}
			if hasLabel {
				return "@" + label
			}
			return target
		case strings.HasPrefix(target, "#"):
			if hasLabel {
				return "#" + label
			}
			return target
		case strings.HasPrefix(target, "!"):
			if hasLabel {
				return label
			}
			return "@" + strings.TrimPrefix(target, "!")
		case hasLabel && label != "":
			return label + " (" + target + ")"
		}
		return target
	})
	return slacktext.Unescape(s)
}
