package postmortem_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/postmortem"
)

func ptr(d time.Duration) *time.Duration { return &d }

// TestBuildSeed004 checks the facts the seed's own report states, so that
// the golden file cannot drift from them unnoticed.
func TestBuildSeed004(t *testing.T) {
	_, evs, v := seed004()
	type facts struct {
		Duration, TimeToIdentify, TimeToMitigate *time.Duration
		Rows, Updates                            int
		First, Last                              string
	}
	got := facts{Duration: v.Duration, TimeToIdentify: v.TimeToIdentify, TimeToMitigate: v.TimeToMitigate, Rows: len(v.Timeline)}
	for _, r := range v.Timeline {
		if len(r.Event) > len("Status update:") && r.Event[:len("Status update:")] == "Status update:" {
			got.Updates++
		}
	}
	got.First, got.Last = postmortem.UTC(v.Timeline[0].At), postmortem.UTC(v.Timeline[len(v.Timeline)-1].At)
	want := facts{
		Duration:       ptr(22*time.Hour + 3*time.Minute),
		TimeToIdentify: ptr(0),
		TimeToMitigate: ptr(10*time.Hour + 47*time.Minute),
		Rows:           len(evs),
		Updates:        6,
		First:          "2021-12-02 04:20 UTC", // Dec 1 20:20 PST, before it was declared
		Last:           "2021-12-03 18:27 UTC",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("seed 004 facts mismatch (-want +got):\n%s", diff)
	}
}

