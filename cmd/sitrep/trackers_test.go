package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/internal/trackerfake"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
	"github.com/sitrep-dev/sitrep/tracker/github"
)

const (
	githubToken      = "ghp_e2e_token_5f1c0d"
	githubHookSecret = "github-hook-secret-e2e"
)

// githubWorld is a world with a fake GitHub and a config file that turns
// the GitHub tracker on.
type githubWorld struct {
	*world
	gh  *trackerfake.GitHub
	env []string // the settings that turn GitHub on
}

func newGitHubWorld(t *testing.T, extraConfig string) *githubWorld {
	t.Helper()
	w := newWorld(t)
	w.fake.AddUser(slackfake.User{ID: "U0DEE", Name: "dee", RealName: "Dee Owner", Email: "dee@example.com"})
	gh := trackerfake.NewGitHub("acme/ops", githubToken)
	t.Cleanup(gh.Close)
	conf := filepath.Join(t.TempDir(), "sitrep.yaml")
	body := "trackers:\n  github:\n    repo: acme/ops\n    labels: [incident-follow-up]\n    users: {U0DEE: dee-gh}\n" + extraConfig
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return &githubWorld{world: w, gh: gh, env: []string{
		"SITREP_CONFIG", conf,
		"SITREP_GITHUB_TOKEN", githubToken,
		"GITHUB_API_URL", gh.URL(),
		"SITREP_HOOK_SECRET_GITHUB", githubHookSecret,
	}}
}

func (w *githubWorld) start(t *testing.T) *instance {
	return start(t, w.fake, testEnv(w.fake, w.db, append([]string{"SITREP_ANNOUNCE_CHANNEL", w.announce}, w.env...)...))
}

// followUps waits for the follow-ups message to show want and returns it.
func followUps(t *testing.T, fake *slackfake.Server, channel, want string) slackfake.Message {
	t.Helper()
	var list slackfake.Message
	eventually(t, "the follow-ups message to show "+want, func() bool {
		for _, m := range fake.Messages(channel) {
			if strings.HasPrefix(m.Text, "Follow-ups of") && strings.Contains(blockText(m.Blocks), want) {
				list = m
				return true
			}
		}
		return false
	}, func() string { return strings.Join(texts(fake, channel), "\n") })
	return list
}

