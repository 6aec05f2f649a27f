package postmortem_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/postmortem"
)

// people is the users.info a test's name resolver knows.
var people = map[string]string{
	"U0CMD":    "Priya Natarajan",
	"U0COMMS":  "Sam Ortiz",
	"U0SCRIBE": "Lee Chen",
}

func name(id string) string { return people[id] }

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// pst is a time written as the seed's postmortem writes it, in Pacific time.
func pst(s string) time.Time {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		panic(err)
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// seed004 rebuilds the Welkin Health incident of seeds/004 as Sitrep would
// have recorded it: the status page's updates as status updates, its status
// changes at their times, and the postmortem's "timeline of events" as the
// scribe's notes, at the Pacific times it gives. The texts are as Slack
// stores them (entities encoded).
func seed004() (*incident.Incident, []incident.Event, postmortem.View) {
	declared := utc("2021-12-02 20:24")
	inc := &incident.Incident{
		Number:   4,
		Title:    "L1 - Sub system degradation: Welkin Care (Multiple issues)",
		Severity: "sev1",
		Status:   incident.Resolved,
		Summary: "We started experiencing an issue with the Welkin notification system: it stopped showing some users the red dot in the notification tray. " +
			"A rolling restart meant to fix it took down the machines hosting the Care portal, and a dependency moved by a third party delayed the fix by about two hours.",
		Impact: "Some users saw no red dot in the notification tray until they refreshed the screen.\n\n" +
			"From Dec 2 17:50 PST the Care portal was down, and the API and Designer were affected as well, until the emergency patch was rolled out.",
		RootCause: "There were several issues here that caused the system to break:\n\n" +
			"1. Prior to the incident, on Nov 30th, we prepared a feature that added extra security layer, by connecting AWS Parameter Store and Secrets Manager. By extending our use of that integration, we migrated to a different API to support that, however a rolling restart has triggered infrastructure change to be deployed before the code change was released, as a result it created incompatible environment and prevented new machines to be started\n" +
			"2. Kafka Client - once the first issue was mitigated and we were making a change in the production environment, repository for Kafka client that we use to download Kafka jar from, was moved to archive (by the hosting party), hence changed the URL. In turn, this prevented our code to be assembled in the new environment hence delayed the fix to be deployed by approximately 2 hours, while we mitigated the issue",
		Services:   []string{"Care", "Designer", "Admin"},
		DeclaredBy: "U0CMD",
		Roles:      map[string]string{incident.CommanderRole: "U0CMD", "comms": "U0COMMS", "scribe": "U0SCRIBE"},
		DeclaredAt: declared,
		ResolvedAt: utc("2021-12-03 18:27"),
	}
	// The default checklist of a sev1 incident as the team might have
	// answered it: the third party (the notification vendor) at once, the
	// outage and the infrastructure change only once the rolling restart
	// had failed, and the time to restore never.
	answered := func(id string, kind incident.ItemKind, text, answer, by, at string) incident.CheckItem {
		it := incident.CheckItem{ID: id, Kind: kind, Text: text, Answer: answer, AnsweredBy: by}
		if at != "" {
			it.AnsweredAt = utc(at)
		}
		return it
	}
	q, task := incident.Question, incident.Task
	inc.Checklist = []incident.CheckItem{
		answered("symptoms", task, "Describe the symptoms in a note (`/incident note …`)", "done", "U0SCRIBE", "2021-12-02 20:30"),
		answered("total-outage", q, "Is the service totally down, rather than degraded?", "yes", "U0CMD", "2021-12-03 01:55"),
		answered("recent-deploy", q, "Was there a deployment recently?", "no", "U0CMD", "2021-12-02 20:31"),
		answered("infra-change", q, "Was there a change to the infrastructure recently?", "yes", "U0CMD", "2021-12-03 04:30"),
		answered("schema-change", q, "Was there a change to the database schema recently?", "", "", ""),
		answered("third-party", q, "Is a third-party service involved?", "yes", "U0CMD", "2021-12-02 20:33"),
		answered("errors-and-logs", task, "Look at the error tracker and the logs", "done", "U0SCRIBE", "2021-12-02 20:40"),
		answered("customers", q, "Are customers affected?", "yes", "U0COMMS", "2021-12-02 20:35"),
		answered("status-page", task, "Update the public status page", "done", "U0COMMS", "2021-12-02 20:24"),
		answered("time-to-restore", task, "Estimate the time to restore service, even partially, without fixing the cause", "", "", ""),
		answered("time-to-fix", task, "Estimate the worst-case time to fix it for good, and take the shorter path", "skipped", "U0CMD", "2021-12-03 05:50"),
	}
	inc.FollowUps = []incident.FollowUp{
		{ID: 1, Text: "Separate the infrastructure release from the code release", Owner: "U0CMD", CreatedBy: "U0CMD", CreatedAt: utc("2021-12-03 19:00"), DoneBy: "U0CMD", DoneAt: utc("2021-12-06 17:00")},
		{ID: 2, Text: "Host the libraries that are not on Maven Central in our build space", Owner: "U0SCRIBE", CreatedBy: "U0CMD", CreatedAt: utc("2021-12-03 19:01")},
		{ID: 3, Text: "Check health checks by hand during a rolling restart before the next step", CreatedBy: "U0SCRIBE", CreatedAt: utc("2021-12-03 19:02")},
	}
	var evs []incident.Event
	add := func(at time.Time, kind incident.EventKind, actor, text string, data map[string]string) {
		evs = append(evs, incident.Event{Seq: int64(len(evs) + 1), At: at, Kind: kind, Actor: actor, Text: text, Data: data})
	}
	status := func(at time.Time, from, to string) {
		add(at, incident.KindStatus, "U0CMD", "", map[string]string{"from": from, "to": to})
	}
	update := func(at time.Time, text string) {
		add(at, incident.KindUpdate, "U0COMMS", text, map[string]string{"severity": "sev1"})
	}
	note := func(at time.Time, text string) { add(at, incident.KindNote, "U0SCRIBE", text, nil) }

	add(declared, incident.KindDeclared, "U0CMD", "", map[string]string{"severity": "sev1"})
	status(declared, "investigating", "identified")
	update(declared, "We started experiencing an issue with Welkin Notification system. The issue affects some of the user, by not displaying a red dot icon in the notification tray. Refresh of the screen will still bring all the notifications back. We are working with our vendors to resolve the issue. There is no other side effect known at this point")
	update(utc("2021-12-03 04:25"), "We are continuing to work on a fix for this issue.")
	update(utc("2021-12-03 04:26"), "We have escalated the issue to major outage and working all hands on deck to resolve it")
	update(utc("2021-12-03 05:44"), "Our team has found the root cause and working on fixing it. Currently no ETA is available")
	update(utc("2021-12-03 06:28"), "Our team has identified several problems related to our service and continues working on it. We expect the issue to be resolved soon and apologize for the outage")
	status(utc("2021-12-03 07:11"), "identified", "monitoring")
	update(utc("2021-12-03 07:11"), "A fix has been implemented and we are monitoring the results.")
	add(utc("2021-12-03 18:27"), incident.KindResolved, "U0CMD", "This incident has been resolved.", map[string]string{"from": "monitoring"})

	// The postmortem's own timeline, recorded afterwards by the scribe.
	note(pst("2021-12-01 20:20"), "The team noticed excessive API calls to our notification sub system (pusher). The team is working on troubleshooting the issue with the vendor")
	note(pst("2021-12-02 06:30"), "We decided to increase our plan limits with the sub system service provider, to avoid disruptions delivering notifications, while continue investigating the issue we have with the service")
	note(pst("2021-12-02 12:24"), "The plan limit exhausted itself and the team put a break on notifications system while continue investigating what is causing excessive API calls")
	note(pst("2021-12-02 17:30"), "After reviewing the machine set ups, we decided to execute a rolling restart before attempting to fix the issue (post working hours)")
	note(pst("2021-12-02 17:50"), "Rolling restart has failed, and took down the machines hosting Care portal (API and Designer were affected as well)")
	note(pst("2021-12-02 20:25"), "We have identified the root cause of the issue, and working to resolve it")
	note(pst("2021-12-02 21:40"), "We have found a secondary root cause and were working to mitigate that")
	note(pst("2021-12-02 22:50"), "We have started an emergency patch release to address both primary and secondary issues and roll out across different environments")
	note(pst("2021-12-02 23:11"), "The issue has been resolved and remained in monitoring for next 8 hours to ensure working properly")

	learnings := []string{
		"Separate infrastructure deployment from code deployment - part of the reason why rolling restart didn’t work is that our infra and code were written to deploy at the same time. Since then, the team has separated infrastructure release and code release into different pipelines that will be written, maintained and deployed independently going forward. It will allow us to find issues like that in our lower environments before they are promoted further",
		"Dependency libraries - majority of the libraries that we use are not being moved from one location to another and hosted on maven central. For the few libraries that are not, we decided to host the final products in our build space, to avoid third parties moving them to archive. We will continue doing so going forward, including updating the dependencies versions to newer ones, once they are released",
		"Rolling restart deep dive - While rolling restart is the most common strategy, in case of AWS, when machine is coming online, it reports status OK, before waiting on health check. In this case, machine has started, but once health check failed twice, the machine was terminated. Our learning here is to validate health check manually, in case of rolling restart before proceeding further to a next step in a restart",
	}
	inc.Learnings = strings.Join(learnings, "\n")
	inc.Mitigation = "An emergency patch release that addressed both the primary and the secondary issue, rolled out across the environments."
	inc.ContributingFactors = "The repository we downloaded the Kafka client from was moved to archive by its hosting party, which delayed the fix by about two hours."
	inc.Remediations = "- Separate the infrastructure and code release pipelines\n- Host third-party libraries in our build space\n- Validate health checks manually during a rolling restart"
	v := build(inc, evs)
	return inc, evs, v
}

func build(inc *incident.Incident, evs []incident.Event) postmortem.View {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		panic(err)
	}
	return postmortem.Build(inc, evs, loc, name)
}

