package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// TestPostmortemAndClose publishes a postmortem to the incident channel,
// twice, and closes the incident, archiving its channel as configured.
func TestPostmortemAndClose(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	fake.AddUser(slackfake.User{ID: "U9", Name: "dana", RealName: "Dana Scully"})
	cfg := filepath.Join(t.TempDir(), "sitrep.yaml")
	os.WriteFile(cfg, []byte("archive_on_close: true\ntime_zone: Europe/Berlin\n"), 0o600)
	sitrep := start(t, fake, testEnv(fake, w.db, "SITREP_ANNOUNCE_CHANNEL", w.announce, "SITREP_CONFIG", cfg))

	_, ru := sitrep.slash(fake, "U1", w.general, "declare sev1 Checkout | failing")
	eventually(t, "the channel", func() bool { return strings.Contains(responses(fake, ru), "is open in") })
	ch := mustChannel(t, fake, "inc-1-checkout-failing").ID
	sitrep.slash(fake, "U1", ch, "lead <@U9|dana>")
	sitrep.slash(fake, "U9", ch, "note Rolled back `deploy 42` | see <https://runbook.example.com|runbook>")

	a, _ := sitrep.slash(fake, "U9", ch, "close")
	if !strings.Contains(a.Text, "resolve it, publish its postmortem, then close it") {
		t.Errorf("closing an open incident answered %q", a.Text)
	}
	sitrep.slash(fake, "U9", ch, "resolve Rolled back")
	a, _ = sitrep.slash(fake, "U9", ch, "close")
	if !strings.Contains(a.Text, "no postmortem since it was last resolved") {
		t.Errorf("closing without a postmortem answered %q", a.Text)
	}

	for version := 1; version <= 2; version++ {
		a, _ = sitrep.slash(fake, "U9", ch, "postmortem")
		if !strings.Contains(a.Text, "Writing the postmortem of incident #1") {
			t.Fatalf("postmortem answered %+v", a)
		}
		eventually(t, "the uploaded postmortem", func() bool { return len(fake.Files(ch)) == version })
		// Recorded once Slack shows it in the channel, a moment later.
		eventually(t, "the postmortem recorded", func() bool {
			tl, _ := sitrep.slash(fake, "U1", ch, "timeline")
			return strings.Count(tl.All(), "Postmortem published") == version
		})
	}
	files := fake.Files(ch)
	md := string(files[1].Content)
	if files[0].ID == files[1].ID || files[1].Name != "incident-1-postmortem.md" {
		t.Errorf("uploads: %+v", files)
	}
	for _, want := range []string{
		"# Incident #1: Checkout \\| failing",
		"**Commander:** Dana Scully",
		"| Time | Event | Who |",
		"Rolled back \\`deploy 42\\` \\| see [runbook](https://runbook.example.com)",
		"CET", // the configured zone beside UTC
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the postmortem lacks %q:\n%s", want, md)
		}
	}
	shared := false
	for _, m := range fake.Messages(ch) {
		shared = shared || (m.Subtype == "file_share" && strings.Contains(m.Text, "Postmortem of incident #1, written from"))
	}
	if !shared {
		t.Error("the upload carries no summary")
	}

	a, _ = sitrep.slash(fake, "U9", ch, "close")
	if a.Text != "" {
		t.Fatalf("close answered %+v", a)
	}
	eventually(t, "the channel to be archived", func() bool { c, _ := fake.Channel(ch); return c.Archived })
	if !contains(texts(fake, ch), "closed incident #1") {
		t.Error("closing was not said in the channel before archiving")
	}
	tl, _ := sitrep.slash(fake, "U1", ch, "timeline")
	checkTimeline(t, tl.All(), []string{"Resolved: Rolled back", "Postmortem published", "Postmortem published", "Closed · <@U9>"})
	deadline := time.Now().Add(5 * time.Second)
	for len(unsynced(t, w.db)) != 0 {
		if time.Now().After(deadline) {
			db, _ := sqlite.Open(context.Background(), w.db)
			inc, _ := db.Get(context.Background(), 1)
			evs, _ := db.Events(context.Background(), inc.ID, 0)
			d, _ := db.Delivery(context.Background(), "slack", inc.ID)
			t.Fatalf("not delivered: %+v delivery %+v %s last seq %d\n%s", inc.Version, d, d.State, evs[len(evs)-1].Seq, sitrep.logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
