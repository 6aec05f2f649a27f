package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// checklistMessage returns the bot message in channel whose text starts
// with "Triage checklist", the newest if there are several.
func checklistMessage(fake *slackfake.Server, channel string) (slackfake.Message, bool) {
	var found slackfake.Message
	ok := false
	for _, m := range fake.Messages(channel) {
		if strings.HasPrefix(m.Text, "Triage checklist") {
			found, ok = m, true
		}
	}
	return found, ok
}

// answer clicks a checklist button as Slack sends it: block_actions on the
// checklist message, action ID checklist_<answer>:<item>, value the item.
func answerItem(t *testing.T, in *instance, user, channel, ts, item, answer string) (answer, string) {
	t.Helper()
	act := button("checklist_"+answer+":"+item, item)
	act["block_id"] = "checklist:" + item
	p, ru := cardAction(t, in.fake, user, channel, ts, act)
	return in.interact(p), ru
}

// TestChecklistToCompletion drives the triage checklist from declaration to
// every item answered, through signed block_actions payloads, over HTTP and
// over Socket Mode.
func TestChecklistToCompletion(t *testing.T) {
	t.Run("http", func(t *testing.T) { checklistWalk(t, (*world).start) })
	t.Run("socket mode", func(t *testing.T) { checklistWalk(t, (*world).startSocket) })
}

func checklistWalk(t *testing.T, startSitrep func(*world, *testing.T) *instance) {
	w := newWorld(t)
	fake := w.fake
	sitrep := startSitrep(w, t)

	sitrep.slash(fake, "U1", w.general, "declare sev2 Search is slow")
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = fake.ChannelByName("inc-1-search-is-slow"); return ok })
	var list slackfake.Message
	eventually(t, "the checklist", func() bool { var ok bool; list, ok = checklistMessage(fake, ch.ID); return ok })
	if got := blockText(list.Blocks); !strings.Contains(got, "0/9 answered") || strings.Contains(got, "customers affected") {
		t.Errorf("a sev2 checklist should have the 9 items for every severity:\n%s", got)
	}
	for _, want := range []string{"Was there a deployment recently?", "Look at the error tracker and the logs"} {
		if !strings.Contains(blockText(list.Blocks), want) {
			t.Errorf("checklist lacks %q", want)
		}
	}
	_, cardText := card(t, fake, ch.ID)
	if !strings.Contains(cardText, "0/9 answered") {
		t.Errorf("card does not show checklist progress:\n%s", cardText)
	}
	listText := func() string { m, _ := fake.Message(ch.ID, list.TS); return blockText(m.Blocks) }

	// A yes with a suggestion posts the suggestion once; the message is
	// updated in place.
	a, _ := answerItem(t, sitrep, "U2", ch.ID, list.TS, "recent-deploy", "yes")
	if a.Status != http.StatusOK {
		t.Fatalf("answer acknowledged with %d", a.Status)
	}
	eventually(t, "the answer in the checklist", func() bool { return strings.Contains(listText(), "1/9 answered") })
	if !strings.Contains(listText(), "<@U2>") {
		t.Errorf("the checklist does not say who answered:\n%s", listText())
	}
	eventually(t, "the suggestion", func() bool { return contains(texts(fake, ch.ID), "Consider rolling back to the previous release") })
	answerItem(t, sitrep, "U2", ch.ID, list.TS, "recent-deploy", "no")
	eventually(t, "the changed answer", func() bool { return strings.Contains(listText(), "_no_") })
	answerItem(t, sitrep, "U1", ch.ID, list.TS, "recent-deploy", "yes")
	eventually(t, "the answer changed back", func() bool { return strings.Contains(listText(), "_yes_ · <@U1>") })

	// Bad input: an item not on the checklist, an answer a task does not
	// take. Each is explained to the person who clicked.
	_, ru := answerItem(t, sitrep, "U3", ch.ID, list.TS, "no-such-item", "yes")
	eventually(t, "the unknown item to be explained", func() bool { return strings.Contains(responses(fake, ru), "has no item") })
	_, ru = answerItem(t, sitrep, "U3", ch.ID, list.TS, "symptoms", "yes")
	eventually(t, "the wrong answer to be explained", func() bool {
		return strings.Contains(responses(fake, ru), `"yes" is not an answer`) && strings.Contains(responses(fake, ru), "done, skipped")
	})

	// Raising the severity adds that severity's items.
	sitrep.slash(fake, "U1", ch.ID, "sev sev1")
	eventually(t, "the sev1 items", func() bool { return strings.Contains(listText(), "1/11 answered") })
	if !strings.Contains(listText(), "Are customers affected?") || !strings.Contains(listText(), "Update the public status page") {
		t.Errorf("raising to sev1 did not add its items:\n%s", listText())
	}
	eventually(t, "the severity message to mention the new items", func() bool { return contains(texts(fake, ch.ID), "2 more items for sev1") })

	// Answer everything.
	answers := map[string]string{
		"symptoms": "done", "total-outage": "no", "infra-change": "no", "schema-change": "unknown", "third-party": "no",
		"errors-and-logs": "done", "customers": "yes", "status-page": "skipped", "time-to-restore": "done", "time-to-fix": "done",
	}
	for item, ans := range answers {
		a, _ := answerItem(t, sitrep, "U1", ch.ID, list.TS, item, ans)
		if a.Status != http.StatusOK {
			t.Fatalf("answering %s: %d", item, a.Status)
		}
	}
	eventually(t, "a complete checklist", func() bool { return strings.Contains(listText(), "11/11 answered") })
	eventually(t, "the card's progress", func() bool { _, c := card(t, fake, ch.ID); return strings.Contains(c, "11/11 answered") })
	suggestions := 0
	for _, m := range texts(fake, ch.ID) {
		if strings.Contains(m, "Consider rolling back") {
			suggestions++
		}
	}
	if suggestions != 1 {
		t.Errorf("the rollback suggestion was posted %d times, want once", suggestions)
	}
	eventually(t, "the customer-success suggestion", func() bool { return contains(texts(fake, ch.ID), "Tell customer success") })

	// /incident checklist brings it to the bottom; the old one points
	// there and has no buttons left.
	a, _ = sitrep.slash(fake, "U1", ch.ID, "checklist")
	if a.Status != http.StatusOK || a.Text != "" {
		t.Errorf("checklist answered %+v, want an empty acknowledgement", a)
	}
	var moved slackfake.Message
	eventually(t, "the checklist at the bottom", func() bool { var ok bool; moved, ok = checklistMessage(fake, ch.ID); return ok && moved.TS != list.TS })
	msgs := fake.Messages(ch.ID)
	if last := msgs[len(msgs)-1]; last.TS != moved.TS {
		t.Errorf("the reposted checklist is not the last message: last is %q", last.Text)
	}
	if !strings.Contains(blockText(moved.Blocks), "11/11 answered") {
		t.Errorf("the reposted checklist lost its answers:\n%s", blockText(moved.Blocks))
	}
	eventually(t, "the old checklist to point to the new one", func() bool { return strings.Contains(listText(), "moved to the bottom") })
	if old, _ := fake.Message(ch.ID, list.TS); strings.Contains(string(old.Blocks), "checklist_") {
		t.Errorf("the old checklist still has buttons: %s", old.Blocks)
	}

	// Every answer is on the timeline with who gave it.
	tl, _ := sitrep.slash(fake, "U3", ch.ID, "timeline")
	for _, want := range []string{"Checklist: Was there a deployment recently? → yes · <@U2>", "Checklist: Was there a deployment recently? → no", "Checklist: Update the public status page → skipped · <@U1>"} {
		if !strings.Contains(tl.All(), want) {
			t.Errorf("timeline lacks %q:\n%s", want, tl.All())
		}
	}
}

