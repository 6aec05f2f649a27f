package main

import (
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/internal/slackpayload"
)

// TestHomeTab declares an incident from the Home tab's button and checks
// what the tab lists: open incidents, then the latest resolved and closed
// ones newest first with their channels, each private one only to those
// in its channel.
func TestHomeTab(t *testing.T) {
	w := newWorld(t)
	fake := w.fake
	sitrep := w.start(t)
	home := func(user string, want ...string) string {
		t.Helper()
		before, _ := fake.HomeView(user)
		sitrep.sendEvent(homeOpened(t, fake, "EvH-"+user+"-"+strings.Join(want, ","), user), 0)
		var text string
		eventually(t, "the Home tab of "+user, func() bool {
			v, ok := fake.HomeView(user)
			text = blockText(v.Blocks)
			for _, s := range want {
				if !strings.Contains(text, s) {
					return false
				}
			}
			return ok && v.Hash != before.Hash
		}, func() string { return text })
		return text
	}

	// The Declare button opens the form; the new incident shows on the tab.
	home("U1", "Declare an incident", "No open incidents")
	v, _ := fake.HomeView("U1")
	views := len(fake.Views())
	sitrep.interact(slackpayload.ViewAction(fake, "U1", v, obj{"action_id": "home_declare", "block_id": "home_actions", "type": "button", "value": "declare",
		"text": obj{"type": "plain_text", "text": "Declare an incident"}, "action_ts": "1605853645.582706"}))
	var form slackfake.View
	eventually(t, "the declare form", func() bool {
		vs := fake.Views()
		if len(vs) > views && vs[len(vs)-1].CallbackID == "declare" {
			form = vs[len(vs)-1]
			return true
		}
		return false
	})
	a := sitrep.interact(submission(t, fake, "U1", form, obj{
		"title": obj{"title": textValue("Payroll data exposed")}, "severity": obj{"severity": optionValue("sev1")}, "flags": obj{"flags": checkboxValues("private")},
	}))
	if a.ResponseAction != "" {
		t.Fatalf("declare form answered %+v", a)
	}
	eventually(t, "the private channel", func() bool {
		c, ok := fake.ChannelByName("inc-1-payroll-data-exposed")
		return ok && len(fake.Pins(c.ID)) == 1
	})
	priv := mustChannel(t, fake, "inc-1-payroll-data-exposed")
	var text string
	eventually(t, "the Home tab with the new incident", func() bool {
		v, _ := fake.HomeView("U1")
		text = blockText(v.Blocks)
		return strings.Contains(text, "#1 Payroll data exposed") && strings.Contains(text, "<#"+priv.ID+">")
	}, func() string { return text })

	// Two public incidents run their course: #2 is closed, #3 resolved.
	for _, title := range []string{"Cache cold", "Search slow"} {
		_, ru := sitrep.slash(fake, "U1", w.general, "declare sev2 "+title)
		eventually(t, title+"'s channel", func() bool { return strings.Contains(responses(fake, ru), "is open in") })
	}
	cache := mustChannel(t, fake, "inc-2-cache-cold").ID
	sitrep.slash(fake, "U1", cache, "resolve Warmed up")
	sitrep.slash(fake, "U1", cache, "postmortem")
	submitForm(t, sitrep, fake, "U1", "postmortem", 1, obj{})
	eventually(t, "the postmortem", func() bool { return len(fake.Files(cache)) == 1 })
	eventually(t, "the close", func() bool {
		a, _ := sitrep.slash(fake, "U1", cache, "close")
		return a.Text == "" || strings.Contains(a.Text, "is closed")
	})
	search := mustChannel(t, fake, "inc-3-search-slow").ID
	sitrep.slash(fake, "U1", search, "resolve Reindexed")
	sitrep.slash(fake, "U1", priv.ID, "resolve Access revoked")
	eventually(t, "everything in Slack", func() bool { return len(unsynced(t, w.db)) == 0 })

	for user, private := range map[string]bool{"U1": true, "U3": false} {
		text := home(user, "Open incidents (0)", "Recently resolved and closed")
		i1, i2, i3 := strings.Index(text, "#1 Payroll"), strings.Index(text, "#2 Cache cold"), strings.Index(text, "#3 Search slow")
		if i2 < 0 || i3 < 0 || i3 > i2 {
			t.Errorf("Home tab of %s does not list #3 then #2:\n%s", user, text)
		}
		if (i1 >= 0) != private {
			t.Errorf("Home tab of %s shows the private incident: %v, want %v\n%s", user, i1 >= 0, private, text)
		}
		for _, want := range []string{"closed · <#" + cache + ">", "<#" + search + "> · resolved", "postmortem due", "postmortem <https://fake.slack.com/files/"} {
			if !strings.Contains(text, want) {
				t.Errorf("Home tab of %s lacks %q:\n%s", user, want, text)
			}
		}
	}
}
