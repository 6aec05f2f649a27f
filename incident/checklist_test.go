package incident_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// triageConfig is the default configuration with a small checklist: items
// for every incident (a task and questions, one with a suggestion and the
// status pages), one from sev1 up and one for sev0 only.
func triageConfig() incident.Config {
	cfg := incident.DefaultConfig()
	cfg.Checklist = []incident.ChecklistItem{
		{ID: "symptoms", Kind: incident.Task, Text: "Describe the symptoms"},
		{ID: "deploy", Kind: incident.Question, Text: "Was there a deploy?", Suggestion: "Consider rolling back."},
		{ID: "third-party", Kind: incident.Question, Text: "Is a third party involved?", Suggestion: "Consider isolating it.", StatusPages: true},
		{ID: "customers", Kind: incident.Question, Text: "Are customers affected?", From: "sev1"},
		{ID: "execs", Kind: incident.Task, Text: "Brief the executives", From: "sev0"},
	}
	cfg.StatusPages = []incident.Link{
		{Name: "AWS", URL: "https://health.aws.amazon.com/health/status"},
		{Name: "Stripe", URL: "https://status.stripe.com"},
	}
	return cfg
}

// thirdPartySuggestion is what triageConfig's third-party item suggests.
const thirdPartySuggestion = "Consider isolating it. Status pages: <https://health.aws.amazon.com/health/status|AWS>, <https://status.stripe.com|Stripe>."

// openStore opens the database file at path, closing it when the test ends
// (closing it earlier, to reopen it, is allowed).
func openStore(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newServiceWith is newService with cfg, which must be valid. It returns the
// database path too, for tests that reopen it.
func newServiceWith(t *testing.T, cfg incident.Config) (*incident.Service, *clock, string) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	path := t.TempDir() + "/sitrep.db"
	c := &clock{t: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}
	return incident.NewService(openStore(t, path), cfg, c.now), c, path
}

func declareAt(t *testing.T, svc *incident.Service, severity string) *incident.Incident {
	t.Helper()
	inc, err := svc.Declare(context.Background(), incident.Declaration{Title: "Checkout failing", Severity: severity, Actor: "U1"})
	if err != nil {
		t.Fatalf("declare %s: %v", severity, err)
	}
	return inc
}

func itemIDs(items []incident.CheckItem) []string {
	var ids []string
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	return ids
}

// wantCode fails the test unless err has code and a message containing msg.
func wantCode(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	if incident.ErrorCode(err) != code || !strings.Contains(incident.ErrorMessage(err), msg) {
		t.Errorf("%s: got %v (code %q), want code %q and a message containing %q", what, err, incident.ErrorCode(err), code, msg)
	}
}

