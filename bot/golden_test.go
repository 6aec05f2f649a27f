package bot

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/oncall"
	"github.com/sitrep-dev/sitrep/thirdparty"
)

// update rewrites the golden files from what the renderers produce now:
//
//	go test ./bot -run TestGoldenBlockKit -update
//
// Review the diff of testdata/golden before committing it: it is the change
// people will see in Slack.
var update = flag.Bool("update", false, "rewrite bot/testdata/golden/*.json from the renderers' output")

// goldenAt is when the golden incidents were declared. Everything in them
// is fixed (times, IDs, numbers), so the golden files change only when what
// Sitrep shows changes.
var goldenAt = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

// goldenIncidents are the incidents the golden files show.
type goldenIncidents struct {
	open    *shown // sev1, identified, half its checklist answered
	problem *shown // open, with a delivery problem on the card
	closed  *shown // resolved, postmortem published, closed
	pending *shown // a private drill whose channel is not made yet
	alerted *shown // declared by Sitrep for a source, with no commander yet
	// resolved has no postmortem yet; published has one, and its last
	// status update promised the next within 2 hours before it was
	// resolved.
	resolved, published *shown
	promised            *shown // open, its last update promising the next in 2h
}

// newGoldenIncidents builds the golden incidents. It is the one place that
// sets how they are delivered to Slack (the chat state of Slack's
// delivery: the channel, the delivery problem).
func newGoldenIncidents() goldenIncidents {
	at := func(minutes int) time.Time { return goldenAt.Add(time.Duration(minutes) * time.Minute) }
	open := &incident.Incident{
		ID:         "0195a1b2-0000-7000-8000-000000000042",
		Number:     42,
		Title:      "Checkout failing for EU users",
		Severity:   "sev1",
		Status:     incident.Identified,
		Summary:    "Payments fail with a 502 for about 30% of EU customers since 09:20 UTC.",
		Impact:     "EU checkout",
		Services:   []string{"checkout", "payments-api"},
		DeclaredBy: "U0ALICE",
		Roles:      map[string]string{"commander": "U0ALICE", "comms": "U0BOB"},
		DeclaredAt: goldenAt,
		UpdatedAt:  at(25),
		Checklist: []incident.CheckItem{
			{ID: "recent-deploy", Kind: incident.Question, Text: "Was there a deployment recently?",
				Suggestion: "Consider rolling back to the previous release.", Answer: "yes", AnsweredBy: "U0BOB", AnsweredAt: at(5), Suggested: true},
			{ID: "third-party", Kind: incident.Question, Text: "Is a third party down?",
				Suggestion: "Check their status pages.", Answer: "no", AnsweredBy: "U0ALICE", AnsweredAt: at(7)},
			{ID: "total-outage", Kind: incident.Question, Text: "Is it a total outage?", Answer: "unknown", AnsweredBy: "U0CAROL", AnsweredAt: at(8)},
			{ID: "logs", Kind: incident.Task, Text: "Read the error tracker and the logs"},
			{ID: "status-page", Kind: incident.Task, Text: "Update the public status page", Answer: "done", AnsweredBy: "U0BOB", AnsweredAt: at(12)},
			{ID: "customers", Kind: incident.Question, Text: "Are customers affected?"},
		},
		FollowUps: []incident.FollowUp{
			{ID: 1, Text: "Alert on the EU 502 rate", Owner: "U0CAROL", CreatedBy: "U0ALICE", CreatedAt: at(20)},
			{ID: 2, Text: "Write a runbook for payment retries", CreatedBy: "U0BOB", CreatedAt: at(21)},
			{ID: 3, Text: "Roll back the config change", Owner: "U0BOB", CreatedBy: "U0ALICE", CreatedAt: at(15), DoneBy: "U0BOB", DoneAt: at(18)},
		},
		LastUpdateAt: at(10),
		Version:      9,
	}
	openShown := &shown{Incident: open, Chat: chatState{ChannelID: "C0INC42", ChannelName: "inc-42-checkout-failing-for-eu-users"}}

	problem := cloneIncident(openShown)
	problem.Chat.Problem = "the announcement channel: Slack answered `channel_not_found` (invite Sitrep to the channel, or check its ID)"
	problem.UpdatePrompts = 1 // and the status update is overdue

	closed := cloneIncident(openShown)
	closed.Status = incident.Closed
	closed.Checklist[3].Answer, closed.Checklist[3].AnsweredBy, closed.Checklist[3].AnsweredAt = "skipped", "U0ALICE", at(40)
	closed.Checklist[5].Answer, closed.Checklist[5].AnsweredBy, closed.Checklist[5].AnsweredAt = "yes", "U0ALICE", at(41)
	closed.ResolvedAt = at(95)
	closed.PostmortemAt = at(60 * 26)
	closed.ClosedAt = at(60 * 27)
	closed.Postmortem = "https://sitrep-test.slack.com/files/U0SITREP/F0PM42/incident-42-postmortem.md"

	resolved := cloneIncident(openShown)
	resolved.Status, resolved.ResolvedAt = incident.Resolved, at(95)
	published := cloneIncident(resolved)
	published.PostmortemAt, published.Postmortem = at(60*26), "slack-file:F0PM42" // no link was found

	promised := cloneIncident(openShown)
	promised.UpdateEvery = 2 * time.Hour

	pending := &incident.Incident{
		ID:           "0195a1b2-0000-7000-8000-000000000043",
		Number:       43,
		Title:        "Failover rehearsal",
		Severity:     "sev3",
		Status:       incident.Investigating,
		Private:      true,
		Drill:        true,
		DeclaredBy:   "U0DAN",
		Roles:        map[string]string{"commander": "U0DAN"},
		DeclaredAt:   at(50),
		LastUpdateAt: at(50),
		Version:      1,
	}
	// Declared by Sitrep for an alert: nobody commands it yet.
	alerted := cloneIncident(openShown)
	alerted.DeclaredBy, alerted.Source = "", "alertmanager"
	alerted.Roles = map[string]string{}
	return goldenIncidents{open: openShown, problem: problem, closed: closed, pending: &shown{Incident: pending}, alerted: alerted,
		resolved: resolved, published: published, promised: promised}
}

