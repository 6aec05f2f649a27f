package jira

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/trackerfake"
	"github.com/sitrep-dev/sitrep/tracker"
)

const (
	email = "sitrep@acme.example"
	token = "ATATT3xFfGF0-test"
)

func newJira(t *testing.T) (*trackerfake.Jira, Config) {
	t.Helper()
	fake := trackerfake.NewJira("OPS", email, token)
	t.Cleanup(fake.Close)
	return fake, Config{Site: "https://acme.atlassian.net", Project: "OPS", Labels: []string{"sitrep"}, Email: email, Token: token, URL: fake.URL()}
}

func TestCreateFindCommentClose(t *testing.T) {
	fake, conf := newJira(t)
	fake.AddUser("dee@example.com", "5b10ac8d82e05b22cc7d4ef5")
	j := New(conf, http.DefaultClient, time.Now)
	ctx := context.Background()
	marker := tracker.Marker("inc-1", 2)
	body := "Add a **canary** for `search`, see [the runbook](https://runbooks.example.com/a?b=1).\\\nSecond line.\n\n---\n\n" + marker
	ref, err := j.Create(ctx, tracker.Issue{Title: "Follow-up from incident #1: canary", Body: body, Marker: marker, OwnerEmail: "dee@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	want := incident.IssueRef{Tracker: "jira", Key: "OPS-1", URL: "https://acme.atlassian.net/browse/OPS-1"}
	if ref != want {
		t.Fatalf("Create = %+v, want %+v", ref, want)
	}
	is := fake.Issues()[0]
	if is.Assignee != "5b10ac8d82e05b22cc7d4ef5" || strings.Join(is.Labels, ",") != "sitrep,"+Label(marker) || is.Type != "Task" {
		t.Fatalf("Jira holds %+v", is)
	}
	var doc map[string]any
	json.Unmarshal(is.Description, &doc)
	d, _ := json.Marshal(doc)
	for _, want := range []string{
		`{"marks":[{"type":"strong"}],"text":"canary","type":"text"}`,
		`{"marks":[{"type":"code"}],"text":"search","type":"text"}`,
		`{"marks":[{"attrs":{"href":"https://runbooks.example.com/a?b=1"},"type":"link"}],"text":"the runbook","type":"text"}`,
		`{"type":"hardBreak"}`,
		`{"type":"rule"}`,
		`"text":"` + marker + `"`,
	} {
		if !strings.Contains(string(d), want) {
			t.Errorf("description lacks %s:\n%s", want, d)
		}
	}
	found, ok, err := j.Find(ctx, marker, time.Time{})
	if err != nil || !ok || found != want {
		t.Fatalf("Find = %+v %v %v", found, ok, err)
	}
	if _, ok, err := j.Find(ctx, tracker.Marker("inc-1", 3), time.Time{}); ok || err != nil {
		t.Fatalf("Find of another marker = %v %v", ok, err)
	}
	if err := j.Comment(ctx, ref, "Marked done in Slack by bob."); err != nil {
		t.Fatal(err)
	}
	if done, err := j.Done(ctx, ref); done || err != nil {
		t.Fatalf("Done = %v %v", done, err)
	}
	if err := j.Close(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if done, err := j.Done(ctx, ref); !done || err != nil {
		t.Fatalf("Done after Close = %v %v", done, err)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	marker := tracker.Marker("inc-1", 1)
	good := tracker.Issue{Title: "title", Body: "text\n\n" + marker, Marker: marker}
	tests := []struct {
		name  string
		setup func(f *trackerfake.Jira, c *Config)
		is    tracker.Issue
		final bool
		wait  bool
		says  string
	}{
		{"no token", func(f *trackerfake.Jira, c *Config) { c.Token = "" }, good, true, false, "SITREP_JIRA_EMAIL and SITREP_JIRA_TOKEN must both be set"},
		{"expired token", func(f *trackerfake.Jira, c *Config) { f.SetToken("new") }, good, true, false, "Jira refused the token"},
		{"no permission", func(f *trackerfake.Jira, c *Config) { f.DenyCreate() }, good, true, false, "You do not have permission to create issues"},
		{"no such project", func(f *trackerfake.Jira, c *Config) { c.Project = "NOPE" }, good, true, false, "project: valid project is required"},
		{"no such issue type", func(f *trackerfake.Jira, c *Config) { c.IssueType = "Story" }, good, true, false, "issuetype: valid issue type is required"},
		{"summary too long", nil, tracker.Issue{Title: strings.Repeat("x", 300), Body: "b", Marker: marker}, true, false, "Summary must be less than 255"},
		{"rate limited", func(f *trackerfake.Jira, c *Config) {
			f.Fail(trackerfake.Failure{Status: 429, RetryAfter: 10 * time.Second})
		}, good, false, true, "rate limiting"},
		{"server error", func(f *trackerfake.Jira, c *Config) { f.Fail(trackerfake.Failure{Status: 503}) }, good, false, false, "having trouble"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, conf := newJira(t)
			if tt.setup != nil {
				tt.setup(fake, &conf)
			}
			_, err := New(conf, http.DefaultClient, time.Now).Create(ctx, tt.is)
			te, ok := tracker.AsError(err)
			if !ok || te.Final != tt.final || (te.Wait > 0) != tt.wait || !strings.Contains(te.Problem, tt.says) {
				t.Fatalf("Create = %v; want final %v, wait %v, saying %q", err, tt.final, tt.wait, tt.says)
			}
			if strings.Contains(err.Error(), token) {
				t.Fatal("the error quotes the token")
			}
			if len(fake.Issues()) != 0 {
				t.Fatal("an issue was made")
			}
		})
	}
}

func TestLostAnswerFound(t *testing.T) {
	fake, conf := newJira(t)
	j := New(conf, http.DefaultClient, time.Now)
	fake.Fail(trackerfake.Failure{Method: "POST", Path: "/rest/api/3/issue", Lost: true, Times: 1})
	marker := tracker.Marker("inc-1", 1)
	if _, err := j.Create(context.Background(), tracker.Issue{Title: "t", Body: marker, Marker: marker}); err == nil {
		t.Fatal("a lost answer succeeded")
	}
	if ref, ok, err := j.Find(context.Background(), marker, time.Time{}); !ok || err != nil || ref.Key != "OPS-1" {
		t.Fatalf("Find = %+v %v %v", ref, ok, err)
	}
}

func TestHook(t *testing.T) {
	h := Hook{Secret: "s"}
	body := trackerfake.JiraHookPayload("OPS-1", true)
	r := httptest.NewRequest("POST", "/hooks/jira", nil)
	r.Header.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(Sign("s", body)))
	if err := h.Verify(r, body); err != nil {
		t.Fatal(err)
	}
	if ch, err := h.Parse(r, body); err != nil || len(ch) != 1 || ch[0] != (tracker.Change{Key: "OPS-1", Done: true}) {
		t.Fatalf("Parse = %+v %v", ch, err)
	}
	if ch, _ := h.Parse(r, trackerfake.JiraHookPayload("OPS-1", false)); len(ch) != 1 || ch[0].Done {
		t.Fatalf("reopened = %+v", ch)
	}
	comment := []byte(`{"webhookEvent":"jira:issue_updated","issue":{"key":"OPS-1","fields":{"status":{"statusCategory":{"key":"new"}}}},"changelog":{"items":[{"field":"assignee"}]}}`)
	if ch, err := h.Parse(r, comment); err != nil || len(ch) != 0 {
		t.Fatalf("an update that is not of the status = %+v %v", ch, err)
	}
	for _, sig := range []string{"", "sha256=", "sha256=" + hex.EncodeToString(Sign("other", body))} {
		r.Header.Set("X-Hub-Signature", sig)
		if h.Verify(r, body) == nil {
			t.Errorf("signature %q verified", sig)
		}
	}
}