// noEvents is an incident just declared, with nothing recorded yet, not
// even its declaration (as an import might leave it).
func noEvents() postmortem.View {
	inc := &incident.Incident{
		Number: 7, Title: "Checkout latency", Severity: "sev3", Status: incident.Investigating,
		Roles:      map[string]string{incident.CommanderRole: "U0CMD"},
		DeclaredAt: utc("2024-03-10 09:58"),
	}
	return build(inc, nil)
}

// stillOpen is an incident in monitoring, with a drill flag and an unknown
// user, a checklist half answered, and follow-ups open and done, with an
// owner and without.
func stillOpen() postmortem.View {
	inc := &incident.Incident{
		Number: 12, Title: "Login failures for SSO users", Severity: "sev2", Status: incident.Monitoring,
		Summary:  "SSO logins fail for some tenants.",
		Services: []string{"auth", "sso-gateway"},
		Drill:    true, Private: true,
		Roles:      map[string]string{incident.CommanderRole: "U0CMD", "scribe": "U0GONE"},
		DeclaredAt: utc("2024-11-05 23:40"),
		Checklist: []incident.CheckItem{
			{ID: "symptoms", Kind: incident.Task, Text: "Describe the symptoms in a note", Answer: "done", AnsweredBy: "U0CMD", AnsweredAt: utc("2024-11-05 23:42")},
			{ID: "data-at-risk", Kind: incident.Question, Text: "Is customer data at risk?"},
			// Answered by someone users.info no longer knows, the next day in UTC.
			{ID: "third-party", Kind: incident.Question, Text: "Is a third-party service involved?", Suggestion: "Check <https://status.example.com|the IdP status page>.",
				Answer: "yes", AnsweredBy: "U0GONE", AnsweredAt: utc("2024-11-06 00:51"), Suggested: true},
			{ID: "rollback", Kind: incident.Task, Text: "Roll back the IdP change", Answer: "skipped", AnsweredBy: "U0CMD", AnsweredAt: utc("2024-11-06 01:00")},
		},
		FollowUps: []incident.FollowUp{
			{ID: 1, Text: "Alert on IdP certificate expiry", Owner: "U0CMD", CreatedBy: "U0CMD", CreatedAt: utc("2024-11-06 01:20"), DoneBy: "U0CMD", DoneAt: utc("2024-11-06 02:00")},
			{ID: 2, Text: "Document the SSO rollback\nin the runbook", CreatedBy: "U0CMD", CreatedAt: utc("2024-11-06 01:21")},
			{ID: 3, Text: "Ask the IdP vendor for <https://idp.example.com/notice|rotation notices>", Owner: "U0GONE", CreatedBy: "U0CMD", CreatedAt: utc("2024-11-06 01:22")},
			{ID: 4, Text: "Tell <@U0COMMS> the tenants' names", CreatedBy: "U0CMD", CreatedAt: utc("2024-11-06 01:23"), DoneBy: "U0COMMS", DoneAt: utc("2024-11-06 01:30")},
		},
	}
	evs := []incident.Event{
		{Seq: 1, At: utc("2024-11-05 23:40"), Kind: incident.KindDeclared, Actor: "U0CMD", Data: map[string]string{"severity": "sev2"}},
		{Seq: 2, At: utc("2024-11-05 23:45"), Kind: incident.KindRole, Actor: "U0CMD", Data: map[string]string{"role": "scribe", "user": "U0GONE"}},
		{Seq: 3, At: utc("2024-11-06 01:15"), Kind: incident.KindStatus, Actor: "U0CMD", Data: map[string]string{"from": "investigating", "to": "monitoring"}},
		{Seq: 4, At: utc("2024-11-06 00:50"), Kind: incident.KindMessage, Actor: "U0GONE", Text: "IdP cert rotated at 23:30, see <https://status.example.com/idp?a=1&amp;b=2|IdP status>", Data: map[string]string{"author": "U0GONE"}},
	}
	return build(inc, evs)
}

