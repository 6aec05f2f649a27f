package main

import (
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/internal/slackpayload"
)

// TestPrivateMembershipKept: who may see a private incident follows
// Slack's join and leave events, and listing incidents does not ask Slack
// who is in the channel each time.
func TestPrivateMembershipKept(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	fake := w.fake
	sitrep := w.start(t)
	sitrep.slash(fake, "U1", w.general, "declare")
	var form slackfake.View
	eventually(t, "the declare form", func() bool {
		for _, v := range fake.Views() {
			if v.CallbackID == "declare" {
				form = v
				return true
			}
		}
		return false
	})
	if a := sitrep.interact(submission(t, fake, "U1", form, obj{
		"title": obj{"title": textValue("Payroll data exposed")}, "severity": obj{"severity": optionValue("sev2")}, "flags": obj{"flags": checkboxValues("private")},
	})); a.ResponseAction != "" {
		t.Fatalf("declare form answered %+v", a)
	}
	eventually(t, "the private channel", func() bool {
		c, ok := fake.ChannelByName("inc-1-payroll-data-exposed")
		return ok && len(fake.Pins(c.ID)) == 1
	})
	priv := mustChannel(t, fake, "inc-1-payroll-data-exposed")
	sees := func(user string) bool {
		t.Helper()
		a, _ := sitrep.slash(fake, user, w.general, "list")
		return strings.Contains(a.All(), "Payroll")
	}
	if !sees("U1") || sees("U2") {
		t.Fatal("before anyone joins: want U1 (invited) to see it and U2 not")
	}
	asked := len(fake.Calls("conversations.members"))

	fake.AddMember(priv.ID, "U2")
	sitrep.sendEvent(slackpayload.Membership(fake, "Ev-join-U2", "U2", priv.ID, true), 0)
	if !sees("U2") {
		t.Error("U2 joined the channel and still does not see the incident")
	}
	fake.RemoveMember(priv.ID, "U2")
	sitrep.sendEvent(slackpayload.Membership(fake, "Ev-left-U2", "U2", priv.ID, false), 0)
	if sees("U2") {
		t.Error("U2 left the channel and still sees the incident")
	}
	for range 5 {
		sees("U2")
		sees("U3")
	}
	if n := len(fake.Calls("conversations.members")); n != asked {
		t.Errorf("listing asked Slack for the channel's members %d more times; membership should be known", n-asked)
	}
}
