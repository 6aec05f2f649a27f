package bot

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/thirdparty"
)

// checkBlocks validates blocks with the fake Slack's Block Kit rules, the
// same ones chat.postMessage enforces in the end-to-end tests.
func checkBlocks(t *testing.T, blocks []slack.Block) {
	t.Helper()
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	if errs := slackfake.ValidateBlocks(raw); len(errs) > 0 {
		t.Fatalf("Slack would answer invalid_blocks: %v", errs)
	}
	// Slack's limit on a message's size is reported, not documented:
	// every message keeps a quarter of it spare, as the fake counts.
	if n := slackfake.BlocksSize(raw); n > slackfake.DefaultBlocksTextLimit*3/4 {
		t.Fatalf("the blocks count %d characters; Slack refuses about %d (msg_blocks_too_long), and Sitrep keeps well under that", n, slackfake.DefaultBlocksTextLimit)
	}
}

func bigIncident() *shown {
	at := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	return &shown{Incident: &incident.Incident{
		Number: 123456, Title: strings.Repeat("Ü", incident.MaxTitle), Severity: "sev1", Status: incident.Identified,
		Summary: strings.Repeat("x", incident.MaxText), DeclaredBy: "U1", Drill: true, Private: true,
		Roles:      map[string]string{"commander": "U1", "comms": "U2"},
		DeclaredAt: at, ResolvedAt: at.Add(time.Hour),
	}, Chat: chatState{ChannelID: "C0123456789", Problem: strings.Repeat("a refusal ", 100)}}
}

func TestCardStaysWithinBlockKitLimits(t *testing.T) {
	cfg := incident.DefaultConfig()
	for i := range incident.MaxRoles - len(cfg.Roles) { // more roles than one section's ten fields
		cfg.Roles = append(cfg.Roles, fmt.Sprintf("role%d", i))
	}
	inc := bigIncident()
	blocks := cardBlocks(inc, cfg, "/incident", "v1")
	checkBlocks(t, blocks)
	text := blockTextOf(t, blocks)
	// The last role added, whatever the number of default roles.
	last := "*" + roleTitle(cfg.Roles[len(cfg.Roles)-1]) + "*\n_unassigned_"
	for _, want := range []string{"[DRILL] #123456", "sev1", "identified", "*Commander*\n<@U1>", last, ":lock: private"} {
		if !strings.Contains(text, want) {
			t.Errorf("card lacks %q", want)
		}
	}
	if got := topic(inc.Incident); len([]rune(got)) > maxTopic {
		t.Errorf("topic is %d characters, Slack allows %d", len([]rune(got)), maxTopic)
	}
}

func TestTimelineStaysWithinBlockKitLimits(t *testing.T) {
	inc := bigIncident()
	for _, n := range []int{0, 1, 40, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			events := make([]incident.Event, n)
			for i := range events {
				// Long lines in a multi-byte script: Slack counts
				// characters, not bytes.
				filler := strings.Repeat("障", i%1500)
				events[i] = incident.Event{Seq: int64(i + 1), At: inc.DeclaredAt.Add(time.Duration(i) * time.Second), Kind: incident.KindNote, Actor: "U1", Text: fmt.Sprintf("entry %d %s", i, filler)}
			}
			blocks := timelineBlocks(inc.Incident, events, "/incident")
			checkBlocks(t, blocks)
			text := blockTextOf(t, blocks)
			if n > 0 && !strings.Contains(text, fmt.Sprintf("entry %d ", n-1)) {
				t.Errorf("the newest entry is not shown")
			}
			shown := strings.Count(text, "Note: entry ")
			if n <= 40 && shown != n {
				t.Errorf("%d of %d entries shown", shown, n)
			}
			if shown < n && !strings.Contains(text, fmt.Sprintf("%d earlier entries are not shown", n-shown)) {
				t.Errorf("%d entries left out without saying so", n-shown)
			}
		})
	}
}