// TestFollowUps records follow-ups with and without owners, completes one
// with its Done button, and finds them in the timeline.
func TestFollowUps(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	sitrep := w.start(t)
	sitrep.slash(fake, "U1", w.general, "declare sev2 Search is slow")
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = fake.ChannelByName("inc-1-search-is-slow"); return ok })
	card(t, fake, ch.ID) // the channel is the incident's once the card is up

	for _, tc := range []struct{ text, want string }{
		{"followup", "The follow-up is empty"},
		{"followup <@U2>", "Say what needs doing"},
	} {
		a, _ := sitrep.slash(fake, "U1", ch.ID, tc.text)
		if !strings.Contains(a.Text, tc.want) || !strings.Contains(a.Text, "/incident followup <text> [@owner]") {
			t.Errorf("%q answered %q, want %q and the usage", tc.text, a.Text, tc.want)
		}
	}
	sitrep.slash(fake, "U1", ch.ID, "followup Add a canary stage to the search deploy <@U2|bob>")
	sitrep.slash(fake, "U3", ch.ID, "followup Alert on p99 latency, not the mean")
	eventually(t, "the follow-up announcements", func() bool {
		m := texts(fake, ch.ID)
		return contains(m, "added follow-up 1: Add a canary stage to the search deploy (owner <@U2>)") && contains(m, "added follow-up 2: Alert on p99 latency")
	})
	var list slackfake.Message
	eventually(t, "the follow-ups message", func() bool {
		for _, m := range fake.Messages(ch.ID) {
			if strings.HasPrefix(m.Text, "Follow-ups of") && strings.Contains(blockText(m.Blocks), "0 of 2 done") {
				list = m
				return true
			}
		}
		return false
	})
	posted := 0
	for _, m := range fake.Messages(ch.ID) {
		if strings.HasPrefix(m.Text, "Follow-ups of") {
			posted++
		}
	}
	if posted != 1 {
		t.Errorf("%d follow-ups messages, want one updated in place", posted)
	}

	p, _ := cardAction(t, fake, "U2", ch.ID, list.TS, button("followup_done:1", "1"))
	if a := sitrep.interact(p); a.Status != http.StatusOK {
		t.Fatalf("Done acknowledged with %d", a.Status)
	}
	eventually(t, "the follow-up done", func() bool {
		m, _ := fake.Message(ch.ID, list.TS)
		return strings.Contains(blockText(m.Blocks), "1 of 2 done") && strings.Contains(blockText(m.Blocks), "done by <@U2>")
	})
	p, ru := cardAction(t, fake, "U2", ch.ID, list.TS, button("followup_done:1", "1"))
	sitrep.interact(p)
	eventually(t, "a second Done to be explained", func() bool { return strings.Contains(responses(fake, ru), "already done") })

	tl, _ := sitrep.slash(fake, "U1", ch.ID, "timeline")
	for _, want := range []string{"Follow-up: Add a canary stage to the search deploy (owner <@U2>)", "Follow-up done: Add a canary stage", "*Follow-ups*", "2. Alert on p99 latency, not the mean"} {
		if !strings.Contains(tl.All(), want) {
			t.Errorf("timeline lacks %q:\n%s", want, tl.All())
		}
	}
}
