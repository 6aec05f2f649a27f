package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// TestChangeMadeElsewhereReachesSlack declares and changes an incident
// through the service in another process on the same database, without
// the bot, as an alert webhook or the command line will: the running
// Sitrep shows it in Slack without a restart. The incident was declared
// for a source, so nobody commands it until someone takes command from
// the card.
func TestChangeMadeElsewhereReachesSlack(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	fake := w.fake
	sitrep := w.start(t)

	db, err := sqlite.Open(context.Background(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	other := incident.NewService(db, incident.DefaultConfig(), time.Now)
	inc, err := other.Declare(context.Background(), incident.Declaration{Title: "Disk full on db-1", Severity: "sev2", Source: "alertmanager"})
	if err != nil {
		t.Fatal(err)
	}

	var ch string
	eventually(t, "the incident channel", func() bool {
		c, ok := fake.ChannelByName("inc-1-disk-full-on-db-1")
		ch = c.ID
		return ok
	})
	cardTS, text := card(t, fake, ch)
	for _, want := range []string{"_nobody yet: take command_", "Take command", "Declared by Sitrep for Alertmanager"} {
		if !strings.Contains(text, want) {
			t.Errorf("the card lacks %q:\n%s", want, text)
		}
	}
	eventually(t, "the announcement", func() bool {
		return contains(texts(fake, w.announce), "declared as *sev2* (Moderate: degraded service or a workaround exists) by Sitrep for Alertmanager")
	}, func() string { return strings.Join(texts(fake, w.announce), "\n") })

	if _, err := other.AddNote(context.Background(), inc.Number, "U2", "db-1 at 100% since 09:12"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the note from elsewhere in the channel", func() bool { return contains(texts(fake, ch), "db-1 at 100% since 09:12") })

	p, _ := cardAction(t, fake, "U1", ch, cardTS, button("card_take_command", "1"))
	sitrep.interact(p)
	eventually(t, "U1 in command on the card", func() bool { _, text := card(t, fake, ch); return strings.Contains(text, "*Commander*\n<@U1>") })
	eventually(t, "the new commander invited to the channel", func() bool { c, _ := fake.Channel(ch); return isMember(c, "U1") })
	// The button is gone from the card now; one clicked on a stale copy
	// is told who has command.
	p, ru := cardAction(t, fake, "U2", ch, cardTS, button("card_take_command", "1"))
	sitrep.interact(p)
	eventually(t, "the second taker told", func() bool { return strings.Contains(responses(fake, ru), "already has a commander (<@U1>)") },
		func() string { return responses(fake, ru) })
	if got, _ := other.Get(context.Background(), inc.Number); got.Commander() != "U1" {
		t.Errorf("commander %q, want U1", got.Commander())
	}
}