// TestChecklistAndFollowUpsPaginate: a hundred long checklist items, all
// answered with suggestions, and a hundred follow-ups of the longest text
// each take several messages, every one within Block Kit's limits and well
// under Slack's total text; every item is on exactly one page, in order,
// and only the last page has the footer.
func TestChecklistAndFollowUpsPaginate(t *testing.T) {
	inc := bigIncident()
	for i := range 100 {
		at := inc.DeclaredAt.Add(time.Duration(i) * time.Minute)
		inc.Checklist = append(inc.Checklist, incident.CheckItem{
			ID: fmt.Sprintf("item%d", i), Kind: incident.Question, Text: fmt.Sprintf("item%d? %s", i, strings.Repeat("q", 290)),
			Suggestion: strings.Repeat("s", 1000), Answer: "yes", AnsweredBy: "U1", AnsweredAt: at,
		})
		inc.FollowUps = append(inc.FollowUps, incident.FollowUp{ID: i + 1, Text: fmt.Sprintf("fu%d. %s", i+1, strings.Repeat("f", incident.MaxText-10)), Owner: "U2", CreatedAt: at})
	}
	for _, tc := range []struct {
		name   string
		pages  [][]slack.Block
		prefix string // what starts each item's text, before its number
		start  int
		sep    string
		foot   string
	}{
		{"checklist", checklistPages(inc.Incident, "/incident"), "item", 0, "?", "brings this list back"},
		{"follow-ups", followUpsPages(inc.Incident, "/incident", ""), "fu", 1, ".", "Add one with"},
		{"follow-ups with Create issue", followUpsPages(inc.Incident, "/incident", "github"), "fu", 1, ".", "Add one with"},
		{"follow-ups with issues", followUpsPages(withIssues(inc.Incident), "/incident", "github"), "fu", 1, ".", "Add one with"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.pages) < 2 {
				t.Fatalf("%d pages for a hundred long items", len(tc.pages))
			}
			next := tc.start
			for i, page := range tc.pages {
				checkBlocks(t, page)
				text := blockTextOf(t, page)
				if want := fmt.Sprintf("(part %d of %d)", i+1, len(tc.pages)); !strings.Contains(text, want) {
					t.Errorf("page %d does not say %q", i+1, want)
				}
				if last := i == len(tc.pages)-1; strings.Contains(text, tc.foot) != last {
					t.Errorf("page %d of %d: footer shown %v, want %v", i+1, len(tc.pages), !last, last)
				}
				for strings.Contains(text, fmt.Sprintf("%s%d%s", tc.prefix, next, tc.sep)) {
					next++
				}
			}
			if next != tc.start+100 {
				t.Errorf("items shown in order up to %s%d, want all 100", tc.prefix, next-1)
			}
		})
	}
}

func TestListStaysWithinBlockKitLimits(t *testing.T) {
	var incs []*shown
	for i := range 120 {
		inc := bigIncident()
		inc.Number = int64(i + 1)
		incs = append(incs, inc)
	}
	blocks := listBlocks(incs)
	checkBlocks(t, blocks)
	if !strings.Contains(blockTextOf(t, blocks), "more.") {
		t.Error("a long list does not say that some incidents are left out")
	}
}

