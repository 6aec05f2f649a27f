package incident

import (
	"context"
	"regexp"
)

// The people on a timeline are user IDs; their names are the chat's. So
// that a postmortem exported without the chat (the command line, years
// later) still names them, each event keeps the names of the people it
// concerns as they were when it happened. The adapter that knows names
// says so for a request with WithNames; the Service asks while recording,
// inside the store's transaction, so the function must answer from what
// it already knows, never by asking the chat.

type namesKey struct{}

// WithNames returns ctx carrying names, which gives the display name of a
// user ID, or "" when it does not know it. Changes made with ctx record
// the names of the people each event concerns.
func WithNames(ctx context.Context, names func(userID string) string) context.Context {
	return context.WithValue(ctx, namesKey{}, names)
}

// mentionRE finds user mentions in chat text: <@U123> and <@U123|label>.
var mentionRE = regexp.MustCompile(`<@([UW][A-Z0-9]+)(?:\|[^>]*)?>`)

// nameEvent sets ev.Names for the people ev concerns: its actor, the
// people its data names, and those its text mentions.
func nameEvent(ctx context.Context, ev *Event) {
	names, _ := ctx.Value(namesKey{}).(func(string) string)
	if names == nil {
		return
	}
	add := func(id string) {
		if id == "" {
			return
		}
		if _, ok := ev.Names[id]; ok {
			return
		}
		if n := names(id); n != "" && n != id {
			if ev.Names == nil {
				ev.Names = map[string]string{}
			}
			ev.Names[id] = n
		}
	}
	add(ev.Actor)
	for _, k := range []string{"user", "previous", "owner", "author"} {
		add(ev.Data[k])
	}
	for _, m := range mentionRE.FindAllStringSubmatch(ev.Text, -1) {
		add(m[1])
	}
}
