package linear

import (
	"context"
	"encoding/hex"
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
	team = "9cfb482a-81e3-4154-b5b9-2c805e70a02d"
	key  = "lin_api_testkey0001"
)

func newLinear(t *testing.T) (*trackerfake.Linear, Config) {
	t.Helper()
	fake := trackerfake.NewLinear(team, key)
	t.Cleanup(fake.Close)
	return fake, Config{Team: team, Token: key, URL: fake.URL()}
}

func TestCreateFindCommentClose(t *testing.T) {
	fake, conf := newLinear(t)
	fake.AddUser("dee@example.com", "u-dee")
	l := New(conf, http.DefaultClient, time.Now)
	ctx := context.Background()
	marker := tracker.Marker("inc-1", 1)
	body := "Add a **canary**.\n\n" + marker
	ref, err := l.Create(ctx, tracker.Issue{Title: "Follow-up from incident #1: canary", Body: body, Marker: marker, OwnerEmail: "dee@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	want := incident.IssueRef{Tracker: "linear", Key: "OPS-1", URL: "https://linear.app/acme/issue/ops-1/slug"}
	if ref != want {
		t.Fatalf("Create = %+v, want %+v", ref, want)
	}
	if is := fake.Issues()[0]; is.Description != body || is.Assignee != "u-dee" {
		t.Fatalf("Linear holds %+v", is)
	}
	if got, ok, err := l.Find(ctx, marker, time.Time{}); !ok || err != nil || got != want {
		t.Fatalf("Find = %+v %v %v", got, ok, err)
	}
	if _, ok, err := l.Find(ctx, tracker.Marker("inc-1", 2), time.Time{}); ok || err != nil {
		t.Fatalf("Find of another = %v %v", ok, err)
	}
	if err := l.Comment(ctx, ref, "done in Slack"); err != nil {
		t.Fatal(err)
	}
	if done, err := l.Done(ctx, ref); done || err != nil {
		t.Fatalf("Done = %v %v", done, err)
	}
	if err := l.Close(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if done, err := l.Done(ctx, ref); !done || err != nil {
		t.Fatalf("Done after Close = %v %v", done, err)
	}
	if c := fake.Issues()[0].Comments; len(c) != 1 {
		t.Fatalf("comments %q", c)
	}
}

func TestErrors(t *testing.T) {
	marker := tracker.Marker("inc-1", 1)
	good := tracker.Issue{Title: "t", Body: marker, Marker: marker}
	tests := []struct {
		name  string
		setup func(f *trackerfake.Linear, c *Config)
		is    tracker.Issue
		final bool
		wait  bool
		says  string
	}{
		{"no key", func(f *trackerfake.Linear, c *Config) { c.Token = "" }, good, true, false, "SITREP_LINEAR_TOKEN is not set"},
		{"expired key", func(f *trackerfake.Linear, c *Config) { f.SetKey("lin_api_other") }, good, true, false, "Linear refused the token (Linear said: Authentication required"},
		{"key with Bearer", func(f *trackerfake.Linear, c *Config) { c.Token = "Bearer " + key }, good, true, false, "refused the token"},
		{"read-only key, errors with HTTP 200", func(f *trackerfake.Linear, c *Config) { f.ReadOnly() }, good, true, false, "did not allow it"},
		{"no such team", func(f *trackerfake.Linear, c *Config) { c.Team = "00000000-0000-0000-0000-000000000000" }, good, true, false, "could not find referenced Team"},
		{"empty title", nil, tracker.Issue{Title: " ", Body: "x"}, true, false, "title should not be empty"},
		{"rate limited", func(f *trackerfake.Linear, c *Config) {
			f.Fail(trackerfake.Failure{Status: 429, RetryAfter: 5 * time.Second})
		}, good, false, true, "rate limiting"},
		{"server error", func(f *trackerfake.Linear, c *Config) { f.Fail(trackerfake.Failure{Status: 502}) }, good, false, false, "having trouble"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, conf := newLinear(t)
			if tt.setup != nil {
				tt.setup(fake, &conf)
			}
			_, err := New(conf, http.DefaultClient, time.Now).Create(context.Background(), tt.is)
			te, ok := tracker.AsError(err)
			if !ok || te.Final != tt.final || (te.Wait > 0) != tt.wait || !strings.Contains(te.Problem, tt.says) {
				t.Fatalf("Create = %v (%+v); want final %v, wait %v, saying %q", err, te, tt.final, tt.wait, tt.says)
			}
			if strings.Contains(err.Error(), key) {
				t.Fatal("the error quotes the key")
			}
			if len(fake.Issues()) != 0 {
				t.Fatal("an issue was made")
			}
		})
	}
}

func TestHook(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	h := Hook{Secret: "lin_wh_secret", Now: func() time.Time { return now }}
	req := func(body []byte, sig string) *http.Request {
		r := httptest.NewRequest("POST", "/hooks/linear", nil)
		if sig != "" {
			r.Header.Set("Linear-Signature", sig)
		}
		return r
	}
	sign := func(b []byte) string { return hex.EncodeToString(Sign("lin_wh_secret", b)) }
	done := trackerfake.LinearHookPayload("OPS-1", "completed", now.Add(-10*time.Second))
	if err := h.Verify(req(done, sign(done)), done); err != nil {
		t.Fatal(err)
	}
	if ch, err := h.Parse(nil, done); err != nil || len(ch) != 1 || ch[0] != (tracker.Change{Key: "OPS-1", Done: true}) {
		t.Fatalf("Parse = %+v %v", ch, err)
	}
	stale := trackerfake.LinearHookPayload("OPS-1", "completed", now.Add(-5*time.Minute))
	for name, c := range map[string]struct {
		body []byte
		sig  string
	}{
		"missing": {done, ""}, "forged": {done, hex.EncodeToString(Sign("other", done))}, "stale": {stale, sign(stale)},
	} {
		if h.Verify(req(c.body, c.sig), c.body) == nil {
			t.Errorf("%s signature verified", name)
		}
	}
	if ch, _ := h.Parse(nil, trackerfake.LinearHookPayload("OPS-1", "started", now)); len(ch) != 1 || ch[0].Done {
		t.Fatalf("started = %+v", ch)
	}
	if ch, _ := h.Parse(nil, trackerfake.LinearHookPayload("OPS-1", "canceled", now)); len(ch) != 0 {
		t.Fatalf("canceled = %+v; want no change", ch)
	}
	if ch, _ := h.Parse(nil, []byte(`{"action":"update","type":"Issue","data":{"identifier":"OPS-1","state":{"type":"started"}},"updatedFrom":{"title":"old"}}`)); len(ch) != 0 {
		t.Fatalf("a title edit = %+v; want no change", ch)
	}
}