// githubHook posts an issues webhook to Sitrep as GitHub does, signed with
// sig ("" signs it rightly, "-" sends no signature).
func githubHook(t *testing.T, base string, body []byte, sig string) int {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/hooks/github", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "issues")
	req.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	switch sig {
	case "":
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(github.Sign(githubHookSecret, body)))
	case "-":
	default:
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func closedHook(t *testing.T, repo string, number int64, action, reason string) []byte {
	t.Helper()
	template, err := os.ReadFile("../../testdata/shared/integrations/github/webhook-issues-closed.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := trackerfake.HookPayload(template, repo, number, action, reason)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// countEvents counts incident 1's timeline events of kind.
func countEvents(t *testing.T, dbPath string, kind incident.EventKind) int {
	t.Helper()
	db := openSQLiteTest(t, dbPath)
	defer db.Close()
	inc, err := db.Get(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := db.Events(context.Background(), inc.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// longFollowUp is a follow-up of 3,000 characters in Slack's markup, as a
// person's message with a mention, a link, emphasis, code and an entity.
func longFollowUp() string {
	head := "Add a canary stage for *checkout* & `search`, ask <@U2> and read <https://runbooks.example.com/canary?a=1&amp;b=2|the canary runbook> first.\n"
	filler := strings.Repeat("Step: roll out to 1% _then_ 10% then all. ", 80)
	text := head + filler
	return text[:incident.MaxText-1] + "Z"
}

// TestGitHubFollowUp goes from a follow-up's Create issue button to its
// issue in GitHub (converted text, owner, labels, link back, marker), the
// issue's key in Slack, GitHub's webhook closing and reopening it, and a
// follow-up marked done in Slack commenting on the issue; with forged,
// missing and repeated webhooks and one for an issue Sitrep never made.
func TestGitHubFollowUp(t *testing.T) {
	t.Parallel()
	w := newGitHubWorld(t, "")
	sitrep := w.start(t)
	fake := w.fake
	ch := w.declared(t, sitrep)
	text := longFollowUp()
	if a, _ := sitrep.slash(fake, "U1", ch.ID, "followup "+text+" <@U0DEE|dee>"); a.Status != http.StatusOK {
		t.Fatalf("followup: HTTP %d", a.Status)
	}
	list := followUps(t, fake, ch.ID, "Create GitHub issue")
	p, _ := cardAction(t, fake, "U1", ch.ID, list.TS, button("followup_issue:1", "1"))
	if a := sitrep.interact(p); a.Status != http.StatusOK {
		t.Fatalf("Create issue acknowledged with %d", a.Status)
	}
	followUps(t, fake, ch.ID, "acme/ops#1")
	issues := w.gh.Issues("acme/ops")
	if len(issues) != 1 {
		t.Fatalf("%d issues in GitHub, want 1", len(issues))
	}
	is := issues[0]
	inc := getIncident(t, w.db, 1)
	for _, want := range []string{
		"**checkout** & `search`", // Slack's bold is Markdown's strong, its entities decoded
		"@bob",
		"[the canary runbook](https://runbooks.example.com/canary?a=1&b=2)",
		"*then*", // Slack's italics are Markdown's emphasis
		"roll out to 1% ",
		"Z\n",
		"Follow-up 1 of [incident #1 (Checkout failing)](https://slack.com/app_redirect?channel=" + ch.ID + ")",
		"Owner: Dee Owner.",
		"sitrep-followup:" + inc.ID + "/1",
	} {
		if !strings.Contains(is.Body, want) {
			t.Errorf("the issue's body lacks %q:\n%s", want, is.Body)
		}
	}
	for _, bad := range []string{"<@U2>", "&amp;b=2", "<https://"} {
		if strings.Contains(is.Body, bad) {
			t.Errorf("the issue's body holds Slack markup %q", bad)
		}
	}
	if !strings.HasPrefix(is.Title, "Follow-up from incident #1: Add a canary stage for *checkout* & `search`, ask @bob and read the canary runbook (https://runbooks.example.com/canary?a=1&b=2) first.") || len(is.Title) > 256 {
		t.Errorf("title %q", is.Title)
	}
	if strings.Join(is.Labels, ",") != "incident-follow-up" || strings.Join(is.Assignees, ",") != "dee-gh" {
		t.Errorf("labels %v, assignees %v", is.Labels, is.Assignees)
	}
	eventually(t, "the issue told in the channel", func() bool {
		return contains(texts(fake, ch.ID), "Follow-up 1 is tracked in GitHub as <https://github.com/acme/ops/issues/1|acme/ops#1>")
	})

	// Webhooks that must change nothing.
	closed := closedHook(t, "acme/ops", 1, "closed", "completed")
	for _, c := range []struct {
		name string
		body []byte
		sig  string
		want int
	}{
		{"forged", closed, "sha256=" + hex.EncodeToString(github.Sign("not-the-secret", closed)), http.StatusUnauthorized},
		{"missing", closed, "-", http.StatusUnauthorized},
		{"for another body", closed, "sha256=" + hex.EncodeToString(github.Sign(githubHookSecret, []byte("{}"))), http.StatusUnauthorized},
		{"unknown issue", closedHook(t, "acme/ops", 99, "closed", "completed"), "", http.StatusOK},
		{"another repository", closedHook(t, "acme/web", 1, "closed", "completed"), "", http.StatusOK},
		{"closed as not planned", closedHook(t, "acme/ops", 1, "closed", "not_planned"), "", http.StatusOK},
	} {
		if got := githubHook(t, sitrep.base, c.body, c.sig); got != c.want {
			t.Errorf("%s webhook: HTTP %d, want %d", c.name, got, c.want)
		}
	}
	if n := countEvents(t, w.db, incident.KindFollowUpDone); n != 0 {
		t.Fatalf("%d follow-ups done after webhooks that should change nothing", n)
	}

	// Closed in GitHub: done in Sitrep, once however often GitHub says so.
	w.gh.SetState("acme/ops", 1, "closed", "completed")
	for range 2 {
		if got := githubHook(t, sitrep.base, closed, ""); got != http.StatusOK {
			t.Fatalf("closing webhook: HTTP %d", got)
		}
	}
	followUps(t, fake, ch.ID, "done in GitHub")
	eventually(t, "the closing told in the channel", func() bool {
		return contains(texts(fake, ch.ID), "Follow-up 1 was closed as done in GitHub (acme/ops#1)")
	})
	if n := countEvents(t, w.db, incident.KindFollowUpDone); n != 1 {
		t.Fatalf("%d follow-up done events, want 1", n)
	}
	// Reopened in GitHub: open again.
	if got := githubHook(t, sitrep.base, closedHook(t, "acme/ops", 1, "reopened", ""), ""); got != http.StatusOK {
		t.Fatalf("reopening webhook: HTTP %d", got)
	}
	followUps(t, fake, ch.ID, "0 of 1 done")
	w.gh.SetState("acme/ops", 1, "open", "")

	// Done in Slack: a comment on the issue, which stays open.
	list = followUps(t, fake, ch.ID, "0 of 1 done")
	p, _ = cardAction(t, fake, "U2", ch.ID, list.TS, button("followup_done:1", "1"))
	sitrep.interact(p)
	eventually(t, "a comment on the issue", func() bool {
		c := w.gh.Issues("acme/ops")[0].Comments
		return len(c) == 1 && strings.Contains(c[0], "Marked done in Slack by bob")
	})
	if st := w.gh.Issues("acme/ops")[0].State; st != "open" {
		t.Errorf("the issue is %s; without close_on_done it stays open", st)
	}
	if n := len(w.gh.Issues("acme/ops")); n != 1 {
		t.Errorf("%d issues, want 1", n)
	}
}

func getIncident(t *testing.T, dbPath string, number int64) *incident.Incident {
	t.Helper()
	db := openSQLiteTest(t, dbPath)
	defer db.Close()
	inc, err := db.Get(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// TestGitHubRefusals: a token that is missing, expired or lacks a scope,
// and a repository that does not exist, are each told in the channel once,
// in words that say what to fix; nothing is made, nothing retried, and the
// button is offered again.
func TestGitHubRefusals(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		setup func(w *githubWorld)
		says  string
	}{
		{"missing token", func(w *githubWorld) { w.env[3] = "" }, "SITREP_GITHUB_TOKEN is not set"},
		{"expired token", func(w *githubWorld) { w.gh.RevokeToken(githubToken) }, "GitHub refused the token (GitHub said: Bad credentials): it is wrong, expired or revoked. Set SITREP_GITHUB_TOKEN"},
		{"token lacks scope", func(w *githubWorld) { w.gh.AddToken(githubToken, "read:org") }, "lacks the repo scope"},
		{"no such repository", func(w *githubWorld) {
			conf := w.env[1]
			os.WriteFile(conf, []byte("trackers:\n  github: {repo: acme/nope}\n"), 0o600)
		}, "GitHub found no such project or repository"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newGitHubWorld(t, "")
			c.setup(w)
			sitrep := w.start(t)
			fake := w.fake
			ch := w.declared(t, sitrep)
			sitrep.slash(fake, "U1", ch.ID, "followup Add a canary stage")
			list := followUps(t, fake, ch.ID, "Create GitHub issue")
			p, _ := cardAction(t, fake, "U1", ch.ID, list.TS, button("followup_issue:1", "1"))
			sitrep.interact(p)
			var told []string
			eventually(t, "the refusal told", func() bool {
				told = nil
				for _, m := range texts(fake, ch.ID) {
					if strings.Contains(m, "could not create the GitHub issue") {
						told = append(told, m)
					}
				}
				return len(told) > 0
			})
			if !strings.Contains(told[0], c.says) || !strings.Contains(told[0], "<@U1>") {
				t.Errorf("told %q; want it to name the commander and say %q", told[0], c.says)
			}
			for _, s := range []string{githubToken, "ghp_"} {
				if strings.Contains(told[0], s) {
					t.Errorf("the message quotes the token")
				}
			}
			followUps(t, fake, ch.ID, "Create GitHub issue") // offered again
			calls := len(w.gh.Calls())
			sitrep.slash(fake, "U1", ch.ID, "note later") // another change: no retry of the refused export
			eventually(t, "the note", func() bool { return contains(texts(fake, ch.ID), "later") })
			if n := len(w.gh.Calls()); n != calls {
				t.Errorf("GitHub was called %d more times after the refusal", n-calls)
			}
			if n := countEvents(t, w.db, incident.KindFollowUpRefused); n != 1 {
				t.Errorf("told %d times, want once", n)
			}
			if n := len(w.gh.Issues("acme/ops")); n != 0 {
				t.Errorf("%d issues made", n)
			}
		})
	}
}

// TestGitHubExportOnCreate: with export: on_create, recording a follow-up
// makes its issue with no button pressed; a rate limit and a server error
// on the way are waited out.
func TestGitHubExportOnCreate(t *testing.T) {
	t.Parallel()
	w := newGitHubWorld(t, "  export: on_create\n")
	w.gh.Fail(trackerfake.Failure{Method: "POST", Path: "/repos/acme/ops/issues", Status: 429, RetryAfter: time.Second, Times: 1})
	w.gh.Fail(trackerfake.Failure{Method: "GET", Path: "/repos/acme/ops/issues", Status: 502, Times: 1})
	sitrep := w.start(t)
	ch := w.declared(t, sitrep)
	sitrep.slash(w.fake, "U1", ch.ID, "followup Alert on p99 latency")
	followUps(t, w.fake, ch.ID, "acme/ops#1")
	if n := len(w.gh.Issues("acme/ops")); n != 1 {
		t.Fatalf("%d issues, want 1", n)
	}
	if strings.Contains(blockText(followUps(t, w.fake, ch.ID, "acme/ops#1").Blocks), "Create GitHub issue") {
		t.Error("a tracked follow-up still offers Create issue")
	}
}

// TestGitHubCrash kills the program with SIGKILL while GitHub makes the
// issue: once before GitHub does the work, once just after it (before the
// answer reaches Sitrep). Restarted on the same database, Sitrep makes the
// issue in the first case and finds it by its marker in the second:
// exactly one issue either way, linked on the follow-up.
func TestGitHubCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	t.Parallel()
	for _, after := range []bool{false, true} {
		t.Run(fmt.Sprintf("after=%v", after), func(t *testing.T) {
			t.Parallel()
			w := newGitHubWorld(t, "")
			r := newCrashRunIn(t, w.world, w.env...)
			var killed atomic.Bool
			crash := func() { killed.Store(true); r.kill() }
			f := trackerfake.Failure{Method: "POST", Path: "/repos/acme/ops/issues", Status: http.StatusInternalServerError, Times: 1, Then: crash}
			if after {
				f = trackerfake.Failure{Method: "POST", Path: "/repos/acme/ops/issues", Lost: true, Times: 1, Then: crash}
			}
			w.gh.Fail(f)
			var ch slackfake.Channel
			r.slash("U1", w.general, "declare sev1 Checkout failing")
			eventually(t, "the channel", func() bool { var ok bool; ch, ok = w.fake.ChannelByName("inc-1-checkout-failing"); return ok })
			r.quiet()
			r.slash("U1", ch.ID, "followup Add a canary stage")
			list := followUps(t, w.fake, ch.ID, "Create GitHub issue")
			p, _ := cardAction(t, w.fake, "U1", ch.ID, list.TS, button("followup_issue:1", "1"))
			clicked := r.interact(p)
			deadline := time.Now().Add(60 * time.Second)
			for {
				r.alive() // restarts the program once it is killed
				inc, err := r.db.Get(context.Background(), 1)
				if err != nil {
					t.Fatal(err)
				}
				f := inc.FollowUps[0]
				if f.Tracked() {
					break
				}
				if !clicked && f.ExportTo == "" {
					// The click's answer was lost to the kill and it was
					// not recorded: press again, as a person would.
					clicked = r.interact(p)
				}
				if time.Now().After(deadline) {
					t.Fatalf("the follow-up got no issue within 60s; GitHub calls %v; logs:\n%s", w.gh.Calls(), r.logs)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if !killed.Load() || r.restarts != 1 {
				t.Fatalf("killed %v, restarted %d times; want one kill and one restart", killed.Load(), r.restarts)
			}
			if n := len(w.gh.Issues("acme/ops")); n != 1 {
				t.Fatalf("%d issues in GitHub after the crash, want exactly 1; calls %v", n, w.gh.Calls())
			}
			if after { // information is logged up to 10 ms late (logDelay)
				eventually(t, "the issue found by its marker", func() bool {
					return strings.Contains(r.logs.String(), "found the issue made before")
				}, r.logs.String)
			} else if strings.Contains(r.logs.String(), "found the issue made before") {
				t.Errorf("found the issue by its marker, want it made after the crash; logs:\n%s", r.logs)
			}
			followUps(t, w.fake, ch.ID, "acme/ops#1")
		})
	}
}

// interact sends a block_actions payload to the running program and
// reports whether it answered.
func (r *crashRun) interact(p obj) bool {
	r.t.Helper()
	c := r.alive()
	data, err := json.Marshal(p)
	if err != nil {
		r.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(signedRequest(r.t, c.base+"/slack/interactions", "payload="+url.QueryEscape(string(data)), crashNow))
	if err != nil {
		return false // killed while answering
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// openSQLiteTest opens the SQLite file a test's program uses, to look at it
// from outside.
func openSQLiteTest(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestGitHubPeriodicCheck: an issue closed in GitHub whose webhook never
// came (GitHub does not retry one) is found done by the periodic check.
func TestGitHubPeriodicCheck(t *testing.T) {
	t.Parallel()
	w := newGitHubWorld(t, "  export: on_create\n  check: 1m\n")
	clk := clock.NewFake(time.Now())
	sitrep := startAt(t, w.fake, testEnv(w.fake, w.db, append([]string{"SITREP_ANNOUNCE_CHANNEL", w.announce}, w.env...)...), clk)
	ch := w.declared(t, sitrep)
	sitrep.slash(w.fake, "U1", ch.ID, "followup Alert on p99 latency")
	followUps(t, w.fake, ch.ID, "acme/ops#1")
	w.gh.SetState("acme/ops", 1, "closed", "completed")
	eventually(t, "the periodic check to find the issue done", func() bool {
		clk.Advance(30 * time.Second)
		return getIncident(t, w.db, 1).FollowUps[0].Done()
	})
	followUps(t, w.fake, ch.ID, "done in GitHub")
	if !slices.Contains(w.gh.Calls(), "GET /repos/acme/ops/issues/1") {
		t.Errorf("GitHub was not asked about the issue: %v", w.gh.Calls())
	}
}

// TestGitHubCloseOnDone: with close_on_done, a follow-up marked done in
// Slack closes its issue as completed, after a comment saying who.
func TestGitHubCloseOnDone(t *testing.T) {
	t.Parallel()
	w := newGitHubWorld(t, "")
	if err := os.WriteFile(w.env[1], []byte("trackers:\n  export: on_create\n  github: {repo: acme/ops, close_on_done: true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sitrep := w.start(t)
	ch := w.declared(t, sitrep)
	sitrep.slash(w.fake, "U1", ch.ID, "followup Alert on p99 latency")
	list := followUps(t, w.fake, ch.ID, "acme/ops#1")
	p, _ := cardAction(t, w.fake, "U2", ch.ID, list.TS, button("followup_done:1", "1"))
	sitrep.interact(p)
	eventually(t, "the issue closed", func() bool {
		is := w.gh.Issues("acme/ops")[0]
		return is.State == "closed" && is.StateReason == "completed" && len(is.Comments) == 1
	})
	// GitHub's webhook for that closing changes nothing more.
	if got := githubHook(t, sitrep.base, closedHook(t, "acme/ops", 1, "closed", "completed"), ""); got != http.StatusOK {
		t.Fatalf("webhook: HTTP %d", got)
	}
	if n := countEvents(t, w.db, incident.KindFollowUpDone); n != 1 {
		t.Errorf("%d follow-up done events, want 1", n)
	}
}
