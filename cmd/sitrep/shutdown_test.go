package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// TestShutdownFinishesAcknowledgedWork stops the program while Slack is
// slow to create a declared incident's channel: the program must wait for
// that work and report to the user before it exits.
func TestShutdownFinishesAcknowledgedWork(t *testing.T) {
	w := newWorld(t)
	w.fake.Fail("conversations.create", slackfake.Failure{Delay: 300 * time.Millisecond, Times: 1})
	sitrep := w.start(t)
	a, ru := sitrep.slash(w.fake, "U1", w.general, "declare sev1 Shutdown during declare")
	if a.Status != http.StatusOK || !strings.Contains(a.Text, "#1") {
		t.Fatalf("declare answered %+v", a)
	}
	sitrep.stop() // returns only once the program has exited
	ch := mustChannel(t, w.fake, "inc-1-shutdown-during-declare")
	if len(w.fake.Pins(ch.ID)) != 1 || !strings.Contains(responses(w.fake, ru), "is open in") {
		t.Errorf("the program exited before finishing: pins %v, told %q", w.fake.Pins(ch.ID), responses(w.fake, ru))
	}
	if !strings.Contains(sitrep.logs.String(), "finishing in-flight work") {
		t.Error("shutdown was not logged")
	}
}
