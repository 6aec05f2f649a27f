package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// nthView waits for the nth (from 1) modal with callbackID and returns it:
// a form opened again is a new view.
func nthView(t *testing.T, fake *slackfake.Server, callbackID string, n int) slackfake.View {
	t.Helper()
	var view slackfake.View
	eventually(t, "the "+callbackID+" form to open", func() bool {
		seen := 0
		for _, v := range fake.Views() {
			if v.CallbackID == callbackID {
				if seen++; seen == n {
					view = v
					return true
				}
			}
		}
		return false
	})
	return view
}

// initialValues are a form's prefilled texts, by block ID.
func initialValues(t *testing.T, v slackfake.View) map[string]string {
	t.Helper()
	var blocks []struct {
		BlockID string `json:"block_id"`
		Element struct {
			InitialValue string `json:"initial_value"`
		} `json:"element"`
	}
	if err := json.Unmarshal(v.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, b := range blocks {
		out[b.BlockID] = b.Element.InitialValue
	}
	return out
}

// TestPostmortemFromSlack runs an incident as a team would, typed as the
// README shows and through the forms, and checks that the postmortem made
// from Slack alone has every section filled, reads Slack's markup as
// Markdown, and names people (in Slack and from the database alone). On
// the way, a postmortem of the open incident is a draft that does not let
// it be closed.
func TestPostmortemFromSlack(t *testing.T) {
	fake := slackfake.New()
	t.Cleanup(fake.Close)
	fake.AddUser(slackfake.User{ID: "U0ALICE", Name: "alice", RealName: "Alice Adams"})
	fake.AddUser(slackfake.User{ID: "U0BOB", Name: "bob", RealName: "Bob Brown"})
	general := fake.AddChannel("general", false, "U0ALICE", "U0BOB")
	db := filepath.Join(t.TempDir(), "sitrep.db")
	sitrep := start(t, fake, testEnv(fake, db))

	_, ru := sitrep.slash(fake, "U0ALICE", general, "declare sev1 Checkout failing")
	eventually(t, "the channel", func() bool { return strings.Contains(responses(fake, ru), "is open in") })
	ch := mustChannel(t, fake, "inc-1-checkout-failing").ID
	fake.AddMember(ch, "U0BOB")

	// Typed, by those who type.
	for _, c := range []struct{ user, text, said string }{
		{"U0BOB", "impact EU *card* payments fail for 30% of customers", "<@U0BOB> recorded the impact:\nEU *card* payments fail for 30% of customers"},
		{"U0ALICE", "note Rolled back `deploy 42` — see <https://runbook.example.com|runbook>", "Note from <@U0ALICE>"},
		{"U0ALICE", "rootcause An expired cert on the payments LB", "<@U0ALICE> recorded the root cause:\nAn expired cert on the payments LB"},
		{"U0BOB", "learning Certificates expire quietly", "<@U0BOB> added to the learnings: Certificates expire quietly"},
	} {
		if a, _ := sitrep.slash(fake, c.user, ch, c.text); a.Text != "" {
			t.Fatalf("%q answered %q", c.text, a.Text)
		}
		eventually(t, c.said, func() bool { return contains(texts(fake, ch), c.said) })
	}
	if a, _ := sitrep.slash(fake, "U0ALICE", ch, "rootcause An expired cert on the payments LB"); !strings.Contains(a.Text, "already has that root cause") {
		t.Errorf("the same root cause again answered %q", a.Text)
	}
	eventually(t, "the impact on the card", func() bool {
		_, text := card(t, fake, ch)
		return strings.Contains(text, "*Impact*\nEU *card* payments")
	})

	// A status update from its form: Sitrep's own markup.
	sitrep.slash(fake, "U0ALICE", ch, "update")
	if a := sitrep.interact(submission(t, fake, "U0ALICE", nthView(t, fake, "update", 1), obj{
		"status": obj{"status": optionValue("identified")},
		"know":   obj{"know": textValue("Cert expired at 09:12")},
		"doing":  obj{"doing": textValue("Renewing it")},
	})); a.ResponseAction != "" {
		t.Fatalf("the update form answered %+v", a)
	}

	// A postmortem of the open incident is a draft.
	if a, _ := sitrep.slash(fake, "U0ALICE", ch, "postmortem"); a.Text != "" {
		t.Fatalf("postmortem answered %q, want the form", a.Text)
	}
	draft := nthView(t, fake, "postmortem", 1)
	if !strings.Contains(string(draft.Raw), "Share draft") || initialValues(t, draft)["root_cause"] != "An expired cert on the payments LB" {
		t.Errorf("the draft's form: %s", draft.Raw)
	}
	if a := sitrep.interact(submission(t, fake, "U0ALICE", draft, obj{"root_cause": obj{"root_cause": textValue("An expired cert on the payments LB")}})); a.ResponseAction != "" {
		t.Fatalf("the draft's form answered %+v", a)
	}
	eventually(t, "the draft", func() bool { return len(fake.Files(ch)) == 1 })
	if f := fake.Files(ch)[0]; f.Name != "incident-1-postmortem-draft.md" || !strings.Contains(string(f.Content), "> **Draft.** Incident #1 is identified") {
		t.Errorf("the draft: %s\n%s", f.Name, f.Content)
	}
	eventually(t, "the draft on the timeline", func() bool {
		tl, _ := sitrep.slash(fake, "U0ALICE", ch, "timeline")
		return strings.Contains(tl.All(), "Postmortem draft shared") && !strings.Contains(tl.All(), "Postmortem published")
	})

	// Resolve without a summary: the form, prefilled with what is known.
	if a, _ := sitrep.slash(fake, "U0ALICE", ch, "resolve"); a.Text != "" {
		t.Fatalf("resolve answered %q, want the form", a.Text)
	}
	resolve := nthView(t, fake, "resolve", 1)
	pre := initialValues(t, resolve)
	if pre["impact"] != "EU *card* payments fail for 30% of customers" || pre["root_cause"] != "An expired cert on the payments LB" {
		t.Errorf("the resolve form is prefilled with %q", pre)
	}
	// Sealed for Alice: nobody else can send it.
	if a := sitrep.interact(submission(t, fake, "U0BOB", resolve, obj{"summary": obj{"summary": textValue("Done")}})); !strings.Contains(a.Errors["summary"], "Sitrep cannot take this form") {
		t.Errorf("Alice's resolve form sent by Bob answered %+v", a)
	}
	if a := sitrep.interact(submission(t, fake, "U0ALICE", resolve, obj{"summary": obj{"summary": textValue("  ")}})); a.Errors["summary"] == "" {
		t.Errorf("a resolve form without a summary answered %+v", a)
	}
	if a := sitrep.interact(submission(t, fake, "U0ALICE", resolve, obj{
		"summary":    obj{"summary": textValue("Renewed the cert; payments recovered at 09:52 & stayed up")},
		"impact":     obj{"impact": textValue(pre["impact"])},
		"services":   obj{"services": textValue("checkout, payments-api")},
		"root_cause": obj{"root_cause": textValue("An expired _intermediate_ cert on the payments LB")},
		"mitigation": obj{"mitigation": textValue("Renewed the cert and restarted the LB")},
	})); a.ResponseAction != "" {
		t.Fatalf("the resolve form answered %+v", a)
	}
	eventually(t, "resolved", func() bool { return contains(texts(fake, ch), "<@U0ALICE> resolved incident #1.") })
	if a, _ := sitrep.slash(fake, "U0ALICE", ch, "close"); !strings.Contains(a.Text, "no postmortem since it was last resolved") {
		t.Errorf("closing after only a draft answered %q", a.Text)
	}

	// The review, and the postmortem.
	sitrep.slash(fake, "U0BOB", ch, "postmortem")
	review := nthView(t, fake, "postmortem", 2)
	if pre := initialValues(t, review); pre["learnings"] != "Certificates expire quietly" || pre["root_cause"] != "An expired _intermediate_ cert on the payments LB" {
		t.Errorf("the review form is prefilled with %q", pre)
	}
	if a := sitrep.interact(submission(t, fake, "U0BOB", review, obj{
		"root_cause":   obj{"root_cause": textValue("An expired _intermediate_ cert on the payments LB")},
		"contributing": obj{"contributing": textValue("No alert on expiry; renewal was manual")},
		"went_well":    obj{"went_well": textValue("Paging reached *Alice* within a minute")},
		"went_badly":   obj{"went_badly": textValue("The status page was updated 20 minutes late")},
		"learnings":    obj{"learnings": textValue("Certificates expire quietly\nRenewals must be automated")},
		"remediations": obj{"remediations": textValue("- Alert 14 days before a cert expires\n- Automate renewal")},
		"review_flags": obj{"review_flags": checkboxValues("followups")},
	})); a.ResponseAction != "" {
		t.Fatalf("the review form answered %+v", a)
	}
	eventually(t, "the postmortem", func() bool { return len(fake.Files(ch)) == 2 })
	f := fake.Files(ch)[1]
	md := string(f.Content)
	if f.Name != "incident-1-postmortem.md" {
		t.Errorf("uploaded as %q", f.Name)
	}
	for _, want := range []string{
		"# Incident #1: Checkout failing\n",
		"- **Commander:** Alice Adams\n",
		"- **Affected services:** checkout, payments-api\n",
		"## Summary\n\nRenewed the cert; payments recovered at 09:52 & stayed up\n",
		"## Impact\n\nEU **card** payments fail for 30% of customers\n",
		"| Declared as sev1 | Alice Adams |",
		"Note: Rolled back `deploy 42` — see [runbook](https://runbook.example.com) | Alice Adams |",
		"Status update: **What we know:** Cert expired at 09:12 **What we are doing:** Renewing it | Alice Adams |",
		"## Root cause analysis\n\nAn expired *intermediate* cert on the payments LB\n",
		"### Contributing factors\n\nNo alert on expiry; renewal was manual\n",
		"## Mitigation\n\nRenewed the cert and restarted the LB\n",
		"## What went well\n\nPaging reached **Alice** within a minute\n",
		"## What went badly\n\nThe status page was updated 20 minutes late\n",
		"1. Certificates expire quietly\n2. Renewals must be automated\n",
		"- Alert 14 days before a cert expires\n- Automate renewal\n",
		"- [ ] Alert 14 days before a cert expires (no owner yet)\n- [ ] Automate renewal (no owner yet)\n",
		"| Learnings: added Certificates expire quietly | Bob Brown |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the postmortem lacks %q", want)
		}
	}
	for _, unwanted := range []string{"No summary", "No impact", "No root cause", "No contributing", "not recorded", "Nothing was recorded",
		"No learnings", "No remediations", "No follow-ups", "none recorded", "Postmortem published", "Postmortem draft", "Draft.", `\*`, "U0ALICE", "U0BOB"} {
		if strings.Contains(md, unwanted) {
			t.Errorf("the postmortem has %q", unwanted)
		}
	}
	if t.Failed() {
		t.Logf("the postmortem:\n%s", md)
	}

	eventually(t, "the postmortem on the timeline", func() bool {
		tl, _ := sitrep.slash(fake, "U0ALICE", ch, "timeline")
		return strings.Contains(tl.All(), "Postmortem published")
	})
	if a, _ := sitrep.slash(fake, "U0ALICE", ch, "close"); a.Text != "" {
		t.Fatalf("close answered %q", a.Text)
	}

	// From the database alone, without Slack, people keep their names.
	out, stderr, err := runPostmortemCmd(t, map[string]string{"SITREP_DB": db}, "1")
	if err != nil {
		t.Fatalf("sitrep postmortem: %v\n%s", err, stderr)
	}
	for _, want := range []string{"- **Commander:** Alice Adams\n", "| Bob Brown |", "## Mitigation\n\nRenewed the cert"} {
		if !strings.Contains(out, want) {
			t.Errorf("the offline postmortem lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "U0ALICE") || strings.Contains(out, "U0BOB") {
		t.Errorf("the offline postmortem names people by their IDs:\n%s", out)
	}
	// SITREP_POSTMORTEM_HTML=path keeps the page, for the README's picture
	// of a postmortem made entirely from Slack.
	if path := os.Getenv("SITREP_POSTMORTEM_HTML"); path != "" {
		if _, stderr, err := runPostmortemCmd(t, map[string]string{"SITREP_DB": db}, "1", "--html", "-o", path); err != nil {
			t.Fatalf("sitrep postmortem --html: %v\n%s", err, stderr)
		}
	}
}

// submitForm submits the nth (from 1) modal with callbackID as user, with
// values, and fails the test if Sitrep does not take it.
func submitForm(t *testing.T, sitrep *instance, fake *slackfake.Server, user, callbackID string, n int, values obj) {
	t.Helper()
	if a := sitrep.interact(submission(t, fake, user, nthView(t, fake, callbackID, n), values)); a.ResponseAction != "" {
		t.Fatalf("the %s form answered %+v", callbackID, a)
	}
}