// cloneIncident copies an incident deeply enough for the fixtures to differ.
// trackedFollowUps is inc with follow-ups in every state a tracker gives
// them: tracked, its issue being made, and done in the tracker.
func trackedFollowUps(sh *shown) *shown {
	c := cloneIncident(sh)
	f := c.FollowUps
	f[0].Issue = incident.IssueRef{Tracker: "github", Key: "acme/ops#12", URL: "https://github.com/acme/ops/issues/12"}
	f[1].ExportTo = "github"
	f[2].DoneBy, f[2].Issue = "", incident.IssueRef{Tracker: "jira", Key: "OPS-7", URL: "https://acme.atlassian.net/browse/OPS-7"}
	c.FollowUps = append(f, incident.FollowUp{ID: 4, Text: "Page the vendor sooner", CreatedBy: "U0ALICE", CreatedAt: f[0].CreatedAt})
	return c
}

func cloneIncident(sh *shown) *shown {
	inc := sh.Incident
	c := *inc
	c.Roles = map[string]string{}
	for k, v := range inc.Roles {
		c.Roles[k] = v
	}
	c.Checklist = append([]incident.CheckItem(nil), inc.Checklist...)
	c.FollowUps = append([]incident.FollowUp(nil), inc.FollowUps...)
	return &shown{Incident: &c, Chat: sh.Chat, Postmortem: sh.Postmortem}
}

// goldenEvent is an event of the golden incident #42 for the renderers
// that take one.
func goldenEvent(kind incident.EventKind, minutes int, actor, text string, data map[string]string) incident.Event {
	return incident.Event{Seq: int64(minutes + 1), At: goldenAt.Add(time.Duration(minutes) * time.Minute), Kind: kind, Actor: actor, Text: text, Data: data}
}

