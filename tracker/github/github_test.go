package github

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/trackerfake"
	"github.com/sitrep-dev/sitrep/tracker"
)

const token = "ghp_test_token_0001"

func newGitHub(t *testing.T) (*trackerfake.GitHub, *GitHub) {
	t.Helper()
	fake := trackerfake.NewGitHub("acme/ops", token)
	t.Cleanup(fake.Close)
	g := New(Config{Repo: "acme/ops", Labels: []string{"incident-follow-up"}, Token: token, URL: fake.URL()}, http.DefaultClient, time.Now)
	return fake, g
}

func TestCreateFindCommentClose(t *testing.T) {
	fake, g := newGitHub(t)
	ctx := context.Background()
	marker := tracker.Marker("inc-1", 2)
	is := tracker.Issue{Title: "Follow-up from incident #1: add a canary", Body: "Add a canary.\n\n" + marker, Marker: marker, Assignee: "octocat"}
	ref, err := g.Create(ctx, is)
	if err != nil {
		t.Fatal(err)
	}
	want := incident.IssueRef{Tracker: "github", Key: "acme/ops#1", URL: "https://github.com/acme/ops/issues/1"}
	if ref != want {
		t.Fatalf("Create = %+v, want %+v", ref, want)
	}
	got := fake.Issues("acme/ops")
	if len(got) != 1 || got[0].Title != is.Title || got[0].Body != is.Body || strings.Join(got[0].Labels, ",") != "incident-follow-up" || strings.Join(got[0].Assignees, ",") != "octocat" {
		t.Fatalf("GitHub holds %+v", got)
	}
	found, ok, err := g.Find(ctx, marker, time.Now().Add(-time.Hour))
	if err != nil || !ok || found != want {
		t.Fatalf("Find = %+v, %v, %v; want %+v", found, ok, err, want)
	}
	if _, ok, err := g.Find(ctx, tracker.Marker("inc-1", 3), time.Now().Add(-time.Hour)); err != nil || ok {
		t.Fatalf("Find of another marker = %v, %v; want nothing", ok, err)
	}
	if err := g.Comment(ctx, ref, "Marked done in Slack"); err != nil {
		t.Fatal(err)
	}
	if done, err := g.Done(ctx, ref); err != nil || done {
		t.Fatalf("Done before closing = %v, %v", done, err)
	}
	if err := g.Close(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if done, err := g.Done(ctx, ref); err != nil || !done {
		t.Fatalf("Done after closing = %v, %v", done, err)
	}
	fake.SetState("acme/ops", 1, "closed", "not_planned")
	if done, err := g.Done(ctx, ref); err != nil || done {
		t.Fatalf("Done of an issue closed as not planned = %v, %v; want false", done, err)
	}
	if c := fake.Issues("acme/ops")[0].Comments; len(c) != 1 || c[0] != "Marked done in Slack" {
		t.Fatalf("comments %q", c)
	}
}

// TestLostAnswerFound: GitHub made the issue but the answer was lost; Find
// finds it by its marker, so a retry does not make a second.
func TestLostAnswerFound(t *testing.T) {
	fake, g := newGitHub(t)
	ctx := context.Background()
	fake.Fail(trackerfake.Failure{Method: "POST", Path: "/repos/acme/ops/issues", Lost: true, Times: 1})
	marker := tracker.Marker("inc-9", 1)
	if _, err := g.Create(ctx, tracker.Issue{Title: "t", Body: "b " + marker, Marker: marker}); err == nil {
		t.Fatal("Create with the answer lost succeeded")
	} else if te, ok := tracker.AsError(err); !ok || te.Final {
		t.Fatalf("a lost answer is %v; want a retryable *tracker.Error", err)
	}
	ref, ok, err := g.Find(ctx, marker, time.Now().Add(-time.Minute))
	if err != nil || !ok || ref.Key != "acme/ops#1" {
		t.Fatalf("Find = %+v, %v, %v", ref, ok, err)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	marker := tracker.Marker("inc-1", 1)
	good := tracker.Issue{Title: "title", Body: marker, Marker: marker}
	tests := []struct {
		name   string
		setup  func(f *trackerfake.GitHub, c *Config)
		is     tracker.Issue
		final  bool
		wait   bool
		status int
		says   string
	}{
		{"no token", func(f *trackerfake.GitHub, c *Config) { c.Token = "" }, good, true, false, 0, "SITREP_GITHUB_TOKEN is not set"},
		{"expired token", func(f *trackerfake.GitHub, c *Config) { f.RevokeToken(token) }, good, true, false, 401, "refused the token (GitHub said: Bad credentials)"},
		{"token lacks scope", func(f *trackerfake.GitHub, c *Config) { f.AddToken("ghp_read", "read:org"); c.Token = "ghp_read" }, good, true, false, 403, "lacks the repo scope"},
		{"no such repository", func(f *trackerfake.GitHub, c *Config) { c.Repo = "acme/nope" }, good, true, false, 404, "no such project or repository"},
		{"validation", nil, tracker.Issue{Title: "", Body: "x"}, true, false, 422, "Validation Failed; Issue title missing_field"},
		{"rate limited", func(f *trackerfake.GitHub, c *Config) {
			f.Fail(trackerfake.Failure{Status: 429, RetryAfter: 30 * time.Second})
		}, good, false, true, 429, "rate limiting"},
		{"secondary rate limit", func(f *trackerfake.GitHub, c *Config) {
			f.Fail(trackerfake.Failure{Status: 403, RetryAfter: 20 * time.Second})
		}, good, false, true, 403, "rate limiting"},
		{"server error", func(f *trackerfake.GitHub, c *Config) { f.Fail(trackerfake.Failure{Status: 502}) }, good, false, false, 502, "having trouble"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := trackerfake.NewGitHub("acme/ops", token)
			defer fake.Close()
			conf := Config{Repo: "acme/ops", Token: token, URL: fake.URL()}
			if tt.setup != nil {
				tt.setup(fake, &conf)
			}
			_, err := New(conf, http.DefaultClient, time.Now).Create(ctx, tt.is)
			te, ok := tracker.AsError(err)
			if !ok {
				t.Fatalf("Create = %v; want a *tracker.Error", err)
			}
			if te.Final != tt.final || (te.Wait > 0) != tt.wait || te.Status != tt.status || !strings.Contains(te.Problem, tt.says) {
				t.Fatalf("Create = %+v; want final %v, wait %v, status %d, saying %q", te, tt.final, tt.wait, tt.status, tt.says)
			}
			if strings.Contains(te.Error(), token) {
				t.Fatal("the error quotes the token")
			}
			if len(fake.Issues("acme/ops")) != 0 {
				t.Fatal("an issue was made")
			}
		})
	}
}

func TestSignature(t *testing.T) {
	// GitHub's documented test vector.
	got := hex.EncodeToString(Sign("It's a Secret to Everybody", []byte("Hello, World!")))
	if want := "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestHook(t *testing.T) {
	template, err := os.ReadFile("../../testdata/shared/integrations/github/webhook-issues-closed.json")
	if err != nil {
		t.Fatal(err)
	}
	h := Hook{Secret: "s3cret"}
	req := func(event string, body []byte, sig string) *http.Request {
		r := httptest.NewRequest("POST", "/hooks/github", strings.NewReader(string(body)))
		r.Header.Set("X-GitHub-Event", event)
		r.Header.Set("Content-Type", "application/json")
		if sig != "" {
			r.Header.Set("X-Hub-Signature-256", sig)
		}
		return r
	}
	sign := func(b []byte) string { return "sha256=" + hex.EncodeToString(Sign("s3cret", b)) }
	// The real delivery as it came.
	r := req("issues", template, sign(template))
	if err := h.Verify(r, template); err != nil {
		t.Fatal(err)
	}
	ch, err := h.Parse(r, template)
	if err != nil || len(ch) != 1 || ch[0] != (tracker.Change{Key: "pritesh-30/test-repo#8", Done: true}) {
		t.Fatalf("Parse = %+v, %v", ch, err)
	}
	for _, bad := range []string{"", "sha256=00", "sha256=zz", "sha1=" + strings.Repeat("0", 40), sign([]byte("other"))} {
		if err := h.Verify(req("issues", template, bad), template); err == nil {
			t.Errorf("signature %q verified", bad)
		}
	}
	notPlanned, _ := trackerfake.HookPayload(template, "acme/ops", 3, "closed", "not_planned")
	if ch, err := h.Parse(req("issues", notPlanned, ""), notPlanned); err != nil || len(ch) != 0 {
		t.Fatalf("closed as not planned = %+v, %v; want no change", ch, err)
	}
	reopened, _ := trackerfake.HookPayload(template, "acme/ops", 3, "reopened", "")
	if ch, err := h.Parse(req("issues", reopened, ""), reopened); err != nil || len(ch) != 1 || ch[0] != (tracker.Change{Key: "acme/ops#3", Done: false}) {
		t.Fatalf("reopened = %+v, %v", ch, err)
	}
	if ch, err := h.Parse(req("ping", []byte(`{"zen":"x"}`), ""), []byte(`{"zen":"x"}`)); err != nil || len(ch) != 0 {
		t.Fatalf("ping = %+v, %v", ch, err)
	}
	if _, err := h.Parse(req("issues", []byte("not json"), ""), []byte("not json")); err == nil {
		t.Fatal("a body that is not JSON parsed")
	}
}