// eventsOf returns every recorded event of incident number, prompts
// included, in the order recorded.
func eventsOf(t *testing.T, svc *incident.Service, number int64) []incident.Event {
	t.Helper()
	inc, err := svc.Get(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := svc.Events(context.Background(), inc.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestItemKindAnswers(t *testing.T) {
	tests := []struct {
		name string
		kind incident.ItemKind
		want []string
	}{
		{"question", incident.Question, []string{"yes", "no", "unknown"}},
		{"task", incident.Task, []string{"done", "skipped"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.kind.Answers()); diff != "" {
				t.Errorf("Answers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateChecklist(t *testing.T) {
	item := func(id string) incident.ChecklistItem {
		return incident.ChecklistItem{ID: id, Kind: incident.Question, Text: "Is " + id + " down?"}
	}
	many := func(n int) []incident.ChecklistItem {
		items := make([]incident.ChecklistItem, n)
		for i := range items {
			items[i] = item(fmt.Sprintf("item-%d", i))
		}
		return items
	}
	tests := []struct {
		name   string
		change func(*incident.Config)
		want   string // "" when valid
	}{
		{"empty checklist", func(c *incident.Config) { c.Checklist, c.StatusPages = nil, nil }, ""},
		{"the test checklist", func(c *incident.Config) {}, ""},
		{"most items", func(c *incident.Config) { c.Checklist = many(incident.MaxChecklistItems) }, ""},
		{"too many items", func(c *incident.Config) { c.Checklist = many(incident.MaxChecklistItems + 1) }, "at most 24 items"},
		{"empty id", func(c *incident.Config) { c.Checklist = []incident.ChecklistItem{item("")} }, `checklist[0].id ""`},
		{"upper-case id", func(c *incident.Config) { c.Checklist = []incident.ChecklistItem{item("Deploy")} }, `checklist[0].id "Deploy": use lowercase`},
		{"id starting with a digit", func(c *incident.Config) { c.Checklist = []incident.ChecklistItem{item("1st")} }, "starting with a letter"},
		{"id too long", func(c *incident.Config) { c.Checklist = []incident.ChecklistItem{item(strings.Repeat("a", 31))} }, "at most 30"},
		{"duplicate id", func(c *incident.Config) { c.Checklist = []incident.ChecklistItem{item("a"), item("b"), item("a")} }, `checklist[2].id "a": listed twice`},
		{"no text", func(c *incident.Config) {
			c.Checklist = []incident.ChecklistItem{{ID: "a", Kind: incident.Task, Text: " \n "}}
		}, "checklist[0] (a): text is required"},
		{"text too long", func(c *incident.Config) {
			c.Checklist = []incident.ChecklistItem{{ID: "a", Kind: incident.Task, Text: strings.Repeat("é", 301)}}
		}, "longer than 300"},
		{"longest text", func(c *incident.Config) {
			c.Checklist = []incident.ChecklistItem{{ID: "a", Kind: incident.Question, Text: strings.Repeat("é", 300), Suggestion: strings.Repeat("é", 300)}}
		}, ""},
		{"suggestion too long", func(c *incident.Config) {
			c.Checklist = []incident.ChecklistItem{{ID: "a", Kind: incident.Question, Text: "x", Suggestion: strings.Repeat("x", 301)}}
		}, "suggestion is longer than 300"},
		{"no kind", func(c *incident.Config) {
			c.Checklist = []incident.ChecklistItem{{ID: "a", Text: "x"}}
		}, `kind "": use question`},
		{"unknown kind", func(c *incident.Config) {
			c.Checklist = []incident.ChecklistItem{{ID: "a", Kind: "poll", Text: "x"}}
		}, `kind "poll"`},
		{"suggestion on a task", func(c *incident.Config) {
			c.Checklist = []incident.ChecklistItem{{ID: "a", Kind: incident.Task, Text: "x", Suggestion: "y"}}
		}, "only questions have suggestions"},
		{"status pages on a task", func(c *incident.Config) {
			c.Checklist = []incident.ChecklistItem{{ID: "a", Kind: incident.Task, Text: "x", StatusPages: true}}
		}, "only questions have suggestions"},
		{"status pages without a suggestion", func(c *incident.Config) {
			c.Checklist = []incident.ChecklistItem{{ID: "a", Kind: incident.Question, Text: "x", StatusPages: true}}
		}, ""},
		{"from a severity", func(c *incident.Config) {
			c.Checklist = []incident.ChecklistItem{{ID: "a", Kind: incident.Task, Text: "x", From: "sev3"}}
		}, ""},
		{"from an unknown severity", func(c *incident.Config) {
			c.Checklist = []incident.ChecklistItem{{ID: "a", Kind: incident.Task, Text: "x", From: "sev9"}}
		}, `from "sev9": not one of the severities (sev0, sev1, sev2, sev3)`},
		{"status page without a name", func(c *incident.Config) {
			c.StatusPages = []incident.Link{{Name: "AWS", URL: "https://a.example"}, {Name: " ", URL: "https://b.example"}}
		}, "status_pages[1]: needs a name and an http(s) url"},
		{"status page without a url", func(c *incident.Config) { c.StatusPages = []incident.Link{{Name: "AWS"}} }, "status_pages[0]"},
		{"status page not on the web", func(c *incident.Config) {
			c.StatusPages = []incident.Link{{Name: "AWS", URL: "ftp://status.example"}}
		}, "status_pages[0]"},
		{"status page name that breaks a Slack link", func(c *incident.Config) {
			c.StatusPages = []incident.Link{{Name: "AWS|Azure", URL: "https://status.example"}}
		}, "must not contain <, > or |"},
		{"status page url with a space", func(c *incident.Config) {
			c.StatusPages = []incident.Link{{Name: "AWS", URL: "https://status.example/a b"}}
		}, "nor the url spaces"},
		{"status page over http", func(c *incident.Config) {
			c.StatusPages = []incident.Link{{Name: "Intranet", URL: "http://status.internal"}}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := triageConfig()
			tt.change(&cfg)
			err := cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// Declaring copies the items that apply to the severity, in template order,
// with the status pages added to the suggestions that ask for them.
func TestDeclareCopiesChecklistForSeverity(t *testing.T) {
	tests := []struct {
		severity string
		want     []string
	}{
		{"sev0", []string{"symptoms", "deploy", "third-party", "customers", "execs"}},
		{"sev1", []string{"symptoms", "deploy", "third-party", "customers"}},
		{"sev2", []string{"symptoms", "deploy", "third-party"}},
		{"sev3", []string{"symptoms", "deploy", "third-party"}},
	}
	for _, tt := range tests {
		t.Run(tt.severity, func(t *testing.T) {
			svc, _, _ := newServiceWith(t, triageConfig())
			inc := declareAt(t, svc, tt.severity)
			got, err := svc.Get(context.Background(), inc.Number)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(inc.Checklist, got.Checklist); diff != "" {
				t.Errorf("stored checklist differs from the declared one (-declared +stored):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, itemIDs(got.Checklist)); diff != "" {
				t.Errorf("checklist (-want +got):\n%s", diff)
			}
			if answered, total := got.ChecklistProgress(); answered != 0 || total != len(tt.want) {
				t.Errorf("ChecklistProgress = %d, %d; want 0, %d", answered, total, len(tt.want))
			}
		})
	}

	svc, _, _ := newServiceWith(t, triageConfig())
	inc := declareAt(t, svc, "sev1")
	want := []incident.CheckItem{
		{ID: "symptoms", Kind: incident.Task, Text: "Describe the symptoms"},
		{ID: "deploy", Kind: incident.Question, Text: "Was there a deploy?", Suggestion: "Consider rolling back."},
		{ID: "third-party", Kind: incident.Question, Text: "Is a third party involved?", Suggestion: thirdPartySuggestion},
		{ID: "customers", Kind: incident.Question, Text: "Are customers affected?"},
	}
	if diff := cmp.Diff(want, inc.Checklist); diff != "" {
		t.Errorf("sev1 checklist items (-want +got):\n%s", diff)
	}
}

func TestStatusPagesInSuggestion(t *testing.T) {
	tests := []struct {
		name       string
		suggestion string
		pages      []incident.Link
		want       string
	}{
		{"with a suggestion", "Check them.", []incident.Link{{Name: "AWS", URL: "https://a.example"}}, "Check them. Status pages: <https://a.example|AWS>."},
		{"without a suggestion", "", []incident.Link{{Name: "AWS", URL: "https://a.example"}, {Name: "GCP", URL: "http://g.example"}},
			"Status pages: <https://a.example|AWS>, <http://g.example|GCP>."},
		{"no pages configured", "Check them.", nil, "Check them."},
		{"neither", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := incident.DefaultConfig()
			cfg.Checklist = []incident.ChecklistItem{{ID: "vendor", Kind: incident.Question, Text: "Vendor down?", Suggestion: tt.suggestion, StatusPages: true}}
			cfg.StatusPages = tt.pages
			svc, _, _ := newServiceWith(t, cfg)
			inc := declareAt(t, svc, "sev2")
			if got := inc.Checklist[0].Suggestion; got != tt.want {
				t.Errorf("Suggestion = %q, want %q", got, tt.want)
			}
		})
	}
}

// Raising the severity adds the items of the new severity at the end,
// keeping the answers given; lowering it keeps every item.
func TestSetSeverityAddsChecklistItems(t *testing.T) {
	ctx := context.Background()
	svc, clk, _ := newServiceWith(t, triageConfig())
	declareAt(t, svc, "sev2")
	clk.add(time.Minute)
	if _, err := svc.Answer(ctx, 1, "U2", "deploy", "yes"); err != nil {
		t.Fatal(err)
	}
	answered := clk.now()

	steps := []struct {
		severity string
		want     []string
		added    string // Data["checklist_added"]
	}{
		{"sev3", []string{"symptoms", "deploy", "third-party"}, ""},
		{"sev1", []string{"symptoms", "deploy", "third-party", "customers"}, "1"},
		{"sev0", []string{"symptoms", "deploy", "third-party", "customers", "execs"}, "1"},
		{"sev2", []string{"symptoms", "deploy", "third-party", "customers", "execs"}, ""},
		{"sev0", []string{"symptoms", "deploy", "third-party", "customers", "execs"}, ""},
	}
	for i, step := range steps {
		clk.add(time.Minute)
		inc, err := svc.SetSeverity(ctx, 1, "U1", step.severity)
		if err != nil {
			t.Fatalf("step %d, to %s: %v", i, step.severity, err)
		}
		if diff := cmp.Diff(step.want, itemIDs(inc.Checklist)); diff != "" {
			t.Errorf("step %d, to %s: checklist (-want +got):\n%s", i, step.severity, diff)
		}
		evs := eventsOf(t, svc, 1)
		if ev := evs[len(evs)-1]; ev.Kind != incident.KindSeverity || ev.Data["checklist_added"] != step.added {
			t.Errorf("step %d, to %s: event %+v, want a severity event with checklist_added %q", i, step.severity, ev, step.added)
		}
		if it := inc.Checklist[1]; it.Answer != "yes" || it.AnsweredBy != "U2" || !it.AnsweredAt.Equal(answered) || !it.Suggested {
			t.Errorf("step %d: the answer to %q was not kept: %+v", i, it.ID, it)
		}
	}
}

func TestAnswer(t *testing.T) {
	ctx := context.Background()
	svc, clk, _ := newServiceWith(t, triageConfig())
	declareAt(t, svc, "sev1")

	type want struct {
		answer, previous, suggestion string
		suggested                    bool
	}
	steps := []struct {
		name     string
		actor    string
		item     string
		answer   string
		code     string // "" for success
		msg      string
		want     want
		answered int // ChecklistProgress afterwards
	}{
		{name: "first yes offers the suggestion", actor: "U2", item: "third-party", answer: "yes",
			want: want{answer: "yes", suggestion: thirdPartySuggestion, suggested: true}, answered: 1},
		{name: "the same answer again", actor: "U3", item: "third-party", answer: "yes", code: incident.ECONFLICT, msg: "already answered yes", answered: 1},
		{name: "changed to no", actor: "U3", item: "third-party", answer: "no",
			want: want{answer: "no", previous: "yes", suggested: true}, answered: 1},
		{name: "yes again offers nothing", actor: "U2", item: "third-party", answer: " YES ",
			want: want{answer: "yes", previous: "no", suggested: true}, answered: 1},
		{name: "unknown, then yes, still nothing", actor: "U2", item: "third-party", answer: "unknown",
			want: want{answer: "unknown", previous: "yes", suggested: true}, answered: 1},
		{name: "first answer no", actor: "U2", item: "deploy", answer: "no",
			want: want{answer: "no"}, answered: 2},
		{name: "a later first yes offers the suggestion", actor: "U2", item: "deploy", answer: "yes",
			want: want{answer: "yes", previous: "no", suggestion: "Consider rolling back.", suggested: true}, answered: 2},
		{name: "yes to a question without a suggestion", actor: "U2", item: "customers", answer: "yes",
			want: want{answer: "yes"}, answered: 3},
		{name: "a task done", actor: "U4", item: "symptoms", answer: "Done",
			want: want{answer: "done"}, answered: 4},
		{name: "a task skipped after all", actor: "U4", item: "symptoms", answer: "skipped",
			want: want{answer: "skipped", previous: "done"}, answered: 4},
		{name: "yes to a task", actor: "U2", item: "symptoms", answer: "yes", code: incident.EINVALID, msg: "Use one of: done, skipped.", answered: 4},
		{name: "done to a question", actor: "U2", item: "deploy", answer: "done", code: incident.EINVALID, msg: "Use one of: yes, no, unknown.", answered: 4},
		{name: "no answer", actor: "U2", item: "deploy", answer: " ", code: incident.EINVALID, msg: "is not an answer", answered: 4},
		{name: "an item of another severity", actor: "U2", item: "execs", answer: "done", code: incident.EINVALID, msg: `no item "execs"`, answered: 4},
		{name: "an unknown item", actor: "U2", item: "nope", answer: "yes", code: incident.EINVALID, msg: `no item "nope"`, answered: 4},
	}
	for _, step := range steps {
		// Steps run in order: each depends on the answers before it.
		t.Run(step.name, func(t *testing.T) {
			clk.add(time.Minute)
			before := eventsOf(t, svc, 1)
			beforeInc, _ := svc.Get(ctx, 1)
			inc, err := svc.Answer(ctx, 1, step.actor, step.item, step.answer)
			evs := eventsOf(t, svc, 1)
			if step.code != "" {
				wantCode(t, "Answer", err, step.code, step.msg)
				after, _ := svc.Get(ctx, 1)
				if len(evs) != len(before) || after.Version != beforeInc.Version {
					t.Errorf("a refused answer left traces: %d → %d events, version %d → %d", len(before), len(evs), beforeInc.Version, after.Version)
				}
				return
			}
			if err != nil {
				t.Fatalf("Answer: %v", err)
			}
			ev := evs[len(evs)-1]
			wantData := map[string]string{"item": step.item, "answer": step.want.answer, "previous": step.want.previous}
			if step.want.suggestion != "" {
				wantData["suggestion"] = step.want.suggestion
			}
			if diff := cmp.Diff(wantData, ev.Data); diff != "" {
				t.Errorf("event data (-want +got):\n%s", diff)
			}
			var it incident.CheckItem
			for _, c := range inc.Checklist {
				if c.ID == step.item {
					it = c
				}
			}
			if ev.Kind != incident.KindChecklist || ev.Actor != step.actor || ev.Text != it.Text || !ev.At.Equal(clk.now()) {
				t.Errorf("event %+v, want a checklist event by %s at %v with the item's text", ev, step.actor, clk.now())
			}
			if it.Answer != step.want.answer || it.AnsweredBy != step.actor || !it.AnsweredAt.Equal(clk.now()) || it.Suggested != step.want.suggested {
				t.Errorf("item %+v, want answer %q by %s at %v, suggested %v", it, step.want.answer, step.actor, clk.now(), step.want.suggested)
			}
			if stored, _ := svc.Get(ctx, 1); !cmp.Equal(stored.Checklist, inc.Checklist) {
				t.Errorf("stored checklist differs from the returned one:\n%s", cmp.Diff(inc.Checklist, stored.Checklist))
			}
			if answered, total := inc.ChecklistProgress(); answered != step.answered || total != 4 {
				t.Errorf("ChecklistProgress = %d, %d; want %d, 4", answered, total, step.answered)
			}
		})
	}

	_, tl, err := svc.Timeline(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tl[1].Describe(func(u string) string { return "@" + u }), "Checklist: Is a third party involved? → yes"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
}

// Answers are accepted while an incident is resolved, for the postmortem,
// but not once it is closed.
func TestAnswerAfterResolveAndClose(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := newServiceWith(t, triageConfig())
	declareAt(t, svc, "sev2")
	if _, err := svc.Resolve(ctx, 1, "U1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Answer(ctx, 1, "U1", "deploy", "yes"); err != nil {
		t.Errorf("answering on a resolved incident: %v", err)
	}
	if _, err := svc.RecordPostmortem(ctx, 1, "U1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(ctx, 1, "U1"); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Answer(ctx, 1, "U1", "deploy", "no")
	wantCode(t, "answering on a closed incident", err, incident.ECONFLICT, "closed")
	if inc, _ := svc.Get(ctx, 1); inc.Checklist[1].Answer != "yes" {
		t.Errorf("the closed incident's answer changed to %q", inc.Checklist[1].Answer)
	}
}

func TestChecklistProgress(t *testing.T) {
	tests := []struct {
		name            string
		answers         []string
		answered, total int
	}{
		{"no checklist", nil, 0, 0},
		{"none answered", []string{"", "", ""}, 0, 3},
		{"some answered", []string{"yes", "", "skipped"}, 2, 3},
		{"all answered", []string{"unknown", "done"}, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc := &incident.Incident{}
			for i, a := range tt.answers {
				inc.Checklist = append(inc.Checklist, incident.CheckItem{ID: fmt.Sprint(i), Answer: a})
			}
			if answered, total := inc.ChecklistProgress(); answered != tt.answered || total != tt.total {
				t.Errorf("ChecklistProgress = %d, %d; want %d, %d", answered, total, tt.answered, tt.total)
			}
		})
	}
}

// TestChecklistStaysWithinLimitAfterTemplateChange declares under one
// template and raises the severity under another with different items:
// the checklist keeps its answered items and stops at MaxChecklistItems,
// so it still fits one Slack message.
func TestChecklistStaysWithinLimitAfterTemplateChange(t *testing.T) {
	ctx := context.Background()
	items := func(prefix string, n int, from string) []incident.ChecklistItem {
		out := make([]incident.ChecklistItem, n)
		for i := range out {
			out[i] = incident.ChecklistItem{ID: fmt.Sprintf("%s-%d", prefix, i), Kind: incident.Task, Text: "Do " + prefix, From: from}
		}
		return out
	}
	old := incident.DefaultConfig()
	old.Checklist = items("old", 20, "")
	svc, clk, path := newServiceWith(t, old)
	declareAt(t, svc, "sev3")

	changed := incident.DefaultConfig()
	changed.Checklist = items("new", incident.MaxChecklistItems, "sev1")
	if err := changed.Validate(); err != nil {
		t.Fatal(err)
	}
	svc2 := incident.NewService(openStore(t, path), changed, clk.now)
	inc, err := svc2.SetSeverity(ctx, 1, "U1", "sev1")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(inc.Checklist); n != incident.MaxChecklistItems {
		t.Errorf("the checklist has %d items after the raise, want it stopped at %d", n, incident.MaxChecklistItems)
	}
	if inc.Checklist[0].ID != "old-0" {
		t.Errorf("the first item is %q, want the old items kept", inc.Checklist[0].ID)
	}
}