// TestGoldenBlockKit renders fixed incidents through the bot's renderers
// and compares the Block Kit with bot/testdata/golden. Each file is also
// checked against the fake Slack's Block Kit rules, so a golden file is
// never something Slack would refuse.
func TestGoldenBlockKit(t *testing.T) {
	cfg := incident.DefaultConfig()
	g := newGoldenIncidents()
	// The forms prefill what was recorded, as a person would type it:
	// mentions by name, links with their address, entities decoded.
	gb := &Bot{names: newNameCache(nil, nil), opts: Options{CommandName: "/incident"}}
	reviewed := cloneIncident(g.open)
	reviewed.RootCause = "An expired cert on <https://lb.example.com|the LB>; <@U0DAN|dan> saw it &amp; renewed it"
	reviewed.Learnings = "Certificates expire quietly\nAlert 14 days ahead"
	resolved := cloneIncident(reviewed)
	resolved.Status, resolved.ResolvedAt = incident.Resolved, goldenAt.Add(time.Hour)
	resolved.Mitigation, resolved.Remediations = "Renewed the cert", "Alert on expiry\nAutomate renewal"
	type message struct {
		Text   string        `json:"text"`
		Blocks []slack.Block `json:"blocks"`
	}
	prompt := func(inc *incident.Incident, ev incident.Event) message {
		text, blocks := promptMessage(inc, ev, cfg, "/incident")
		return message{text, blocks}
	}
	page := func(inc *incident.Incident, ev incident.Event, channel string, alerts []incident.StoredAlert) message {
		users := strings.Fields(ev.Data["users"])
		text, blocks := pageMessage(inc, ev, users[len(users)-1], channel, len(alerts), alerts[:min(len(alerts), maxPageAlerts)], "/incident")
		return message{text, blocks}
	}
	// The status page: two components, the open incident's services
	// mapping to one, approval on; and the incident once published and
	// resolved internally (the form then offers the public resolution).
	publicCfg := incident.PublicConfig{On: true, Approval: true, URL: "https://status.example.com", Components: []incident.Component{
		{Name: "API", Group: "Platform", Services: []string{"checkout"}}, {Name: "Web app"}}}
	withPublic := cfg
	withPublic.Public = publicCfg
	publicShown := cloneIncident(g.open)
	publicShown.Services = []string{"checkout"}
	publicShown.Public = incident.PublicPage{ID: "abc123def456", Updates: []incident.PublicUpdate{{
		Title: "Elevated checkout errors", Status: incident.PublicIdentified, Message: "We are rolling back a change <now>.", By: "U0BOB", ApprovedBy: "U0ALICE",
		Components: []incident.ComponentImpact{{Name: "API", Status: incident.PartialOutage}}, At: goldenAt.Add(25 * time.Minute)}},
		Draft: &incident.PublicUpdate{Title: "Elevated checkout errors", Status: incident.PublicMonitoring, Message: "A fix is out.", By: "U0BOB", At: goldenAt.Add(40 * time.Minute)}}
	publicResolved := cloneIncident(publicShown)
	publicResolved.Public.Draft = nil
	publicResolved.Status, publicResolved.ResolvedAt = incident.Resolved, goldenAt.Add(time.Hour)
	draft := func(inc *incident.Incident, ev incident.Event) message {
		text, blocks := publicDraftMessage(inc, ev)
		return message{text, blocks}
	}
	type announced struct {
		Event string `json:"event"`
		Text  string `json:"text"`
	}
	var announcements []announced
	for _, ev := range []incident.Event{
		goldenEvent(incident.KindDeclared, 0, "U0ALICE", "", map[string]string{"severity": "sev1"}),
		goldenEvent(incident.KindSeverity, 3, "U0ALICE", "", map[string]string{"from": "sev2", "to": "sev1"}),
		goldenEvent(incident.KindSeverity, 4, "U0ALICE", "", map[string]string{"from": "sev1", "to": "sev2"}),
		goldenEvent(incident.KindStatus, 9, "U0ALICE", "", map[string]string{"from": "investigating", "to": "identified"}),
		goldenEvent(incident.KindUpdate, 10, "U0ALICE", "A config change at 09:15 is suspected; rolling it back. Next update by 10:00 UTC.",
			map[string]string{"severity": "sev1", "status": "identified"}),
		goldenEvent(incident.KindResolved, 95, "U0ALICE", "Config rolled back; error rate normal for 30 minutes.", nil),
		goldenEvent(incident.KindReopened, 100, "U0BOB", "Errors are back", nil),
	} {
		announcements = append(announcements, announced{string(ev.Kind), announcement(g.open, ev, cfg)})
	}
	if announcements[0].Text == "" {
		t.Fatal("the declaration is not announced")
	}

	tests := []struct {
		name string
		kind string // "blocks", "view" or "" (not Block Kit: checked by its golden file alone)
		got  any
	}{
		{"card-open", "blocks", cardBlocks(g.open, cfg, "/incident", "v9")},
		{"card-delivery-problem", "blocks", cardBlocks(g.problem, cfg, "/incident", "v9")},
		{"card-closed", "blocks", cardBlocks(g.closed, cfg, "/incident", "v9")},
		{"card-private-drill", "blocks", cardBlocks(g.pending, cfg, "/incident", "v1")},
		{"card-no-commander", "blocks", cardBlocks(g.alerted, cfg, "/incident", "v2")},
		{"card-resolved", "blocks", cardBlocks(g.resolved, cfg, "/incident", "v10")},
		{"card-resolved-postmortem", "blocks", cardBlocks(g.published, cfg, "/incident", "v11")},
		{"card-update-promised", "blocks", cardBlocks(g.promised, cfg, "/incident", "v9")},
		{"prompt-update-promised", "message", prompt(g.promised.Incident, goldenEvent(incident.KindPrompt, 130, "", "",
			map[string]string{"prompt": string(incident.PromptUpdate), "level": "1", "commander": "U0ALICE"}))},
		{"checklist-open", "blocks", checklistPages(g.open.Incident, "/incident")[0]},
		{"checklist-closed", "blocks", checklistPages(g.closed.Incident, "/incident")[0]},
		{"followups-open", "blocks", followUpsPages(g.open.Incident, "/incident", "")[0]},
		{"followups-closed", "blocks", followUpsPages(g.closed.Incident, "/incident", "")[0]},
		{"followups-tracked", "blocks", followUpsPages(trackedFollowUps(g.open).Incident, "/incident", "github")[0]},
		{"announcements", "", announcements},
		{"prompt-update-due", "message", prompt(g.open.Incident, goldenEvent(incident.KindPrompt, 40, "", "",
			map[string]string{"prompt": string(incident.PromptUpdate), "level": "1", "commander": "U0ALICE"}))},
		{"prompt-update-overdue", "message", prompt(g.open.Incident, goldenEvent(incident.KindPrompt, 70, "", "",
			map[string]string{"prompt": string(incident.PromptUpdate), "level": "2", "commander": "U0ALICE", "comms": "U0BOB"}))},
		{"prompt-update-no-commander", "message", prompt(g.alerted.Incident, goldenEvent(incident.KindPrompt, 40, "", "",
			map[string]string{"prompt": string(incident.PromptUpdate), "level": "1", "commander": ""}))},
		{"prompt-postmortem", "message", prompt(g.closed.Incident, goldenEvent(incident.KindPrompt, 60*24+95, "", "",
			map[string]string{"prompt": string(incident.PromptPostmortem), "commander": "U0ALICE"}))},
		{"home", "view", slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: homeBlocks([]*shown{g.pending, g.problem}, []*shown{g.resolved, g.closed}, "/incident", "")}}},
		{"home-empty", "view", slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: homeBlocks(nil, nil, "/incident", "")}}},
		{"home-notice", "view", slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: homeBlocks(nil, []*shown{g.closed}, "/incident",
			":warning: Slack would not open the form (Slack answered `expired_trigger_id`). Type `/incident declare [severity] <title>` in any channel instead.")}}},
		{"modal-declare", "view", declareModal(cfg, "sev1", modalMeta{Channel: "C0GENERAL", ResponseURL: "https://hooks.slack.com/commands/T0FAKE/1/x"})},
		{"modal-update", "view", updateModal(g.open.Incident, modalMeta{Channel: "C0INC42", Number: 42})},
		{"modal-resolve", "view", gb.resolveModal(reviewed.Incident, modalMeta{Channel: "C0INC42", Number: 42})},
		{"modal-postmortem-draft", "view", gb.postmortemModal(reviewed.Incident, modalMeta{Channel: "C0INC42", Number: 42})},
		{"modal-postmortem", "view", gb.postmortemModal(resolved.Incident, modalMeta{Channel: "C0INC42", Number: 42})},
		{"oncall", "blocks", onCallBlocks(goldenOnCall())},
		{"card-paged", "blocks", cardBlocks(goldenPaged(g.open), cfg, "/incident", "v9")},
		{"page-dm", "message", page(g.open.Incident, goldenEvent(incident.KindPage, 1, "", "",
			map[string]string{"page": "1", "step": "1", "notify": "schedule:primary", "users": "U0BOB", "policy": "default"}), "C0INC42", goldenAlerts())},
		{"page-dm-backup-of-provisional", "message", page(g.open.Incident, goldenEvent(incident.KindPage, 1, "", "",
			map[string]string{"page": "1", "step": "1", "notify": "schedule:primary", "users": "U0CAROL U0DAVE", "policy": "default"}), "C0INC42", nil)},
		{"page-dm-escalated-late", "message", page(g.alerted.Incident, goldenEvent(incident.KindPage, 6, "", "",
			map[string]string{"page": "1", "step": "2", "notify": "backup:primary", "users": "U0DAVE", "policy": "default", "escalated": "true", "late": "true"}), "", nil)},
		{"page-dm-by-hand", "message", page(g.open.Incident, goldenEvent(incident.KindPage, 20, "U0ALICE", "Need someone who knows the payments DB <!channel>",
			map[string]string{"page": "2", "step": "1", "notify": "user:U0ERIN", "users": "U0ERIN"}), "C0INC42", nil)},
		{"thirdparty", "blocks", thirdPartyBlocks([]thirdparty.Status{
			{Page: thirdparty.Page{Name: "GitHub", URL: "https://www.githubstatus.com", Summary: "https://www.githubstatus.com/api/v2/summary.json"},
				Indicator: "minor", Description: "Minor Service Outage", CheckedAt: goldenAt,
				Incidents: []thirdparty.Incident{{Name: "Disruption with <some> services", Status: "investigating", Impact: "minor", URL: "https://stspg.io/abc"}}},
			{Page: thirdparty.Page{Name: "Stripe", URL: "https://status.stripe.com", Summary: "https://status.stripe.com/api/v2/summary.json"},
				Indicator: "none", Description: "All Systems Operational", CheckedAt: goldenAt, Problem: "no answer within 10s"},
			{Page: thirdparty.Page{Name: "Vendor X", URL: "https://x.example.com/status", Summary: "https://x.example.com/api/v2/summary.json"}, Problem: "answered HTTP 502"},
			{Page: thirdparty.Page{Name: "AWS", URL: "https://health.aws.amazon.com/health/status"}},
		}).Blocks},
		{"modal-publish", "view", publishModal(g.open.Incident, publicCfg, publishDefaults(g.open.Incident, publicCfg), modalMeta{Channel: "C0INC42", Number: 42})},
		{"modal-publish-resolution", "view", publishModal(publicResolved.Incident, publicCfg, publishDefaults(publicResolved.Incident, publicCfg), modalMeta{Channel: "C0INC42", Number: 42})},
		{"card-public", "blocks", cardBlocks(publicShown, withPublic, "/incident", "v12")},
		{"public-draft", "message", draft(publicShown.Incident, goldenEvent(incident.KindPublicDraft, 20, "U0BOB", "We are rolling back a change; checkout errors are falling. <b>Next</b> update by 10:30 UTC.",
			map[string]string{"title": "Elevated checkout errors & \"timeouts\"", "status": "identified", "components": "API=partial_outage"}))},
		{"public-published", "", channelMessage(publicShown.Incident, goldenEvent(incident.KindPublished, 25, "U0ALICE", "We are rolling back a change.",
			map[string]string{"title": "Elevated checkout errors", "status": "identified", "components": "API=partial_outage", "author": "U0BOB", "approved_by": "U0ALICE"}), cfg)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := goldenJSON(t, tt.got)
			switch tt.kind {
			case "blocks":
				if errs := slackfake.ValidateBlocks(got); len(errs) > 0 {
					t.Errorf("Slack would answer invalid_blocks: %v", errs)
				}
			case "message":
				var m struct{ Blocks json.RawMessage }
				if err := json.Unmarshal(got, &m); err != nil {
					t.Fatal(err)
				}
				if errs := slackfake.ValidateBlocks(m.Blocks); len(errs) > 0 {
					t.Errorf("Slack would answer invalid_blocks: %v", errs)
				}
			case "view":
				if errs := slackfake.ValidateView(got); len(errs) > 0 {
					t.Errorf("Slack would refuse the view: %v", errs)
				}
			}
			checkGolden(t, filepath.Join("testdata", "golden", tt.name+".json"), got)
		})
	}
}

