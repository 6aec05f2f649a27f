package main

import (
	"net/http"
	"testing"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// TestReplyReachesTheDeclarerWhereSitrepIsNot: /incident declare typed in
// a channel Sitrep is not in, with the response_url refusing the late
// reply (under HTTP 200 with ok false, or under an HTTP error): Slack will
// not show Sitrep's ephemeral message there either, so the declarer is
// told in a direct message where the incident is.
func TestReplyReachesTheDeclarerWhereSitrepIsNot(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail slackfake.Failure
	}{
		{"ok false", slackfake.Failure{Error: "expired_url"}},
		{"HTTP error", slackfake.Failure{Status: http.StatusNotFound, Error: "invalid_url"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			fake := w.fake
			sitrep := w.start(t)
			fake.Fail(slackfake.ResponseURLMethod, tc.fail)
			ch := w.declared(t, sitrep) // declared as U1 in #general

			eventually(t, "the declarer told in a direct message", func() bool {
				dm, ok := fake.DM("U1")
				return ok && contains(texts(fake, dm), "Incident #1 is open in <#"+ch.ID+">")
			}, func() string { return sitrep.logs.String() })
			if c, _ := fake.Channel(w.general); isMember(c, fake.BotUserID()) {
				t.Error("Sitrep joined the channel the command was typed in")
			}
			if n := len(fake.Calls("chat.postEphemeral")); n == 0 {
				t.Error("no ephemeral message was tried before the direct message")
			}
			if n := len(fake.Calls(slackfake.ResponseURLMethod)); n == 0 {
				t.Error("the response_url was not tried first")
			}
		})
	}
}
