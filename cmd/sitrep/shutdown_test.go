package main

import (
	"context"
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

// TestSocketShutdownAcknowledgesRequestsUnderWay stops the program while a
// Socket Mode request is being handled (Slack is slow to open a form): the
// request must still be acknowledged before the connection closes.
func TestSocketShutdownAcknowledgesRequestsUnderWay(t *testing.T) {
	w := newWorld(t)
	w.fake.Fail("views.open", slackfake.Failure{Delay: 500 * time.Millisecond, Times: 1})
	sitrep := w.startSocket(t)
	acked := make(chan error, 1)
	go func() {
		payload := []byte(`{"user_id":"U1","channel_id":"` + w.general + `","text":"declare","command":"/incident","trigger_id":"` + w.fake.NewTriggerIDFor("U1") + `","response_url":"` + w.fake.NewResponseURL() + `"}`)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := w.fake.SocketSend(ctx, "slash_commands", payload, true)
		acked <- err
	}()
	eventually(t, "the form to be requested", func() bool { return len(w.fake.Calls("views.open")) == 1 })
	sitrep.stop()
	if err := <-acked; err != nil {
		t.Fatalf("the request under way at shutdown was not acknowledged: %v\n%s", err, sitrep.logs)
	}
	if len(w.fake.Views()) != 1 {
		t.Error("the form was not opened")
	}
}