func TestBuildTimes(t *testing.T) {
	declared := utc("2024-05-01 10:00")
	status := func(min int, to string) incident.Event {
		return incident.Event{At: declared.Add(time.Duration(min) * time.Minute), Kind: incident.KindStatus, Data: map[string]string{"to": to}}
	}
	resolved := func(min int) incident.Event {
		return incident.Event{At: declared.Add(time.Duration(min) * time.Minute), Kind: incident.KindResolved}
	}
	type times struct{ Identify, Mitigate, Duration *time.Duration }
	tests := []struct {
		name       string
		resolvedAt int // minutes after declared; 0 while open
		events     []incident.Event
		want       times
	}{
		{"none", 0, nil, times{}},
		{"identified only", 0, []incident.Event{status(5, "identified")}, times{Identify: ptr(5 * time.Minute)}},
		{"the usual path", 90, []incident.Event{status(5, "identified"), status(30, "monitoring"), resolved(90)},
			times{ptr(5 * time.Minute), ptr(30 * time.Minute), ptr(90 * time.Minute)}},
		{"first identified counts, not a later one", 0, []incident.Event{status(5, "identified"), status(10, "investigating"), status(20, "identified")},
			times{Identify: ptr(5 * time.Minute)}},
		{"straight to monitoring", 0, []incident.Event{status(7, "monitoring")}, times{ptr(7 * time.Minute), ptr(7 * time.Minute), nil}},
		{"straight to resolved", 60, []incident.Event{resolved(60)}, times{ptr(time.Hour), ptr(time.Hour), ptr(time.Hour)}},
		{"events out of order", 0, []incident.Event{status(30, "monitoring"), status(5, "identified")},
			times{ptr(5 * time.Minute), ptr(30 * time.Minute), nil}},
		{"resolved with no events", 45, nil, times{nil, ptr(45 * time.Minute), ptr(45 * time.Minute)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc := &incident.Incident{DeclaredAt: declared, Roles: map[string]string{incident.CommanderRole: "U0CMD"}}
			if tt.resolvedAt > 0 {
				inc.ResolvedAt = declared.Add(time.Duration(tt.resolvedAt) * time.Minute)
			}
			v := postmortem.Build(inc, tt.events, time.UTC, name)
			got := times{v.TimeToIdentify, v.TimeToMitigate, v.Duration}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildPeople(t *testing.T) {
	calls := map[string]int{}
	resolve := func(id string) string {
		calls[id]++
		return people[id]
	}
	inc := &incident.Incident{
		Title: "  ", DeclaredAt: utc("2024-05-01 10:00"),
		Roles: map[string]string{incident.CommanderRole: "U0CMD", "scribe": "U0SCRIBE", "comms": "U0UNKNOWN"},
	}
	var evs []incident.Event
	for range 3 {
		evs = append(evs, incident.Event{At: inc.DeclaredAt, Kind: incident.KindMessage, Actor: "U0SCRIBE", Text: "hi <@U0CMD>", Data: map[string]string{"author": "U0CMD"}})
	}
	v := postmortem.Build(inc, evs, nil, resolve)

	type people struct {
		Title, Commander, Zone string
		Roles                  []postmortem.Role
		Row                    postmortem.Row
		Calls                  map[string]int
	}
	got := people{v.Title, v.Commander, v.ZoneName, v.Roles, v.Timeline[0], calls}
	want := people{
		Title: "Untitled", Commander: "Priya Natarajan", Zone: "UTC",
		Roles: []postmortem.Role{{Role: "Comms", Name: "U0UNKNOWN"}, {Role: "Scribe", Name: "Lee Chen"}},
		Row:   postmortem.Row{At: inc.DeclaredAt, UTC: "2024-05-01 10:00 UTC", Event: "@Priya Natarajan wrote: hi @Priya Natarajan", Who: "Lee Chen"},
		// Each user once, however often they appear.
		Calls: map[string]int{"U0CMD": 1, "U0SCRIBE": 1, "U0UNKNOWN": 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// TestBuildTriageAndFollowUps checks what Build takes from the checklist
// and the follow-ups: every item in order, answered or not, with who
// answered in the configured zone; owners by name, falling back to the ID.
func TestBuildTriageAndFollowUps(t *testing.T) {
	calls := map[string]int{}
	resolve := func(id string) string {
		calls[id]++
		return people[id]
	}
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	inc := &incident.Incident{
		DeclaredAt: utc("2024-05-01 10:00"),
		Roles:      map[string]string{incident.CommanderRole: "U0CMD"},
		Checklist: []incident.CheckItem{
			{ID: "b", Kind: incident.Question, Text: "Is *prod* down?\nReally <@U0SCRIBE>?", Answer: "yes", AnsweredBy: "U0CMD", AnsweredAt: utc("2024-05-01 10:05"), Suggestion: "Roll back.", Suggested: true},
			{ID: "a", Kind: incident.Task, Text: "Read the logs"},
			{ID: "c", Kind: incident.Task, Text: "Page the vendor", Answer: "skipped", AnsweredBy: "U0UNKNOWN", AnsweredAt: utc("2024-05-01 10:07")},
		},
		FollowUps: []incident.FollowUp{
			{ID: 1, Text: "Fix | the *alert*", Owner: "U0SCRIBE"},
			{ID: 2, Text: "Write the runbook\nfor <@U0CMD>", DoneBy: "U0CMD", DoneAt: utc("2024-05-02 09:00")},
			{ID: 3, Text: "Ask legal", Owner: "U0UNKNOWN", Issue: incident.IssueRef{Tracker: "github", Key: "acme/ops#7", URL: "https://github.com/acme/ops/issues/7"}},
			{ID: 4, Text: "Odd link", Issue: incident.IssueRef{Tracker: "jira", Key: "OPS-[1]", URL: "javascript:alert(1)"}},
		},
	}
	v := postmortem.Build(inc, nil, la, resolve)

	type got struct {
		Triage    []postmortem.Answer
		FollowUps []postmortem.FollowUp
		Calls     map[string]int
	}
	want := got{
		Triage: []postmortem.Answer{
			{Question: `Is **prod** down? Really @Lee Chen?`, Answer: "yes", By: "Priya Natarajan", At: utc("2024-05-01 10:05").In(la)},
			{Question: "Read the logs"},
			{Question: "Page the vendor", Answer: "skipped", By: "U0UNKNOWN", At: utc("2024-05-01 10:07").In(la)},
		},
		FollowUps: []postmortem.FollowUp{
			{Text: `Fix \| the **alert**`, Owner: "Lee Chen"},
			{Text: "Write the runbook\\\nfor @Priya Natarajan", Done: true},
			{Text: "Ask legal", Owner: "U0UNKNOWN", Issue: "GitHub [acme/ops#7](https://github.com/acme/ops/issues/7)"},
			{Text: "Odd link", Issue: "Jira OPS-\\[1\\]"},
		},
		Calls: map[string]int{"U0CMD": 1, "U0SCRIBE": 1, "U0UNKNOWN": 1},
	}
	if diff := cmp.Diff(want, got{v.Triage, v.FollowUps, calls}); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if v.Triage[0].At.Location() != la {
		t.Errorf("answer time in %v, want the configured zone", v.Triage[0].At.Location())
	}
}

// TestBuildRecordedNames: without the chat (the command line), people are
// named as their events recorded them; the chat's current name wins when
// there is one, and a later recorded name wins over an earlier one.
func TestBuildRecordedNames(t *testing.T) {
	at := utc("2024-05-01 10:00")
	inc := &incident.Incident{Number: 1, Title: "t", Severity: "sev1", Status: incident.Resolved, DeclaredAt: at, ResolvedAt: at,
		Roles: map[string]string{incident.CommanderRole: "U0ALICE", "comms": "U0BOB"}}
	evs := []incident.Event{
		{Seq: 1, At: at, Kind: incident.KindDeclared, Actor: "U0ALICE", Data: map[string]string{"severity": "sev1"}, Names: map[string]string{"U0ALICE": "Alice A."}},
		{Seq: 2, At: at, Kind: incident.KindRole, Actor: "U0ALICE", Data: map[string]string{"role": "comms", "user": "U0BOB"}, Names: map[string]string{"U0ALICE": "Alice Adams", "U0BOB": "Bob Brown"}},
		{Seq: 3, At: at, Kind: incident.KindPostmortem, Actor: "U0ALICE"},
	}
	v := postmortem.Build(inc, evs, time.UTC, nil)
	if v.Commander != "Alice Adams" || len(v.Roles) != 1 || v.Roles[0].Name != "Bob Brown" {
		t.Errorf("commander %q, roles %+v; want the recorded names", v.Commander, v.Roles)
	}
	var rows []string
	for _, r := range v.Timeline {
		rows = append(rows, r.Event+" | "+r.Who)
	}
	want := []string{"Declared as sev1 | Alice Adams", "@Bob Brown is now comms | Alice Adams"}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("timeline, without its publication (-want +got):\n%s", diff)
	}
	live := postmortem.Build(inc, evs, time.UTC, func(id string) string {
		if id == "U0BOB" {
			return "Robert Brown"
		}
		return id // what the bot's resolver returns when Slack cannot say
	})
	if live.Commander != "Alice Adams" || live.Roles[0].Name != "Robert Brown" {
		t.Errorf("with the chat: commander %q, roles %+v", live.Commander, live.Roles)
	}
}