// TestUserTextCannotPingEveryone checks every place user text is shown:
// people's mentions and links stay, broadcast mentions are never re-posted by
// the bot, and plain-text places show what was typed, not its markup.
func TestUserTextCannotPingEveryone(t *testing.T) {
	// As Slack sends it: "@channel DB @bob down & out".
	title := "<!channel> DB <@U9|bob> down &amp; out"
	inc := &shown{Incident: &incident.Incident{Number: 7, Title: title, Severity: "sev1", Status: incident.Investigating, Summary: "<!here> " + title,
		Roles: map[string]string{"commander": "U1"}, DeclaredBy: "U1"}, Chat: chatState{ChannelID: "C1"}}
	cfg := incident.DefaultConfig()
	declared := incident.Event{Kind: incident.KindDeclared, Actor: "U1", Data: map[string]string{"severity": "sev1"}}
	update := incident.Event{Kind: incident.KindUpdate, Actor: "U1", Text: "<!here> ask <@U9|bob>", Data: map[string]string{"severity": "sev1", "status": "identified"}}
	note := incident.Event{Kind: incident.KindNote, Actor: "U1", Text: "<!subteam^S1|@sre> ask <@U9|bob>"}
	mrkdwnPlaces := map[string]string{
		"announcement":        announcement(inc, declared, cfg),
		"update announcement": announcement(inc, update, cfg),
		"update message":      channelMessage(inc.Incident, update, cfg),
		"note message":        channelMessage(inc.Incident, note, cfg),
		"card text":           cardText(inc.Incident),
		"card":                blockTextOf(t, cardBlocks(inc, cfg, "/incident", "v1")[1:]),
		"list":                blockTextOf(t, listBlocks([]*shown{inc})),
		"timeline":            blockTextOf(t, timelineBlocks(inc.Incident, []incident.Event{note}, "/incident")[1:]),
	}
	for name, s := range mrkdwnPlaces {
		if strings.Contains(s, "<!channel") || strings.Contains(s, "<!here") || strings.Contains(s, "<!subteam") {
			t.Errorf("%s re-posts a broadcast mention: %q", name, s)
		}
		if !strings.Contains(s, "<@U9|bob>") && name != "card" {
			t.Errorf("%s lost a person's mention: %q", name, s)
		}
		if strings.Contains(s, "&amp;amp;") {
			t.Errorf("%s escapes twice: %q", name, s)
		}
	}
	header := blockTextOf(t, cardBlocks(inc, cfg, "/incident", "v1")[:1])
	for name, s := range map[string]string{"card header": header, "topic": topic(inc.Incident), "channel name": channelName("inc", 7, plain(inc.Title))} {
		if strings.ContainsAny(s, "<>") || strings.Contains(s, "&amp;") {
			t.Errorf("%s shows markup: %q", name, s)
		}
	}
	if want := "#7 @channel DB @bob down & out"; header != want {
		t.Errorf("card header = %q, want %q", header, want)
	}
	if got := channelName("inc", 7, plain(inc.Title)); got != "inc-7-channel-db-bob-down-out" {
		t.Errorf("channel name = %q", got)
	}
}

func blockTextOf(t *testing.T, blocks []slack.Block) string {
	t.Helper()
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	return slackfake.BlockText(raw)
}

// checkView validates a modal or Home tab with the fake Slack's view rules.
func checkView(t *testing.T, view any) {
	t.Helper()
	raw, err := json.Marshal(view)
	if err != nil {
		t.Fatal(err)
	}
	if errs := slackfake.ValidateView(raw); len(errs) > 0 {
		t.Fatalf("Slack would refuse the view: %v", errs)
	}
}

func TestFormsStayWithinSlackLimits(t *testing.T) {
	cfg := incident.DefaultConfig()
	cfg.Severities[0].Description = strings.Repeat("very long description ", 20)
	inc := bigIncident()
	inc.Number = 98765432 // a long number in the 24-character title
	checkView(t, declareModal(cfg, "sev1", modalMeta{Channel: "C1"}))
	checkView(t, updateModal(inc.Incident, modalMeta{Channel: "C1", Number: inc.Number}))
}

func TestHomeTabStaysWithinSlackLimits(t *testing.T) {
	var finished []*shown
	for i := range homeRecent {
		inc := bigIncident()
		inc.Number, inc.Status, inc.ClosedAt = int64(1000+i), incident.Closed, inc.DeclaredAt.Add(time.Hour)
		finished = append(finished, inc)
	}
	for _, n := range []int{0, 1, 41, 42, 43, 500} {
		var incs []*shown
		for i := range n {
			inc := bigIncident()
			inc.Number = int64(n - i)
			incs = append(incs, inc)
		}
		blocks := homeBlocks(incs, finished, "/incident", strings.Repeat("notice ", 1000))
		checkView(t, slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}})
		text := blockTextOf(t, blocks)
		if n > 0 && !strings.Contains(text, fmt.Sprintf("#%d ", n)) {
			t.Errorf("%d incidents: the newest is not shown", n)
		}
		shown := 0
		for i := range n {
			if strings.Contains(text, fmt.Sprintf("#%d ", i+1)) {
				shown++
			}
		}
		if left := n - shown; left > 0 && !strings.Contains(text, fmt.Sprintf("…and %d older open incidents", left)) {
			t.Errorf("%d incidents, %d shown: the Home tab does not say how many are left out", n, shown)
		}
		if n > 0 && shown < min(n, 40) {
			t.Errorf("%d incidents: only %d shown", n, shown)
		}
		if !strings.Contains(text, "#1009 ") || !strings.Contains(text, "Declare an incident") {
			t.Errorf("%d incidents: the finished incidents or the Declare button are missing", n)
		}
	}
}