// hostileText is user text written to break a Markdown document, as Slack
// would store it.
const hostileText = "# Not a heading | col | col\n" +
	"---|---\n" +
	"&lt;script&gt;alert(1)&lt;/script&gt; and <script>alert(2)</script> `code` ``` fence\n" +
	"&gt; quote\n" +
	"- list item\n" +
	"1. ordered\n" +
	"    indented code\n" +
	"<!channel> <!here> <@U0CMD> <@U0NOBODY|ghost> <@U0NOLABEL> <#C1|general> <#C2>\n" +
	"<https://example.com/a_(b)|a link | with pipe> <https://example.com/x?y=1&amp;z=2> <javascript:alert(1)|click>\n" +
	"**bold** _it_ snake_case [x](javascript:alert(3)) ![img](https://e.com/i.png) &amp;lt;b&amp;gt; AT&amp;T\n" +
	"<img src=x onerror=alert(4)> &lt;img src=x onerror=alert(5)&gt; \\| trailing backslash \\\n" +
	"bare https://example.com/path_(1). done\n\n\n\n" +
	"===\n" +
	"~~~\n" +
	"\t+ tab"

// hostile puts hostile text in every field a person writes.
func hostile() postmortem.View {
	inc := &incident.Incident{
		Number: 66, Title: hostileText, Severity: "sev1", Status: incident.Resolved,
		Summary: hostileText, Impact: hostileText, RootCause: hostileText,
		Mitigation: hostileText, ContributingFactors: hostileText, WentWell: hostileText, WentBadly: hostileText,
		Learnings: hostileText, Remediations: hostileText,
		Services:   []string{"a|b", "<b>svc</b>", "# x"},
		Roles:      map[string]string{incident.CommanderRole: "U0EVIL", "comms": "U0CMD"},
		DeclaredAt: utc("2024-01-01 00:00"), ResolvedAt: utc("2024-01-04 05:30"),
		// Checklist texts come from the config file, and an answer from
		// the database: both are escaped all the same.
		Checklist: []incident.CheckItem{
			{ID: "evil", Kind: incident.Question, Text: hostileText, Answer: "yes | <b>no</b>\n# x", AnsweredBy: "U0EVIL", AnsweredAt: utc("2024-01-01 00:01")},
			{ID: "unanswered", Kind: incident.Task, Text: hostileText},
		},
		FollowUps: []incident.FollowUp{
			{ID: 1, Text: hostileText, Owner: "U0EVIL", CreatedBy: "U0EVIL", CreatedAt: utc("2024-01-01 00:02")},
			{ID: 2, Text: hostileText, CreatedBy: "U0EVIL", CreatedAt: utc("2024-01-01 00:03"), DoneBy: "U0EVIL", DoneAt: utc("2024-01-01 00:04")},
		},
	}
	evs := []incident.Event{
		{Seq: 1, At: utc("2024-01-01 00:00"), Kind: incident.KindNote, Actor: "U0EVIL", Text: hostileText},
		{Seq: 2, At: utc("2024-01-01 00:05"), Kind: incident.KindMessage, Actor: "U0EVIL", Text: hostileText, Data: map[string]string{"author": "U0CMD"}},
		{Seq: 3, At: utc("2024-01-01 00:06"), Kind: incident.KindUpdate, Actor: "U0CMD", Text: "| a | b |\n| --- | --- |"},
	}
	evil := func(id string) string {
		if id == "U0EVIL" {
			return "Mallory | <b>`x`</b>\n# boss"
		}
		return name(id)
	}
	return postmortem.Build(inc, evs, time.UTC, evil)
}