// unescapeHTML undoes encoding/json's escaping of <, > and &, which
// slack-go's own MarshalJSON methods apply whatever the encoder is told.
var unescapeHTML = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")

// goldenJSON is v as JSON indented for reading in a diff, with Slack's
// markup (<@U…>, <!date…>) as Slack shows it rather than as \u003c…. The
// fixtures hold no literal backslash-u text, which this would change.
func goldenJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return []byte(unescapeHTML.Replace(b.String()))
}

// checkGolden compares got with the golden file at path, or with -update
// writes got there.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; write it with: go test ./bot -run TestGoldenBlockKit -update", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); if the change is meant, rewrite it with -update:\n%s", path, diff)
	}
}

// goldenOnCall is who is on call in the golden files: a provisional
// engineer with their backup now, and an override next.
func goldenOnCall() []incident.OnCallNow {
	at := func(h int) time.Time { return goldenAt.Add(time.Duration(h) * time.Hour) }
	ov := &oncall.Override{ID: 3, Schedule: "secondary", User: "U0ERIN", Start: at(0), End: at(8), SetBy: "U0BOB", SetAt: at(0)}
	return []incident.OnCallNow{
		{Schedule: "primary",
			Now:  oncall.Shift{Schedule: "primary", User: "U0CAROL", Start: at(-24), End: at(48), Provisional: true, Backup: "U0DAVE"},
			Next: oncall.Shift{Schedule: "primary", User: "U0BOB", Start: at(48), End: at(48 + 168)}},
		{Schedule: "secondary",
			Now:  oncall.Shift{Schedule: "secondary", User: "U0ERIN", Start: at(0), End: at(8), Override: ov},
			Next: oncall.Shift{Schedule: "secondary", User: "U0FRANK", Start: at(8), End: at(72)}},
	}
}

