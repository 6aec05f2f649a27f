// Package slacktext is how Slack escapes message text: &, < and > become
// &amp;, &lt; and &gt;, and no other entity is used. The Slack adapter, the
// postmortem writer and the playground all need it, and none of them may
// import another for it, so it lives here, once.
package slacktext

import "strings"

// Replacers are safe for concurrent use and never change.
var (
	escaper   = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	unescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")
)

// Escape turns text as a person typed it into text as Slack sends and
// stores it, with its three entities. Markup is not added: "<@U1>" typed
// by hand stays text.
func Escape(s string) string { return escaper.Replace(s) }

// Unescape decodes Slack's three entities in one pass, so that "&amp;lt;"
// reads "&lt;". Any other & is left as it is.
func Unescape(s string) string {
	if strings.IndexByte(s, '&') < 0 {
		return s
	}
	return unescaper.Replace(s)
}
