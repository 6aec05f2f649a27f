package main

import (
	"context"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/internal/trackerfake"
	"github.com/sitrep-dev/sitrep/tracker/asana"
	"github.com/sitrep-dev/sitrep/tracker/jira"
	"github.com/sitrep-dev/sitrep/tracker/linear"
)

// trackerRig is one tracker's fake, with what an end-to-end test needs of
// it: the settings that turn it on, what it holds, how it closes an issue
// and says so in its webhook.
type trackerRig struct {
	name, title string
	config      string   // the trackers section of the config file
	env         []string // settings, name then value
	key         string   // the first issue's key
	createPath  string   // the path of the call that makes an issue
	createSkip  int      // calls to createPath before it (Linear's search is a POST too)
	issues      func() []string
	// close closes issue key in the tracker and sends its webhook to
	// Sitrep at base, answering the HTTP status.
	close func(t *testing.T, base, key string) int
	// forged sends the same webhook with a wrong signature.
	forged func(t *testing.T, base, key string) int
	body   func() string // the first issue's text
	fail   func(trackerfake.Failure)
	// assignee is who the first issue is assigned to: the tracker's ID of
	// dee@example.com, whom each fake knows as "dee-id".
	assignee func() string
}

func postHook(t *testing.T, url string, body []byte, headers map[string]string) int {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

const (
	jiraEmail         = "sitrep@acme.example"
	jiraToken         = "ATATT3xFfGF0-e2e"
	linearTeam        = "9cfb482a-81e3-4154-b5b9-2c805e70a02d"
	linearKey         = "lin_api_e2e0001"
	asanaProj         = "1204567890123456"
	asanaToken        = "2/1204567890000001/1209999999999999:e2e"
	trackerHookSecret = "tracker-hook-secret-e2e"
	asanaSecret       = "asana-handshake-secret"
)

func jiraRig(t *testing.T) *trackerRig {
	fake := trackerfake.NewJira("OPS", jiraEmail, jiraToken)
	t.Cleanup(fake.Close)
	fake.AddUser("dee@example.com", "dee-id")
	send := func(t *testing.T, base, key, secret string) int {
		body := trackerfake.JiraHookPayload(key, true)
		return postHook(t, base+"/hooks/jira", body, map[string]string{"X-Hub-Signature": "sha256=" + hex.EncodeToString(jira.Sign(secret, body))})
	}
	return &trackerRig{
		name: "jira", title: "Jira", key: "OPS-1", createPath: "/rest/api/3/issue",
		config: "trackers:\n  jira: {site: \"https://acme.atlassian.net\", project: OPS}\n",
		env:    []string{"SITREP_JIRA_EMAIL", jiraEmail, "SITREP_JIRA_TOKEN", jiraToken, "JIRA_API_URL", fake.URL(), "SITREP_HOOK_SECRET_JIRA", trackerHookSecret},
		issues: func() []string {
			var keys []string
			for _, is := range fake.Issues() {
				keys = append(keys, is.Key)
			}
			return keys
		},
		close: func(t *testing.T, base, key string) int {
			fake.SetDone(key, true)
			return send(t, base, key, trackerHookSecret)
		},
		forged:   func(t *testing.T, base, key string) int { return send(t, base, key, "forged") },
		body:     func() string { return string(fake.Issues()[0].Description) },
		fail:     fake.Fail,
		assignee: func() string { return fake.Issues()[0].Assignee },
	}
}

func linearRig(t *testing.T) *trackerRig {
	fake := trackerfake.NewLinear(linearTeam, linearKey)
	t.Cleanup(fake.Close)
	fake.AddUser("dee@example.com", "dee-id")
	send := func(t *testing.T, base, key, secret string) int {
		body := trackerfake.LinearHookPayload(key, "completed", time.Now())
		return postHook(t, base+"/hooks/linear", body, map[string]string{"Linear-Signature": hex.EncodeToString(linear.Sign(secret, body))})
	}
	return &trackerRig{
		name: "linear", title: "Linear", key: "OPS-1", createPath: "/graphql", createSkip: 1,
		config: "trackers:\n  linear: {team: " + linearTeam + "}\n",
		env:    []string{"SITREP_LINEAR_TOKEN", linearKey, "LINEAR_API_URL", fake.URL(), "SITREP_HOOK_SECRET_LINEAR", trackerHookSecret},
		issues: func() []string {
			var keys []string
			for _, is := range fake.Issues() {
				keys = append(keys, is.Identifier)
			}
			return keys
		},
		close: func(t *testing.T, base, key string) int {
			fake.SetState(key, "completed")
			return send(t, base, key, trackerHookSecret)
		},
		forged:   func(t *testing.T, base, key string) int { return send(t, base, key, "forged") },
		body:     func() string { return fake.Issues()[0].Description },
		fail:     fake.Fail,
		assignee: func() string { return fake.Issues()[0].Assignee },
	}
}

func asanaRig(t *testing.T) *trackerRig {
	fake := trackerfake.NewAsana(asanaProj, asanaToken)
	t.Cleanup(fake.Close)
	fake.AddUser("dee@example.com", "dee-id")
	send := func(t *testing.T, base, key, secret string) int {
		body := trackerfake.AsanaHookPayload(key)
		return postHook(t, base+"/hooks/asana", body, map[string]string{"X-Hook-Signature": hex.EncodeToString(asana.Sign(secret, body))})
	}
	shaken := false
	return &trackerRig{
		name: "asana", title: "Asana", key: "1204567890999001", createPath: "/api/1.0/tasks",
		config: "trackers:\n  asana: {project: \"" + asanaProj + "\"}\n",
		env:    []string{"SITREP_ASANA_TOKEN", asanaToken, "ASANA_API_URL", fake.URL(), "SITREP_HOOK_SECRET_ASANA", trackerHookSecret},
		issues: func() []string {
			var keys []string
			for _, tk := range fake.Tasks() {
				keys = append(keys, tk.GID)
			}
			return keys
		},
		close: func(t *testing.T, base, key string) int {
			if !shaken {
				// The webhook is opened with Asana's handshake first.
				if got := postHook(t, base+"/hooks/asana?token="+trackerHookSecret, nil, map[string]string{"X-Hook-Secret": asanaSecret}); got != http.StatusOK {
					t.Fatalf("Asana's handshake: HTTP %d", got)
				}
				shaken = true
			}
			fake.SetCompleted(key, true)
			return send(t, base, key, asanaSecret)
		},
		forged:   func(t *testing.T, base, key string) int { return send(t, base, key, "forged") },
		body:     func() string { return fake.Tasks()[0].Notes },
		fail:     fake.Fail,
		assignee: func() string { return fake.Tasks()[0].Assignee },
	}
}

// rigWorld is a world with the tracker's config file written.
func rigWorld(t *testing.T, rig *trackerRig) (*world, []string) {
	w := newWorld(t)
	conf := filepath.Join(t.TempDir(), "sitrep.yaml")
	if err := os.WriteFile(conf, []byte(rig.config), 0o600); err != nil {
		t.Fatal(err)
	}
	return w, append([]string{"SITREP_CONFIG", conf, "SITREP_ANNOUNCE_CHANNEL", w.announce}, rig.env...)
}

var rigs = []func(t *testing.T) *trackerRig{jiraRig, linearRig, asanaRig}

// TestTrackerRoundTrips runs each of Jira, Linear and Asana through the
// real program: the Create issue button makes one issue carrying the
// follow-up and its marker, the follow-up shows its key, a forged webhook
// is refused, and the tracker's signed webhook marks the follow-up done,
// once however often it comes. (GitHub's is TestGitHubFollowUp.)
func TestTrackerRoundTrips(t *testing.T) {
	t.Parallel()
	for _, mk := range rigs {
		rig := mk(t)
		t.Run(rig.name, func(t *testing.T) {
			t.Parallel()
			w, env := rigWorld(t, rig)
			sitrep := start(t, w.fake, testEnv(w.fake, w.db, env...))
			ch := w.declared(t, sitrep)
			w.fake.AddUser(slackfake.User{ID: "U0DEE", Name: "dee", RealName: "Dee Owner", Email: "dee@example.com"})
			sitrep.slash(w.fake, "U1", ch.ID, "followup Add a *canary* stage, ask <@U2> <@U0DEE|dee>")
			list := followUps(t, w.fake, ch.ID, "Create "+rig.title+" issue")
			p, _ := cardAction(t, w.fake, "U1", ch.ID, list.TS, button("followup_issue:1", "1"))
			sitrep.interact(p)
			followUps(t, w.fake, ch.ID, rig.key)
			if got := rig.issues(); len(got) != 1 || got[0] != rig.key {
				t.Fatalf("%s holds %v, want one issue %s", rig.title, got, rig.key)
			}
			inc := getIncident(t, w.db, 1)
			body := rig.body()
			for _, want := range []string{"canary", "bob", "sitrep-followup:" + inc.ID + "/1", "app_redirect?channel=" + ch.ID} {
				if !strings.Contains(body, want) {
					t.Errorf("the issue's text lacks %q:\n%s", want, body)
				}
			}
			if got := rig.assignee(); got != "dee-id" {
				t.Errorf("the issue is assigned to %q; want the owner, found by their Slack email", got)
			}
			if strings.Contains(body, "<@U2>") {
				t.Errorf("the issue's text holds Slack markup:\n%s", body)
			}
			if got := rig.forged(t, sitrep.base, rig.key); got != http.StatusUnauthorized {
				t.Errorf("forged webhook: HTTP %d, want 401", got)
			}
			for range 2 {
				if got := rig.close(t, sitrep.base, rig.key); got != http.StatusOK {
					t.Fatalf("webhook: HTTP %d", got)
				}
			}
			followUps(t, w.fake, ch.ID, "done in "+rig.title)
			if n := countEvents(t, w.db, incident.KindFollowUpDone); n != 1 {
				t.Errorf("%d follow-up done events, want 1", n)
			}
		})
	}
}

// TestTrackerCrashes kills the program with SIGKILL right after each of
// Jira, Linear and Asana made the issue, before the answer reaches
// Sitrep: restarted on the same database, Sitrep finds the issue by its
// marker instead of making a second.
func TestTrackerCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	t.Parallel()
	for _, mk := range rigs {
		rig := mk(t)
		t.Run(rig.name, func(t *testing.T) {
			t.Parallel()
			w, env := rigWorld(t, rig)
			r := newCrashRunIn(t, w, env...)
			var killed atomic.Bool
			crash := func() { killed.Store(true); r.kill() }
			rig.fail(trackerfake.Failure{Method: "POST", Path: rig.createPath, Skip: rig.createSkip, Lost: true, Times: 1, Then: crash})
			crashFollowUp(t, r, w, rig.title)
			if !killed.Load() || r.restarts != 1 {
				t.Fatalf("killed %v, restarted %d times; want one kill and one restart", killed.Load(), r.restarts)
			}
			if got := rig.issues(); len(got) != 1 {
				t.Fatalf("%s holds %v after the crash, want exactly one issue", rig.title, got)
			}
			// Information is logged up to 10 ms late (logDelay).
			eventually(t, "the restarted program to find the issue by its marker", func() bool {
				return strings.Contains(r.logs.String(), "found the issue made before")
			}, r.logs.String)
			followUps(t, w.fake, mustChannel(t, w.fake, "inc-1-checkout-failing").ID, rig.key)
		})
	}
}

// crashFollowUp declares an incident, records a follow-up and presses
// Create issue through a crashRun, and waits until the follow-up has its
// issue, restarting the program when it dies.
func crashFollowUp(t *testing.T, r *crashRun, w *world, title string) {
	t.Helper()
	var ch slackfake.Channel
	r.slash("U1", w.general, "declare sev1 Checkout failing")
	eventually(t, "the channel", func() bool { var ok bool; ch, ok = w.fake.ChannelByName("inc-1-checkout-failing"); return ok })
	r.quiet()
	r.slash("U1", ch.ID, "followup Add a canary stage")
	list := followUps(t, w.fake, ch.ID, "Create "+title+" issue")
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
			return
		}
		if !clicked && f.ExportTo == "" {
			clicked = r.interact(p) // the click was lost to the kill: press again
		}
		if time.Now().After(deadline) {
			t.Fatalf("the follow-up got no issue within 60s; logs:\n%s", r.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
