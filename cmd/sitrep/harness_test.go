package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

const testSecret = "e2e-signing-secret-8f742231b10e"

// instance is one run of the real program, serving on a loopback port,
// talking to a fake Slack.
type instance struct {
	t      *testing.T
	fake   *slackfake.Server
	socket bool // requests from Slack come over Socket Mode
	base   string
	// status is the public status page's base URL, when
	// SITREP_STATUS_ADDR is set.
	status string
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
	clock  *clock.Fake // nil: the program runs on the system clock
}

// signTime is when a request from Slack is signed: Sitrep checks it against
// its own clock.
func (in *instance) signTime() time.Time {
	if in.clock != nil {
		return in.clock.Now()
	}
	return time.Now()
}

// env is the environment of a test run.
func testEnv(fake *slackfake.Server, dbPath string, extra ...string) map[string]string {
	env := map[string]string{
		"SLACK_BOT_TOKEN":      fake.BotToken(),
		"SLACK_SIGNING_SECRET": testSecret,
		"SLACK_API_URL":        fake.URL(),
		"SITREP_DB":            dbPath,
		"SITREP_ADDR":          "127.0.0.1:0",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// start runs the program as main would, with env as its whole environment,
// and returns once it listens.
func start(t *testing.T, fake *slackfake.Server, env map[string]string) *instance {
	t.Helper()
	return startAt(t, fake, env, nil)
}

// startAt is start with the program on a fake clock, when clk is not nil.
func startAt(t *testing.T, fake *slackfake.Server, env map[string]string, clk *clock.Fake) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr, statusAddr := make(chan net.Addr, 1), make(chan net.Addr, 1)
	in := &instance{t: t, fake: fake, socket: env["SLACK_APP_TOKEN"] != "", cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}, clock: clk}
	p := program{
		getenv:          func(k string) string { return env[k] },
		stdout:          io.Discard,
		stderr:          in.logs,
		listening:       func(a net.Addr) { addr <- a },
		statusListening: func(a net.Addr) { statusAddr <- a },
	}
	if clk != nil {
		p.clock = clk
	}
	go func() { in.done <- p.run(ctx, []string{"serve"}) }()
	select {
	case a := <-addr:
		in.base = "http://" + a.String()
		select { // reported before addr, when on
		case a := <-statusAddr:
			in.status = "http://" + a.String()
		default:
		}
	case err := <-in.done:
		t.Fatalf("sitrep exited at start-up: %v\nlogs:\n%s", err, in.logs)
	case <-time.After(20 * time.Second):
		t.Fatal("sitrep did not start listening within 20s")
	}
	t.Cleanup(func() { in.stop() })
	if in.socket {
		wctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := fake.WaitSocket(wctx); err != nil {
			t.Fatalf("sitrep did not connect over Socket Mode: %v\nlogs:\n%s", err, in.logs)
		}
	}
	return in
}

// stop asks the program to shut down, as SIGTERM does, and waits for it.
func (in *instance) stop() {
	in.t.Helper()
	if in.cancel == nil {
		return
	}
	in.cancel()
	in.cancel = nil
	select {
	case err := <-in.done:
		if err != nil {
			in.t.Errorf("sitrep exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		in.t.Error("sitrep did not stop within 30s of being asked")
	}
}

// slashBody builds a slash command body with Slack's field order and
// encoding ("/" as %2F, spaces as "+").
func slashBody(user, channel, text, responseURL, triggerID string) string {
	fields := [][2]string{
		{"token", "verification-token-0000"}, {"team_id", "T111"}, {"team_domain", "acme"},
		{"channel_id", channel}, {"channel_name", "whatever"}, {"user_id", user}, {"user_name", strings.ToLower(user)},
		{"command", "/incident"}, {"text", text}, {"api_app_id", "A111"}, {"is_enterprise_install", "false"},
		{"response_url", responseURL}, {"trigger_id", triggerID},
	}
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f[0] + "=" + url.QueryEscape(f[1])
	}
	return strings.Join(parts, "&")
}

// signedRequest signs body the way Slack does, at time at.
func signedRequest(t *testing.T, target, body string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", slackSignature(testSecret, ts, body))
	return req
}

// answer is the body of the program's answer to a slash command.
type answer struct {
	Status       int
	ResponseType string            `json:"response_type"`
	Text         string            `json:"text"`
	Blocks       []json.RawMessage `json:"blocks"`
	// view_submission answers
	ResponseAction string            `json:"response_action"`
	Errors         map[string]string `json:"errors"`
	// url_verification answer
	Challenge string `json:"challenge"`
}

// All returns the answer's text and every text inside its blocks.
func (a answer) All() string {
	var b strings.Builder
	b.WriteString(a.Text)
	for _, blk := range a.Blocks {
		b.WriteString("\n" + blockText(blk))
	}
	return b.String()
}

// blockText is the text a person reads in Block Kit JSON.
func blockText(raw json.RawMessage) string { return slackfake.BlockText(raw) }

// slash sends a slash command, signed over HTTP or as a Socket Mode
// envelope, and returns the immediate answer.
func (in *instance) slash(fake *slackfake.Server, user, channel, text string) (answer, string) {
	in.t.Helper()
	ru := fake.NewResponseURL()
	trigger := fake.NewTriggerIDFor(user)
	if !in.socket {
		req := signedRequest(in.t, in.base+"/slack/commands", slashBody(user, channel, text, ru, trigger), in.signTime())
		return in.do(req), ru
	}
	payload, _ := json.Marshal(map[string]string{
		"token": "verification-token-0000", "team_id": "T111", "team_domain": "acme", "channel_id": channel, "channel_name": "whatever",
		"user_id": user, "user_name": strings.ToLower(user), "command": "/incident", "text": text, "api_app_id": "A111",
		"response_url": ru, "trigger_id": trigger,
	})
	return in.sendSocket("slash_commands", payload), ru
}

// sendSocket sends an envelope over Socket Mode and returns the ack's
// payload as an answer. Slack wants the ack within 3 s; that is a
// correctness limit, not a speed target.
func (in *instance) sendSocket(kind string, payload json.RawMessage) answer {
	in.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	// Slack lets an app answer slash commands and interactions in the ack,
	// not events.
	ack, err := in.fake.SocketSend(ctx, kind, payload, kind != "events_api")
	if err != nil {
		in.t.Fatalf("%s envelope not acknowledged within 3s: %v", kind, err)
	}
	a := answer{Status: http.StatusOK}
	if len(ack) > 0 && string(ack) != "null" {
		if err := json.Unmarshal(ack, &a); err != nil {
			in.t.Fatalf("ack payload is not JSON: %v: %s", err, ack)
		}
	}
	return a
}

func (in *instance) do(req *http.Request) answer {
	in.t.Helper()
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatalf("POST %s: %v", req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if took := time.Since(start); took > 3*time.Second {
		// Slack gives up after 3 s; this is a correctness limit, not a
		// speed target.
		in.t.Errorf("answer took %s; Slack gives up after 3s", took)
	}
	a := answer{Status: resp.StatusCode}
	if len(body) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, &a); err != nil {
			in.t.Fatalf("answer is not JSON: %v: %s", err, body)
		}
		a.Status = resp.StatusCode
	} else {
		a.Text = string(body)
	}
	return a
}