// reviewed is an incident recorded from Slack alone, every section
// filled, rendered without Slack (as the command line does): people are
// named as their events recorded them, and Slack's markup becomes
// Markdown.
func reviewed() postmortem.View {
	at := func(m int) time.Time { return utc("2026-12-06 09:12").Add(time.Duration(m) * time.Minute) }
	alice, bob := map[string]string{"U0ALICE": "Alice Adams"}, map[string]string{"U0BOB": "Bob Brown"}
	inc := &incident.Incident{
		Number: 31, Title: "Checkout failing", Severity: "sev1", Status: incident.Closed,
		Summary:             "Renewed the cert; payments recovered at 09:52 &amp; stayed up",
		Impact:              "EU *card* payments failed for 30% of customers",
		RootCause:           "An expired _intermediate_ cert on the payments LB",
		Mitigation:          "Renewed the cert and restarted the LB (`lb-restart --all`)",
		ContributingFactors: "No alert on expiry; renewal was manual",
		WentWell:            "Paging reached <@U0ALICE> within a minute",
		WentBadly:           "The status page was updated 20 minutes late",
		Learnings:           "Certificates expire quietly\nRenewals must be automated",
		Remediations:        "- Alert 14 days before a cert expires\n- Automate renewal",
		Services:            []string{"checkout", "payments-api"},
		Roles:               map[string]string{incident.CommanderRole: "U0ALICE", "comms": "U0BOB"},
		DeclaredAt:          at(0), ResolvedAt: at(40), ClosedAt: at(60),
		FollowUps: []incident.FollowUp{
			{ID: 1, Text: "Alert 14 days before a cert expires", CreatedBy: "U0BOB", CreatedAt: at(50)},
			{ID: 2, Text: "Automate renewal", Owner: "U0ALICE", CreatedBy: "U0BOB", CreatedAt: at(50)},
		},
	}
	evs := []incident.Event{
		{Seq: 1, At: at(0), Kind: incident.KindDeclared, Actor: "U0ALICE", Data: map[string]string{"severity": "sev1"}, Names: alice},
		{Seq: 2, At: at(2), Kind: incident.KindRole, Actor: "U0ALICE", Data: map[string]string{"role": "comms", "user": "U0BOB"}, Names: map[string]string{"U0ALICE": "Alice Adams", "U0BOB": "Bob Brown"}},
		{Seq: 3, At: at(3), Kind: "impact", Actor: "U0BOB", Text: "EU *card* payments fail", Names: bob},
		{Seq: 4, At: at(5), Kind: incident.KindNote, Actor: "U0ALICE", Text: "Rolled back `deploy 42` — see <https://runbook.example.com|runbook>", Names: alice},
		{Seq: 5, At: at(12), Kind: incident.KindStatus, Actor: "U0ALICE", Data: map[string]string{"from": "investigating", "to": "identified"}, Names: alice},
		{Seq: 6, At: at(15), Kind: incident.KindUpdate, Actor: "U0BOB", Text: "*What we know:* Cert expired at 09:12\n*What we are doing:* Renewing it", Names: bob},
		{Seq: 7, At: at(16), Kind: incident.KindPostmortem, Actor: "U0ALICE", Data: map[string]string{"draft": "true"}, Names: alice},
		{Seq: 8, At: at(40), Kind: "root_cause", Actor: "U0ALICE", Text: "An expired _intermediate_ cert on the payments LB", Names: alice},
		{Seq: 9, At: at(40), Kind: "mitigation", Actor: "U0ALICE", Text: "Renewed the cert and restarted the LB (`lb-restart --all`)", Names: alice},
		{Seq: 10, At: at(40), Kind: incident.KindResolved, Actor: "U0ALICE", Text: "Renewed the cert; payments recovered at 09:52 &amp; stayed up", Data: map[string]string{"from": "identified"}, Names: alice},
		{Seq: 11, At: at(50), Kind: "learnings", Actor: "U0BOB", Text: "Certificates expire quietly\nRenewals must be automated", Names: bob},
		{Seq: 12, At: at(50), Kind: incident.KindFollowUp, Actor: "U0BOB", Text: "Automate renewal", Data: map[string]string{"id": "2", "owner": "U0ALICE"}, Names: map[string]string{"U0ALICE": "Alice Adams", "U0BOB": "Bob Brown"}},
		{Seq: 13, At: at(55), Kind: incident.KindPostmortem, Actor: "U0BOB", Names: bob},
		{Seq: 14, At: at(60), Kind: incident.KindClosed, Actor: "U0ALICE", Names: alice},
	}
	return postmortem.Build(inc, evs, time.UTC, nil)
}