func TestCardControlsStayWithinSlackLimits(t *testing.T) {
	cfg := incident.DefaultConfig()
	for i := range incident.MaxRoles - len(cfg.Roles) {
		cfg.Roles = append(cfg.Roles, fmt.Sprintf("role-with-a-long-name-%d", i))
	}
	inc := bigIncident()
	inc.Drill, inc.Private = false, false
	inc.ResolvedAt = time.Time{}
	checkBlocks(t, cardBlocks(inc, cfg, "/incident", "v1"))
}

// TestWordings: every kind of event in the table is told somewhere and
// leads with an emoji, so that a new entry cannot panic or say nothing.
func TestWordings(t *testing.T) {
	for kind, w := range wordings {
		if w.emoji == nil || w.emoji(said{d: map[string]string{}}) == "" {
			t.Errorf("%s has no emoji", kind)
		}
		if w.channel == nil && w.announce == nil {
			t.Errorf("%s is in the table but told nowhere", kind)
		}
	}
}

func TestFollowUpLinksSurviveTruncation(t *testing.T) {
	inc := &incident.Incident{ID: "x", Number: 1, Title: "Links", Status: incident.Investigating}
	for i := range 45 {
		inc.FollowUps = append(inc.FollowUps, incident.FollowUp{ID: i + 1, Text: strings.Repeat("f", incident.MaxText), Owner: "U2"})
	}
	var all strings.Builder
	for _, page := range followUpsPages(withIssues(inc), "/incident", "github") {
		checkBlocks(t, page)
		all.WriteString(blockTextOf(t, page))
	}
	for i := range 45 {
		if want := fmt.Sprintf("issues/%d|acme/", i+1); !strings.Contains(all.String(), want) {
			t.Fatalf("follow-up %d lost its link (%q)", i+1, want)
		}
	}
	if strings.Count(all.String(), "owner <@U2>") != 45 {
		t.Fatal("an owner was cut off")
	}
}

// withIssues is inc with every follow-up tracked in an issue with a long
// key, whose link must survive the truncation of the text.
func withIssues(inc *incident.Incident) *incident.Incident {
	c := *inc
	c.FollowUps = append([]incident.FollowUp(nil), inc.FollowUps...)
	for i := range c.FollowUps {
		c.FollowUps[i].Issue = incident.IssueRef{Tracker: "github", Key: fmt.Sprintf("acme/%s#%d", strings.Repeat("r", 90), i+1), URL: fmt.Sprintf("https://github.com/acme/ops/issues/%d", i+1)}
	}
	return &c
}

// The answer to the checklist's third-party question says which polled
// third parties report trouble now.
func TestThirdPartyNote(t *testing.T) {
	cfg := incident.DefaultConfig()
	cfg.Checklist = []incident.ChecklistItem{{ID: "third-party", Kind: incident.Question, Text: "Is a third-party service involved?", StatusPages: true}, {ID: "deploy", Kind: incident.Question, Text: "Deploy?"}}
	at := time.Date(2026, 12, 6, 19, 0, 0, 0, time.UTC)
	statuses := func() []thirdparty.Status {
		return []thirdparty.Status{
			{Page: thirdparty.Page{Name: "GitHub", URL: "https://www.githubstatus.com"}, Indicator: "minor", Description: "Minor Service Outage", CheckedAt: at,
				Incidents: []thirdparty.Incident{{Name: "Webhooks <delayed>", Status: "identified"}}},
			{Page: thirdparty.Page{Name: "Stripe", URL: "https://status.stripe.com"}, Indicator: "none", Description: "All Systems Operational", CheckedAt: at},
			{Page: thirdparty.Page{Name: "Unread", URL: "https://x.example.com"}},
		}
	}
	got := thirdPartyNote(cfg, "third-party", statuses)
	want := "\n*Third parties reporting trouble now:*\n:large_yellow_circle: <https://www.githubstatus.com|GitHub>: Minor Service Outage · Webhooks &lt;delayed&gt; (identified)"
	if got != want {
		t.Errorf("note:\n%q\nwant\n%q", got, want)
	}
	if got := thirdPartyNote(cfg, "deploy", statuses); got != "" {
		t.Errorf("another question got %q", got)
	}
	if got := thirdPartyNote(cfg, "third-party", nil); got != "" {
		t.Errorf("without polling: %q", got)
	}
}