// eventually waits for cond, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool, show ...func() string) {
	t.Helper()
	eventuallyWithin(t, 15*time.Second, what, cond, show...)
}

// eventuallyWithin is eventually with its own deadline.
func eventuallyWithin(t *testing.T, limit time.Duration, what string, cond func() bool, show ...func() string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			var seen []string
			for _, f := range show {
				seen = append(seen, f())
			}
			t.Fatalf("timed out waiting for %s%s", what, strings.Join(append([]string{""}, seen...), "\nlast seen:\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// responses returns everything posted to a response_url, joined.
func responses(fake *slackfake.Server, ru string) string {
	var parts []string
	for _, r := range fake.Responses(ru) {
		parts = append(parts, r.Text)
	}
	return strings.Join(parts, "\n")
}

// texts returns the texts of a channel's messages, oldest first, leaving
// out Slack's own system messages.
func texts(fake *slackfake.Server, channel string) []string {
	var out []string
	for _, m := range fake.Messages(channel) {
		if m.Subtype == "" {
			out = append(out, m.Text)
		}
	}
	return out
}

func contains(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func mustChannel(t *testing.T, fake *slackfake.Server, name string) slackfake.Channel {
	t.Helper()
	ch, ok := fake.ChannelByName(name)
	if !ok {
		var names []string
		for _, c := range fake.Channels() {
			names = append(names, c.Name)
		}
		t.Fatalf("no channel %q; channels: %v", name, names)
	}
	return ch
}

func isMember(ch slackfake.Channel, user string) bool {
	for _, m := range ch.Members {
		if m == user {
			return true
		}
	}
	return false
}

// syncBuffer collects the program's logs.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// slackSignature signs as Slack does: v0=hex(HMAC-SHA256(secret, "v0:ts:body")).
func slackSignature(secret, ts, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":" + body))
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// declared declares "sev1 Checkout failing" as U1 in #general and returns
// its channel once Slack shows all of the declaration.
func (w *world) declared(t *testing.T, sitrep *instance) slackfake.Channel {
	t.Helper()
	sitrep.slash(w.fake, "U1", w.general, "declare sev1 Checkout failing")
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = w.fake.ChannelByName("inc-1-checkout-failing"); return ok })
	card(t, w.fake, ch.ID)
	eventually(t, "the declaration in Slack", func() bool { return len(unsynced(t, w.db)) == 0 })
	return ch
}

// waitingRuns bounds the subtests runWaiting runs at once.
const waitingRuns = 6

// runWaiting runs one subtest per name, from goroutines of its own, at most
// waitingRuns at a time, and returns when all have ended. It is for runs
// that mostly wait (on a subprocess, on Slack's pace of a post a second),
// where t.Parallel would hold them to -parallel, the number of cores, and
// leave the machine idle.
func runWaiting(t *testing.T, names []string, run func(t *testing.T, i int)) {
	t.Helper()
	runWaitingN(t, waitingRuns, names, run)
}

// runWaitingN is runWaiting with at most n runs at a time.
func runWaitingN(t *testing.T, n int, names []string, run func(t *testing.T, i int)) {
	t.Helper()
	var wg sync.WaitGroup
	slots := make(chan struct{}, n)
	for i, name := range names {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			t.Run(name, func(t *testing.T) { run(t, i) })
		})
	}
	wg.Wait()
}