// many is a long incident with n timeline events of every kind.
func many(n int) (*incident.Incident, []incident.Event) {
	start := utc("2024-06-01 12:00")
	inc := &incident.Incident{
		Number: 9000, Title: "A very long incident", Severity: "sev0", Status: incident.Resolved,
		Roles:      map[string]string{incident.CommanderRole: "U0CMD", "comms": "U0COMMS"},
		DeclaredAt: start, ResolvedAt: start.Add(time.Duration(n) * time.Minute),
	}
	evs := make([]incident.Event, n)
	kinds := []incident.EventKind{incident.KindNote, incident.KindUpdate, incident.KindMessage, incident.KindStatus, incident.KindRole}
	for i := range evs {
		evs[i] = incident.Event{
			Seq: int64(i + 1), At: start.Add(time.Duration(i) * time.Minute), Kind: kinds[i%len(kinds)], Actor: "U0SCRIBE",
			Text: fmt.Sprintf("Step %d: checked <https://grafana.example.com/d/%d|dashboard %d> with <@U0CMD>; p99 &gt; 2s | still high\nnext: restart", i, i, i),
			Data: map[string]string{"author": "U0COMMS", "from": "identified", "to": "monitoring", "role": "comms", "user": "U0COMMS"},
		}
	}
	return inc, evs
}
