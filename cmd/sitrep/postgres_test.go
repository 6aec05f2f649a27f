package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/oncall"
	"github.com/sitrep-dev/sitrep/storage/postgres"
	"github.com/sitrep-dev/sitrep/storage/postgres/pgtest"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// pgPassword is put in the test's PostgreSQL URLs (trust authentication
// ignores it) so that the tests can check it is never shown.
const pgPassword = "pg-s3cret-8d1f"

// withPassword is u with pgPassword as its password.
func withPassword(t *testing.T, u string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	parsed.User = url.UserPassword(parsed.User.Username(), pgPassword)
	return parsed.String()
}

// tcpProxy forwards connections to a server, and can cut them all and
// refuse new ones, as a database that went away does.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	// hung passes nothing either way and answers no new connection,
	// without closing any: a database on the far side of a network that
	// drops its packets, rather than one stopped.
	hung  bool
	held  []net.Conn // connections made while hung, never answered
	conns []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.setDown(true) })
	go p.serve()
	return p
}

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		if p.hung {
			p.held = append(p.held, c)
			p.mu.Unlock()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { p.pipe(up, c); up.Close() }()
		go func() { p.pipe(c, up); c.Close() }()
	}
}

// pipe copies from src to dst, holding what it read while the proxy is
// hung.
func (p *tcpProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for n > 0 && p.isHung() {
			time.Sleep(10 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *tcpProxy) isHung() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hung
}

// setHung stops passing anything and answering new connections (true), or
// passes again what was held back (false), as a network that heals does;
// the connections made meanwhile were never answered, and are cut, as
// their client would have given up on them.
func (p *tcpProxy) setHung(hung bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hung = hung
	if !hung {
		for _, c := range p.held {
			c.Close()
		}
		p.held = nil
	}
}

// setDown cuts every connection and refuses new ones (true), or lets them
// through again (false).
func (p *tcpProxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for _, c := range append(p.conns, p.held...) {
			c.Close()
		}
		p.conns, p.held = nil, nil
	}
}

// through is u reaching its server through the proxy.
func (p *tcpProxy) through(t *testing.T, u string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	parsed.Host = p.ln.Addr().String()
	return parsed.String()
}

func readyz(base string) int {
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Sitrep serves from PostgreSQL when SITREP_DB is a postgres:// URL: an
// incident is declared and noted as on SQLite. /readyz says whether this
// replica reaches the database: 503 while the database is cut off (when a
// command is answered with a try-again), 200 again once it is back,
// without a restart. The password in the URL is never logged.
func TestServeOnPostgres(t *testing.T) {
	u := pgtest.Schema(t)
	server, err := url.Parse(pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, server.Host)
	dbURL := withPassword(t, proxy.through(t, u))

	w := newWorld(t)
	sitrep := start(t, w.fake, testEnv(w.fake, dbURL, "SITREP_ANNOUNCE_CHANNEL", w.announce))
	ans, _ := sitrep.slash(w.fake, "U1", w.general, "declare sev1 Checkout failing")
	if !strings.Contains(ans.Text, "Declared incident #1") {
		t.Fatalf("declare answered %+v", ans)
	}
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = w.fake.ChannelByName("inc-1-checkout-failing"); return ok })
	card(t, w.fake, ch.ID)
	// The channel is the incident's once its ref is stored, just after
	// Slack made it.
	eventually(t, "the channel to be known as the incident's", func() bool {
		ans, _ := sitrep.slash(w.fake, "U1", ch.ID, "note Stored in PostgreSQL")
		return !strings.Contains(ans.All(), "not an incident channel") && !strings.Contains(ans.All(), "isn't an incident")
	})
	eventually(t, "the note in the channel", func() bool { return contains(texts(w.fake, ch.ID), "Stored in PostgreSQL") }, func() string { return sitrep.logs.String() })

	if code := readyz(sitrep.base); code != http.StatusOK {
		t.Fatalf("/readyz with the database reachable: %d", code)
	}
	proxy.setDown(true)
	eventually(t, "/readyz to say the database is unreachable", func() bool { return readyz(sitrep.base) == http.StatusServiceUnavailable })
	// A request meanwhile is answered at once, asking to try again;
	// nothing was acknowledged, so nothing is lost.
	ans, _ = sitrep.slash(w.fake, "U1", ch.ID, "note During the outage")
	if ans.Status != http.StatusOK || !strings.Contains(ans.All(), "try again") {
		t.Errorf("a note while the database is cut off was answered %+v; want a clear try-again", ans)
	}
	proxy.setDown(false)
	eventually(t, "/readyz to recover with the database", func() bool { return readyz(sitrep.base) == http.StatusOK })

	// The replica goes on working after the outage.
	sitrep.slash(w.fake, "U1", ch.ID, "note Back after the outage")
	eventually(t, "a note after the outage", func() bool { return contains(texts(w.fake, ch.ID), "Back after the outage") })

	sitrep.stop()
	if logs := sitrep.logs.String(); strings.Contains(logs, pgPassword) {
		t.Errorf("the database password reached the logs:\n%s", logs)
	}
	out, _, err := runCmd(t, map[string]string{"SITREP_DB": dbURL, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, "config", "check")
	if err != nil || strings.Contains(out, pgPassword) || !strings.Contains(out, "SITREP_DB") {
		t.Errorf("config check: %v; want SITREP_DB shown with its password masked:\n%s", err, out)
	}
}

