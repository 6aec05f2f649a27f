package bot

import (
	"regexp"
	"strings"

	"github.com/sitrep-dev/sitrep/internal/slacktext"
)

// User text is stored as Slack sends it in slash commands: mrkdwn, with &, <
// and > escaped as entities and mentions and links in angle brackets
// (<@U123|bob>, <#C1|general>, <https://x|label>, <!here>). Text from other
// sources (modal inputs) must be brought to the same form before it reaches
// the domain. Renderers then need two operations: defuse for mrkdwn, plain
// for places that show no formatting.

// defuse keeps people's mentions and links in text they wrote but stops
// broadcast mentions (<!channel>, <!here>, <!everyone>, <!subteam^…>) from
// being re-posted by the bot, which would let anyone ping whole channels
// through Sitrep whatever the workspace allows them.
func defuse(s string) string { return strings.ReplaceAll(s, "<!", "&lt;!") }

// markupRE matches Slack's angle-bracket markup: <@U1|bob>, <#C1|x>, <!here>,
// <https://x|label>, with the optional label after a pipe.
var markupRE = regexp.MustCompile(`<([^<>|]*)(?:\|([^<>]*))?>`)

// plain turns mrkdwn into what a person would read: mentions and links by
// their labels, entities decoded. It is for plain_text fields, channel
// topics (which Slack shows unformatted) and channel names.
func plain(s string) string {
	s = markupRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := markupRE.FindStringSubmatch(m)
		target, label := sub[1], sub[2]
		switch {
		case strings.HasPrefix(target, "@"):
			if label != "" {
				return "@" + label
			}
			return target
		case strings.HasPrefix(target, "#"):
			if label != "" {
				return "#" + label
			}
			return target
		case strings.HasPrefix(target, "!"):
			name, _, _ := strings.Cut(strings.TrimPrefix(target, "!"), "^")
			if label != "" {
				return label
			}
			return "@" + name
		case label != "":
			return label
		}
		return target
	})
	return slacktext.Unescape(s)
}
