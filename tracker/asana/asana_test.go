package asana

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/trackerfake"
	"github.com/sitrep-dev/sitrep/tracker"
)

const (
	project = "1204567890123456"
	token   = "2/1204567890000001/1209999999999999:0123456789abcdef"
)

func newAsana(t *testing.T) (*trackerfake.Asana, Config) {
	t.Helper()
	fake := trackerfake.NewAsana(project, token)
	t.Cleanup(fake.Close)
	return fake, Config{Project: project, Token: token, URL: fake.URL()}
}

func TestCreateFindCommentClose(t *testing.T) {
	fake, conf := newAsana(t)
	fake.AddUser("dee@example.com", "1200000000000042")
	a := New(conf, http.DefaultClient, time.Now)
	ctx := context.Background()
	marker := tracker.Marker("inc-1", 1)
	ref, err := a.Create(ctx, tracker.Issue{Title: "Follow-up from incident #1: canary", Body: "**md**\n\n" + marker, Text: "plain\n\n" + marker, Marker: marker, OwnerEmail: "dee@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	want := incident.IssueRef{Tracker: "asana", Key: "1204567890999001", URL: "https://app.asana.com/1/1199999999999990/project/" + project + "/task/1204567890999001"}
	if ref != want {
		t.Fatalf("Create = %+v, want %+v", ref, want)
	}
	if tk := fake.Tasks()[0]; tk.Notes != "plain\n\n"+marker || tk.Assignee != "1200000000000042" {
		t.Fatalf("Asana holds %+v", tk)
	}
	// An owner Asana does not know: the task is made unassigned.
	other := tracker.Marker("inc-1", 2)
	if _, err := a.Create(ctx, tracker.Issue{Title: "t2", Text: other, Marker: other, OwnerEmail: "nobody@example.com"}); err != nil {
		t.Fatal(err)
	}
	for i := range 130 { // Find pages through more than one page
		a.Create(ctx, tracker.Issue{Title: "filler", Text: "filler " + strings.Repeat("x", i%3)})
	}
	if got, ok, err := a.Find(ctx, other, time.Now().Add(-time.Hour)); !ok || err != nil || got.Key != "1204567890999002" {
		t.Fatalf("Find = %+v %v %v", got, ok, err)
	}
	if _, ok, err := a.Find(ctx, tracker.Marker("inc-1", 3), time.Now().Add(-time.Hour)); ok || err != nil {
		t.Fatalf("Find of another = %v %v", ok, err)
	}
	if err := a.Comment(ctx, ref, "done in Slack"); err != nil {
		t.Fatal(err)
	}
	if done, err := a.Done(ctx, ref); done || err != nil {
		t.Fatalf("Done = %v %v", done, err)
	}
	if err := a.Close(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if done, err := a.Done(ctx, ref); !done || err != nil {
		t.Fatalf("Done after Close = %v %v", done, err)
	}
}

func TestErrors(t *testing.T) {
	marker := tracker.Marker("inc-1", 1)
	good := tracker.Issue{Title: "t", Text: marker, Marker: marker}
	tests := []struct {
		name  string
		setup func(f *trackerfake.Asana, c *Config)
		is    tracker.Issue
		final bool
		wait  bool
		says  string
	}{
		{"no token", func(f *trackerfake.Asana, c *Config) { c.Token = "" }, good, true, false, "SITREP_ASANA_TOKEN is not set"},
		{"expired token", func(f *trackerfake.Asana, c *Config) { f.SetToken("other") }, good, true, false, "Asana refused the token (Asana said: Not Authorized)"},
		{"read-only token", func(f *trackerfake.Asana, c *Config) { f.ReadOnly() }, good, true, false, "did not allow it"},
		{"no such project", func(f *trackerfake.Asana, c *Config) { c.Project = "1" }, good, true, false, "no such project"},
		{"no name", nil, tracker.Issue{Title: " ", Text: "x"}, true, false, "name: Missing input"},
		{"rate limited", func(f *trackerfake.Asana, c *Config) {
			f.Fail(trackerfake.Failure{Status: 429, RetryAfter: 3 * time.Second})
		}, good, false, true, "rate limiting"},
		{"server error", func(f *trackerfake.Asana, c *Config) { f.Fail(trackerfake.Failure{Status: 500}) }, good, false, false, "having trouble"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, conf := newAsana(t)
			if tt.setup != nil {
				tt.setup(fake, &conf)
			}
			_, err := New(conf, http.DefaultClient, time.Now).Create(context.Background(), tt.is)
			te, ok := tracker.AsError(err)
			if !ok || te.Final != tt.final || (te.Wait > 0) != tt.wait || !strings.Contains(te.Problem, tt.says) {
				t.Fatalf("Create = %v; want final %v, wait %v, saying %q", err, tt.final, tt.wait, tt.says)
			}
			if tt.wait && te.Wait != 3*time.Second {
				t.Errorf("wait %s, want Retry-After's 3s", te.Wait)
			}
			if strings.Contains(err.Error(), token) {
				t.Fatal("the error quotes the token")
			}
			if len(fake.Tasks()) != 0 {
				t.Fatal("a task was made")
			}
		})
	}
}

// memSecrets keeps handshake secrets in memory.
type memSecrets struct {
	mu sync.Mutex
	s  []string
}

func (m *memSecrets) SaveHookSecret(_ context.Context, _, secret string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.s = append(m.s, secret)
	return nil
}

func (m *memSecrets) HookSecrets(context.Context, string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string{}, m.s...), nil
}

func TestHookHandshake(t *testing.T) {
	secrets := &memSecrets{}
	h := Hook{Token: "url-token", Secrets: secrets, Now: time.Now}
	// A handshake at the URL without its token is refused.
	r := httptest.NewRequest("POST", "/hooks/asana?token=wrong", nil)
	r.Header.Set("X-Hook-Secret", "planted")
	w := httptest.NewRecorder()
	if !h.Handshake(w, r) || w.Code != http.StatusUnauthorized || len(secrets.s) != 0 {
		t.Fatalf("a handshake without the token: %d, secrets %q", w.Code, secrets.s)
	}
	r = httptest.NewRequest("POST", "/hooks/asana?token=url-token", nil)
	r.Header.Set("X-Hook-Secret", "asana-made-secret")
	w = httptest.NewRecorder()
	if !h.Handshake(w, r) || w.Code != http.StatusOK || w.Header().Get("X-Hook-Secret") != "asana-made-secret" {
		t.Fatalf("handshake: %d, echoed %q", w.Code, w.Header().Get("X-Hook-Secret"))
	}
	body := trackerfake.AsanaHookPayload("1204567890999001")
	r = httptest.NewRequest("POST", "/hooks/asana", nil)
	if h.Handshake(httptest.NewRecorder(), r) {
		t.Fatal("a delivery taken for a handshake")
	}
	r.Header.Set("X-Hook-Signature", hex.EncodeToString(Sign("asana-made-secret", body)))
	if err := h.Verify(r, body); err != nil {
		t.Fatal(err)
	}
	if ch, err := h.Parse(r, body); err != nil || len(ch) != 1 || ch[0] != (tracker.Change{Key: "1204567890999001", Ask: true}) {
		t.Fatalf("Parse = %+v %v", ch, err)
	}
	for _, sig := range []string{"", "zz", hex.EncodeToString(Sign("planted", body))} {
		r.Header.Set("X-Hook-Signature", sig)
		if h.Verify(r, body) == nil {
			t.Errorf("signature %q verified", sig)
		}
	}
	if ch, err := h.Parse(r, []byte(`{"events":[]}`)); err != nil || len(ch) != 0 {
		t.Fatalf("heartbeat = %+v %v", ch, err)
	}
}