// goldenAlerts are the alerts a paged incident shows, markup in a title
// included.
func goldenAlerts() []incident.StoredAlert {
	return []incident.StoredAlert{
		{Alert: incident.Alert{Source: "alertmanager", Key: "fp1", Status: incident.AlertFiring, Title: "HighErrorRate checkout <5xx> & more"}},
		{Alert: incident.Alert{Source: "sentry", Key: "42", Status: incident.AlertResolved, Title: "PaymentError in charge()"}},
	}
}

// goldenPaged is incident sh with its on-call paged by policy and
// acknowledged after escalating, and someone paged by hand still waiting.
func goldenPaged(sh *shown) *shown {
	inc := *sh.Incident
	at := func(m int) time.Time { return goldenAt.Add(time.Duration(m) * time.Minute) }
	inc.Pages = []incident.Page{
		{ID: 1, Policy: "default", At: at(0), State: incident.PageAcknowledged, Step: 1, Notified: []string{"U0BOB", "U0DAVE"}, AckBy: "U0DAVE", AckVia: "slack", AckAt: at(7)},
		{ID: 2, Target: "user:U0ERIN", By: "U0ALICE", At: at(20), State: incident.PageOpen, Notified: []string{"U0ERIN"}},
	}
	out := *sh
	out.Incident = &inc
	return &out
}