// sitrep backup on PostgreSQL explains that PostgreSQL's own tools back it
// up, and makes no file; migrate lists its schema.
func TestBackupAndMigrateOnPostgres(t *testing.T) {
	u := withPassword(t, pgtest.Schema(t))
	env := map[string]string{"SITREP_DB": u}
	out, _, err := runCmd(t, env, "migrate")
	if err != nil || !strings.Contains(out, "0001_init.sql") || !strings.Contains(out, "(now)") || strings.Contains(out, pgPassword) {
		t.Fatalf("sitrep migrate on PostgreSQL: %q, %v", out, err)
	}
	dest := t.TempDir() + "/backup.db"
	_, _, err = runCmd(t, env, "backup", dest)
	if err == nil || !strings.Contains(err.Error(), "pg_dump") || strings.Contains(err.Error(), pgPassword) {
		t.Errorf("sitrep backup on PostgreSQL: %v; want pg_dump explained, without the password", err)
	}
}

// sitrep migrate --from copies a whole SQLite installation, made by a real
// run (Slack's delivery state, claims) and the domain (checklist answers,
// follow-ups, alerts, prompts), into PostgreSQL: every store read gives
// the same answer on both, the counts are printed, a second copy is
// refused, and Sitrep then runs on PostgreSQL where it left off.
func TestMigrateFromSQLite(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	sitrep := w.start(t)
	ch := w.declared(t, sitrep)
	sitrep.slash(w.fake, "U1", ch.ID, "note Before the move")
	eventually(t, "the note", func() bool { return contains(texts(w.fake, ch.ID), "Before the move") })
	eventually(t, "everything delivered", func() bool { return len(unsynced(t, w.db)) == 0 })
	sitrep.stop()

	// What a run of a few weeks leaves besides: follow-ups, answers,
	// alerts in an incident and in triage, claims.
	src, err := sqlite.Open(ctx, w.db)
	if err != nil {
		t.Fatal(err)
	}
	svc := incident.NewService(src, incident.DefaultConfig(), time.Now)
	if _, err := svc.AddFollowUp(ctx, 1, "U1", "Add an expiry alert", "U2"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CompleteFollowUp(ctx, 1, "U2", 1); err != nil {
		t.Fatal(err)
	}
	if inc, err := svc.Get(ctx, 1); err == nil && len(inc.Checklist) > 0 {
		if _, err := svc.Answer(ctx, 1, "U1", inc.Checklist[0].ID, "done"); err != nil {
			t.Fatal(err)
		}
	}
	alert := func(key, group string, action incident.AlertAction) incident.RoutedAlert {
		return incident.RoutedAlert{Alert: incident.Alert{Source: "alertmanager", Key: key, Status: incident.AlertFiring,
			Title: "Errors " + key, Labels: map[string]string{"alertname": "Errors"}, StartsAt: time.Now()}, Route: "r", Action: action, Group: group}
	}
	// a1 with the sender's own grouping; h1 held by a route's noise
	// controls, so its group waits with a time to declare itself.
	a1 := alert("a1", "g1", incident.ActionDeclare)
	a1.Alert.Group = `{}:{alertname="Errors"}`
	h1 := alert("h1", "g3", incident.ActionDeclare)
	h1.Hold = incident.AlertHold{For: 10 * time.Minute}
	if _, err := svc.ReceiveAlerts(ctx, []incident.RoutedAlert{a1, alert("t1", "g2", incident.ActionTriage), h1}, incident.AlertRules{}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Claim(ctx, "event:Ev123", time.Now()); err != nil {
		t.Fatal(err)
	}
	// What trackers and paging leave: a follow-up with its issue, one
	// asked for and not made yet, a page under way, an override and a
	// tracker's hook secret.
	pageAt := time.Now().Add(time.Hour).UTC()
	if _, err := src.Update(ctx, 1, func(inc *incident.Incident) ([]incident.Event, error) {
		inc.FollowUps[0].Issue = incident.IssueRef{Tracker: "github", Key: "acme/ops#12", URL: "https://github.com/acme/ops/issues/12"}
		inc.FollowUps = append(inc.FollowUps, incident.FollowUp{ID: 2, Text: "Rotate the certificate", CreatedBy: "U1", CreatedAt: time.Now(), ExportTo: "jira"})
		inc.Pages = []incident.Page{{ID: 1, Policy: "default", Reason: "sev1", At: time.Now(), State: incident.PageOpen, Step: 0, Due: pageAt, Notified: []string{"U0DAVE"}}}
		inc.NextPageAt = pageAt
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.AddOverride(ctx, oncall.Override{Schedule: "primary", User: "U0DAVE", Start: time.Now(), End: time.Now().Add(8 * time.Hour), SetBy: "U1", SetAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := src.SaveHookSecret(ctx, "asana", "hook-secret-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	src.Close()

	dbURL := withPassword(t, pgtest.Schema(t))
	env := map[string]string{"SITREP_DB": dbURL}
	out, _, err := runCmd(t, env, "migrate", "--from", w.db)
	if err != nil {
		t.Fatalf("sitrep migrate --from: %v\n%s", err, out)
	}
	for _, want := range []string{"incidents", "events", "deliveries", "delivery_refs", "alerts", "alert_groups", "follow_ups", "claims",
		"hook_secrets", "oncall_overrides", "the same on both sides"} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate --from output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, pgPassword) {
		t.Errorf("migrate --from printed the password:\n%s", out)
	}

	src, err = sqlite.Open(ctx, w.db)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	sameStores(t, src, dst)
	if got, err := dst.HookSecrets(ctx, "asana"); err != nil || len(got) != 1 || got[0] != "hook-secret-1" {
		t.Errorf("hook secrets after the move: %q, %v", got, err)
	}
	// The next override is numbered after the copied one.
	if o, err := dst.AddOverride(ctx, oncall.Override{Schedule: "primary", User: "U0EVE", Start: time.Now(), End: time.Now().Add(time.Hour), SetAt: time.Now()}); err != nil || o.ID != 2 {
		t.Errorf("an override after the move: ID %d, %v; want 2", o.ID, err)
	}

	if _, _, err := runCmd(t, env, "migrate", "--from", w.db); err == nil || !strings.Contains(err.Error(), "empty database") {
		t.Errorf("a second copy into the same database: %v; want it refused", err)
	}
	if _, _, err := runCmd(t, map[string]string{"SITREP_DB": w.db}, "migrate", "--from", w.db); err == nil || !strings.HasPrefix(err.Error(), "SITREP_DB: ") {
		t.Errorf("migrate --from with SITREP_DB a SQLite file: %v; want SITREP_DB named", err)
	}
	if _, _, err := runCmd(t, env, "migrate", "--from", t.TempDir()+"/missing.db"); err == nil || !strings.HasPrefix(err.Error(), "--from: ") {
		t.Errorf("migrate --from a missing file: %v; want --from named", err)
	}

	// Sitrep on PostgreSQL picks up where it left off: a note reaches the
	// same channel, and nothing of the declaration is posted again.
	before := len(w.fake.Messages(ch.ID))
	sitrep = start(t, w.fake, testEnv(w.fake, dbURL, "SITREP_ANNOUNCE_CHANNEL", w.announce))
	sitrep.slash(w.fake, "U1", ch.ID, "note After the move")
	eventually(t, "a note after the move", func() bool { return contains(texts(w.fake, ch.ID), "After the move") })
	// The alert's incident, never shown in Slack before the move, gets
	// its channel now; the declared one keeps its own.
	eventually(t, "the alert's incident in Slack", func() bool { _, ok := w.fake.ChannelByName("inc-2-errors-a1"); return ok })
	var names []string
	for _, c := range w.fake.Channels() {
		names = append(names, c.Name)
	}
	if len(names) != 4 {
		t.Errorf("channels after the move: %v; want general, incidents, #1's and #2's", names)
	}
	if pins := w.fake.Pins(ch.ID); len(pins) != 1 {
		t.Errorf("pins after the move: %v, want the one card", pins)
	}
	eventually(t, "the next incident numbered after the copied ones", func() bool {
		ans, _ := sitrep.slash(w.fake, "U1", w.general, "declare sev2 Second one")
		return strings.Contains(ans.Text, "Declared incident #3")
	})
	if got := len(w.fake.Messages(ch.ID)); got < before+1 {
		t.Errorf("the incident channel has %d messages, had %d before the move", got, before)
	}
}

// sameStores checks that every read of the store contract answers the same
// from a and b.
func sameStores(t *testing.T, a, b incident.Store) {
	t.Helper()
	ctx := context.Background()
	incsA, err := a.List(ctx, incident.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	incsB, err := b.List(ctx, incident.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(incsA, incsB); diff != "" {
		t.Errorf("List (-sqlite +postgres):\n%s", diff)
	}
	var ids []string
	for _, inc := range incsA {
		ids = append(ids, inc.ID)
		evA, errA := a.Events(ctx, inc.ID, 0)
		evB, errB := b.Events(ctx, inc.ID, 0)
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if diff := cmp.Diff(evA, evB); diff != "" {
			t.Errorf("#%d events (-sqlite +postgres):\n%s", inc.Number, diff)
		}
		alA, _ := a.IncidentAlerts(ctx, inc.ID)
		alB, _ := b.IncidentAlerts(ctx, inc.ID)
		if diff := cmp.Diff(alA, alB); diff != "" {
			t.Errorf("#%d alerts (-sqlite +postgres):\n%s", inc.Number, diff)
		}
	}
	if len(incsA) < 2 {
		t.Errorf("the installation has %d incidents, want the declared one and the alert's", len(incsA))
	}
	dA, _ := a.Deliveries(ctx, "slack", ids)
	dB, _ := b.Deliveries(ctx, "slack", ids)
	if len(dA) == 0 {
		t.Error("the installation has no Slack delivery state")
	}
	if diff := cmp.Diff(dA, dB, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("deliveries (-sqlite +postgres):\n%s", diff)
	}
	for _, integration := range []string{"slack", "slack-pages", "never-used"} {
		bA, _ := a.Behind(ctx, integration)
		bB, _ := b.Behind(ctx, integration)
		if diff := cmp.Diff(bA, bB, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Behind(%s) (-sqlite +postgres):\n%s", integration, diff)
		}
		pA, _ := a.Pending(ctx, integration)
		pB, _ := b.Pending(ctx, integration)
		if pA != pB {
			t.Errorf("Pending(%s): sqlite %+v, postgres %+v", integration, pA, pB)
		}
	}
	chA, lA, _ := a.Changes(ctx, 0)
	chB, lB, _ := b.Changes(ctx, 0)
	if diff := cmp.Diff(chA, chB); diff != "" || lA != lB {
		t.Errorf("Changes (-sqlite +postgres), latest %d and %d:\n%s", lA, lB, diff)
	}
	now := time.Now().Add(48 * time.Hour)
	dueA, nextA, _ := a.DuePrompts(ctx, now)
	dueB, nextB, _ := b.DuePrompts(ctx, now)
	if diff := cmp.Diff(dueA, dueB, cmpopts.EquateEmpty()); diff != "" || !nextA.Equal(nextB) {
		t.Errorf("DuePrompts (-sqlite +postgres), next %v and %v:\n%s", nextA, nextB, diff)
	}
	pgA, nextPA, _ := a.DuePages(ctx, now)
	pgB, nextPB, _ := b.DuePages(ctx, now)
	if len(pgA) == 0 {
		t.Error("the installation has no page due")
	}
	if diff := cmp.Diff(pgA, pgB, cmpopts.EquateEmpty()); diff != "" || !nextPA.Equal(nextPB) {
		t.Errorf("DuePages (-sqlite +postgres), next %v and %v:\n%s", nextPA, nextPB, diff)
	}
	hA, nextHA, _ := a.HeldGroups(ctx, time.Now())
	hB, nextHB, _ := b.HeldGroups(ctx, time.Now())
	if nextHA.IsZero() {
		t.Error("the installation has no group waiting")
	}
	if diff := cmp.Diff(hA, hB, cmpopts.EquateEmpty()); diff != "" || !nextHA.Equal(nextHB) {
		t.Errorf("HeldGroups (-sqlite +postgres), next %v and %v:\n%s", nextHA, nextHB, diff)
	}
	recA, _ := a.RecordedAlerts(ctx)
	recB, _ := b.RecordedAlerts(ctx)
	if diff := cmp.Diff(recA, recB); diff != "" {
		t.Errorf("RecordedAlerts (-sqlite +postgres):\n%s", diff)
	}
	shA, _ := a.TriageShown(ctx)
	shB, _ := b.TriageShown(ctx)
	if diff := cmp.Diff(shA, shB, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("TriageShown (-sqlite +postgres):\n%s", diff)
	}
	ovA, _ := a.Overrides(ctx, time.Now())
	ovB, _ := b.Overrides(ctx, time.Now())
	if len(ovA) == 0 {
		t.Error("the installation has no override")
	}
	if diff := cmp.Diff(ovA, ovB); diff != "" {
		t.Errorf("Overrides (-sqlite +postgres):\n%s", diff)
	}
	trA, _ := a.TriageBehind(ctx)
	trB, _ := b.TriageBehind(ctx)
	if len(trA) == 0 {
		t.Error("the installation has no group in triage")
	}
	if diff := cmp.Diff(trA, trB); diff != "" {
		t.Errorf("TriageBehind (-sqlite +postgres):\n%s", diff)
	}
	for _, g := range []string{"g1", "g2", "g3"} {
		gA, _ := a.GroupAlerts(ctx, g)
		gB, _ := b.GroupAlerts(ctx, g)
		if diff := cmp.Diff(gA, gB); diff != "" {
			t.Errorf("GroupAlerts(%s) (-sqlite +postgres):\n%s", g, diff)
		}
	}
	stA, _ := a.Stats(ctx)
	stB, _ := b.Stats(ctx)
	if diff := cmp.Diff(stA, stB); diff != "" {
		t.Errorf("Stats (-sqlite +postgres):\n%s", diff)
	}
	if first, err := b.Claim(ctx, "event:Ev123", time.Now()); err != nil || first {
		t.Errorf("a claim made before the move: Claim = %v, %v; want it already claimed", first, err)
	}
}

// count is how many of list contain sub.
func count(list []string, sub string) int {
	n := 0
	for _, s := range list {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

// Two replicas on one PostgreSQL database and one Slack, with requests
// spread across them: an incident declared on one and changed through
// both shows in Slack as it would from one process, each change once.
func TestTwoReplicasShowEachChangeOnce(t *testing.T) {
	u := pgtest.Schema(t)
	w := newWorld(t)
	env := testEnv(w.fake, u, "SITREP_ANNOUNCE_CHANNEL", w.announce)
	replicas := []*instance{start(t, w.fake, env), start(t, w.fake, env)}

	ans, _ := replicas[0].slash(w.fake, "U1", w.general, "declare sev1 Checkout failing")
	if !strings.Contains(ans.Text, "Declared incident #1") {
		t.Fatalf("declare answered %+v", ans)
	}
	var ch slackfake.Channel
	eventually(t, "the incident channel", func() bool { var ok bool; ch, ok = w.fake.ChannelByName("inc-1-checkout-failing"); return ok })
	card(t, w.fake, ch.ID)
	eventually(t, "the channel to be known as the incident's", func() bool {
		ans, _ := replicas[1].slash(w.fake, "U1", ch.ID, "note note 0")
		return !strings.Contains(ans.All(), "not an incident channel") && !strings.Contains(ans.All(), "isn't an incident")
	})
	for i := 1; i < 8; i++ {
		replicas[i%2].slash(w.fake, "U1", ch.ID, fmt.Sprintf("note note %d", i))
	}
	replicas[1].slash(w.fake, "U2", ch.ID, "status identified")
	for i := range 8 {
		eventually(t, fmt.Sprintf("note %d in the channel", i), func() bool { return contains(texts(w.fake, ch.ID), fmt.Sprintf("note %d", i)) })
	}
	eventually(t, "the status change announced", func() bool { return contains(texts(w.fake, w.announce), "is now *identified*") })
	// Stopped, so that nothing is still being posted while Slack is read.
	for _, r := range replicas {
		r.stop()
	}

	msgs := texts(w.fake, ch.ID)
	for i := range 8 {
		if n := count(msgs, fmt.Sprintf("note %d", i)); n != 1 {
			t.Errorf("note %d is in the channel %d times, want once:\n%s", i, n, strings.Join(msgs, "\n"))
		}
	}
	if n := count(msgs, "set the status to *identified*"); n != 1 {
		t.Errorf("the status change is in the channel %d times, want once", n)
	}
	announced := texts(w.fake, w.announce)
	if n := count(announced, "declared as *sev1*"); n != 1 {
		t.Errorf("the declaration was announced %d times, want once:\n%s", n, strings.Join(announced, "\n"))
	}
	if n := count(announced, "is now *identified*"); n != 1 {
		t.Errorf("the status change was announced %d times, want once:\n%s", n, strings.Join(announced, "\n"))
	}
	if pins := w.fake.Pins(ch.ID); len(pins) != 1 {
		t.Errorf("pins: %v, want the one card", pins)
	}
	if n := len(w.fake.Channels()); n != 3 {
		t.Errorf("%d channels, want general, incidents and the incident's", n)
	}
}

// sitrep alerts replay reads the recorded alerts through SITREP_DB
// whichever store it names: an installation copied into PostgreSQL
// replays exactly as its SQLite file does.
func TestAlertsReplayOnPostgres(t *testing.T) {
	w := newWorld(t)
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	sitrep := w.startAlertingAt(t, clk, "alerts:\n  routes:\n    - name: everything\n      action: triage\n      group_by: [service]\n")
	for i := range 3 {
		sitrep.mustHook(t, "generic", genericAlert(fmt.Sprint("checkout-", i), "firing", "Checkout 5xx", map[string]string{"service": "checkout"}))
	}
	sitrep.mustHook(t, "generic", genericAlert("search-0", "firing", "Search slow", map[string]string{"service": "search"}))
	sitrep.stop()
	next := filepath.Join(t.TempDir(), "next.yaml")
	if err := os.WriteFile(next, []byte("alerts:\n  routes:\n    - name: checkout\n      matchers: ['service=\"checkout\"']\n      action: declare\n      group_by: [service]\n      min_alerts: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dbURL := withPassword(t, pgtest.Schema(t))
	if out, _, err := runCmd(t, map[string]string{"SITREP_DB": dbURL}, "migrate", "--from", w.db); err != nil {
		t.Fatalf("migrate --from: %v\n%s", err, out)
	}
	clk.Advance(time.Minute)
	replay := func(db string) string {
		t.Helper()
		var out, errOut syncBuffer
		p := program{getenv: func(k string) string { return map[string]string{"SITREP_DB": db}[k] }, stdout: &out, stderr: &errOut, clock: clk}
		if err := p.run(context.Background(), []string{"alerts", "replay", "--config", next}); err != nil {
			t.Fatalf("replay on %s: %v", describeDB(db), err)
		}
		return out.String()
	}
	fromSQLite, fromPostgres := replay(w.db), replay(dbURL)
	if !strings.Contains(fromSQLite, "Replayed 4 alerts") || !strings.Contains(fromSQLite, "They would declare 1 incidents") {
		t.Fatalf("replay on SQLite:\n%s", fromSQLite)
	}
	if fromPostgres != fromSQLite {
		t.Errorf("replay on PostgreSQL:\n%s\nOn SQLite:\n%s", fromPostgres, fromSQLite)
	}
	if strings.Contains(fromPostgres, pgPassword) {
		t.Errorf("replay printed the password:\n%s", fromPostgres)
	}
}
