package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/internal/slackpayload"
)

// TestPostmortemRecordedOnceSlackSharesIt: Slack answers the upload's
// completion before the file is in the channel. Sitrep does not record the
// postmortem as published (close stays refused) until Slack shows it; it
// stops and starts again meanwhile, and a second `postmortem` waits for
// the first upload instead of uploading again. When Slack shares the file,
// its file_shared event, or the next `postmortem` (which finds the file in
// the channel with files.info), records the postmortem, once, and close
// goes through.
func TestPostmortemRecordedOnceSlackSharesIt(t *testing.T) {
	for _, by := range []string{"event", "command"} {
		t.Run(by, func(t *testing.T) { recordedOnceShared(t, by) })
	}
}

func recordedOnceShared(t *testing.T, by string) {
	shares := make(chan [2]string, 4)
	fake := slackfake.New(slackfake.WithLateShares(0), slackfake.WithFileShared(func(file, channel string) { shares <- [2]string{file, channel} }))
	t.Cleanup(fake.Close)
	for _, u := range []slackfake.User{{ID: "U1", Name: "ann"}, {ID: "U2", Name: "bob"}} {
		fake.AddUser(u)
	}
	w := &world{fake: fake, general: fake.AddChannel("general", false, "U1", "U2"), announce: fake.AddChannel("incidents", false, "U1"), db: filepath.Join(t.TempDir(), "sitrep.db")}
	sitrep := w.start(t)
	ch := w.declared(t, sitrep).ID
	sitrep.slash(fake, "U1", ch, "resolve Rolled back")
	sitrep.slash(fake, "U1", ch, "postmortem")
	submitForm(t, sitrep, fake, "U1", "postmortem", 1, obj{})
	eventually(t, "the upload completed", func() bool { return len(fake.Calls("files.completeUploadExternal")) == 1 })
	if a, _ := sitrep.slash(fake, "U1", ch, "close"); !strings.Contains(a.Text, "no postmortem") {
		t.Errorf("close before Slack shared the postmortem answered %q", a.Text)
	}
	sitrep.stop()

	sitrep = start(t, fake, testEnv(fake, w.db, "SITREP_ANNOUNCE_CHANNEL", w.announce, "SITREP_LOG_LEVEL", "debug"))
	a, ru := sitrep.slash(fake, "U1", ch, "postmortem")
	if a.Text != "" {
		t.Fatalf("postmortem answered %+v, want its form", a)
	}
	submitForm(t, sitrep, fake, "U1", "postmortem", 2, obj{})
	eventually(t, "told the upload is not in the channel yet", func() bool { return strings.Contains(responses(fake, ru), "is not in the channel yet") },
		func() string { return responses(fake, ru) + sitrep.logs.String() })

	if n := fake.FinishShares(); n != 1 {
		t.Fatalf("FinishShares() = %d, want 1", n)
	}
	e := <-shares
	if e[1] != ch {
		t.Fatalf("shared in %s, want %s", e[1], ch)
	}
	event := func(id string) { sitrep.sendEvent(slackpayload.FileShared(fake, id, e[0], e[1]), 0) }
	switch by {
	case "event":
		event("Ev0SHARED1")
	case "command":
		_, ru := sitrep.slash(fake, "U1", ch, "postmortem")
		submitForm(t, sitrep, fake, "U1", "postmortem", 3, obj{})
		eventually(t, "told the upload is recorded", func() bool {
			return strings.Contains(responses(fake, ru), "is in the channel and recorded as published")
		},
			func() string { return responses(fake, ru) + sitrep.logs.String() })
	}
	eventually(t, "the postmortem on the timeline", func() bool { return onTimeline(sitrep, fake, ch, "Postmortem published") },
		func() string { return sitrep.logs.String() })
	// The event comes (again, or late): the postmortem is recorded once.
	event("Ev0SHARED2")
	eventually(t, "the second event handled", func() bool {
		return strings.Contains(sitrep.logs.String(), "no postmortem upload waits for this file")
	}, func() string { return sitrep.logs.String() })
	if a, _ := sitrep.slash(fake, "U1", ch, "close"); a.Text != "" {
		t.Errorf("close after the share answered %q", a.Text)
	}
	tl, _ := sitrep.slash(fake, "U1", ch, "timeline")
	if n := strings.Count(tl.All(), "Postmortem published"); n != 1 {
		t.Errorf("the timeline has %d postmortems, want one:\n%s", n, tl.All())
	}
	if n := len(fake.Calls("files.getUploadURLExternal")); n != 1 {
		t.Errorf("%d uploads, want one", n)
	}
	if n := len(fake.Files(ch)); n != 1 {
		t.Errorf("%d files in the channel, want one", n)
	}
}

// TestPostmortemRejoinsToShare: removed from the public incident channel,
// Sitrep joins it again to share the postmortem there.
func TestPostmortemRejoinsToShare(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	sitrep := w.start(t)
	ch := w.declared(t, sitrep).ID
	sitrep.slash(fake, "U1", ch, "resolve Rolled back")
	eventually(t, "the resolution in Slack", func() bool { return len(unsynced(t, w.db)) == 0 })
	fake.RemoveMember(ch, fake.BotUserID())
	sitrep.slash(fake, "U1", ch, "postmortem")
	submitForm(t, sitrep, fake, "U1", "postmortem", 1, obj{})
	eventually(t, "the postmortem in the channel", func() bool { return len(fake.Files(ch)) == 1 }, func() string { return sitrep.logs.String() })
	eventually(t, "the postmortem on the timeline", func() bool { return onTimeline(sitrep, fake, ch, "Postmortem published") })
	if n := len(fake.Calls("files.completeUploadExternal")); n != 2 {
		t.Errorf("%d completions, want the refused one (not_in_channel) and the one after joining", n)
	}
	if a, _ := sitrep.slash(fake, "U1", ch, "close"); a.Text != "" {
		t.Errorf("close answered %q", a.Text)
	}
}

// onTimeline reports whether the incident's timeline, as /incident
// timeline shows it, has an entry saying what.
func onTimeline(sitrep *instance, fake *slackfake.Server, channel, what string) bool {
	tl, _ := sitrep.slash(fake, "U1", channel, "timeline")
	return strings.Contains(tl.All(), what)
}
