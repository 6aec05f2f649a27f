// Package slacktier says how often Slack lets an app call each Web API
// method, as Slack documents it: limits apply per method, per app, per
// workspace, in tiers (https://api.slack.com/apis/rate-limits, and the
// "Rate limits" line of each method's page). chat.postMessage is special:
// about one message a second to a channel, with short bursts allowed.
//
// Both sides read this one table: the fake Slack enforces it and Sitrep
// paces its calls to it, so a test that passes shows Sitrep keeps to what
// Slack documents. Slack states only floors ("20+ per minute"), so the
// fake refusing at the floor is stricter than Slack, never laxer.
package slacktier

import "time"

// Tier is a Web API rate-limit tier.
type Tier int

// Slack's tiers. Special methods have limits of their own (chat.postMessage
// is paced per channel: see PostEvery).
const (
	Unlimited Tier = iota // not rate limited in a way an app meets (auth.test)
	Tier1                 // 1+ per minute
	Tier2                 // 20+ per minute
	Tier3                 // 50+ per minute
	Tier4                 // 100+ per minute
	Special
)

// PerMinute is how many calls a minute the tier allows.
func (t Tier) PerMinute() int {
	switch t {
	case Tier1:
		return 1
	case Tier2:
		return 20
	case Tier3:
		return 50
	case Tier4:
		return 100
	}
	return 0
}

// tiers are the methods Sitrep calls, with the tier each method's page
// gives. A method not listed here is treated as Tier 2, Slack's most common
// tier, so that a new call is paced until someone looks it up.
var tiers = map[string]Tier{
	"auth.test": Special, // "hundreds of requests per minute"
	// Tier 1 on its page; a Socket Mode client opens one connection at
	// start and on reconnects, which slack-go spaces out itself, so it is
	// not paced here.
	"apps.connections.open":        Special,
	"conversations.create":         Tier2,
	"conversations.setTopic":       Tier2,
	"conversations.archive":        Tier2,
	"conversations.list":           Tier2,
	"pins.add":                     Tier2,
	"pins.list":                    Tier2,
	"conversations.invite":         Tier3,
	"conversations.join":           Tier3,
	"conversations.info":           Tier3,
	"conversations.history":        Tier3,
	"conversations.replies":        Tier3,
	"conversations.open":           Tier3,
	"chat.update":                  Tier3,
	"conversations.members":        Tier4,
	"chat.postEphemeral":           Tier4,
	"chat.getPermalink":            Tier4, // listed as Special; Tier 4 in practice
	"views.open":                   Tier4,
	"views.push":                   Tier4,
	"views.update":                 Tier4,
	"views.publish":                Tier4,
	"users.info":                   Tier4,
	"files.info":                   Tier4,
	"files.getUploadURLExternal":   Tier4,
	"files.completeUploadExternal": Tier4,
	"chat.postMessage":             Special,
}

// Of returns method's tier.
func Of(method string) Tier {
	if t, ok := tiers[method]; ok {
		return t
	}
	return Tier2
}

// Every returns the steady interval between calls to method that its tier
// allows, or 0 when the tier has no per-minute figure (Special and
// Unlimited methods).
func Every(method string) time.Duration {
	n := Of(method).PerMinute()
	if n == 0 {
		return 0
	}
	return time.Minute / time.Duration(n)
}

// PostEvery is chat.postMessage's pace to one channel: "generally one
// message per second per channel", with short bursts beyond it allowed but,
// in Slack's words, with "no guarantee that messages will be stored or
// shown" when they come faster.
const PostEvery = time.Second

// PostBurst is the most posts to one channel the fake Slack takes at once
// before it answers 429. Slack does not say how long a burst may be; ten
// is generous, and Sitrep keeps well under it (see bot's pacer).
const PostBurst = 10
