package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sitrep-dev/sitrep/storage/postgres/pgtest"
)

// TestMain lets the test binary serve as the minimal server, as the tool's
// own binary does: the tool starts it with os.Executable.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == baselineFlag {
		os.Exit(baselineMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// TestQuick runs the whole tool in quick mode, so that it keeps working as
// the program changes. It checks that every figure is reported, not what
// the figures are: test machines are too noisy for that.
func TestQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "report.md")
	args := []string{"-quick", "-o", out}
	if raceEnabled {
		// The race build of the program's dependencies is in the build
		// cache already, having been built for this test.
		args = append(args, "-buildflags", "-race")
	}
	var stdout, stderr bytes.Buffer
	res, err := run(ctx, args, &stdout, &stderr)
	if err != nil {
		t.Fatalf("sitrep-bench %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	doc, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(doc) != stdout.String() {
		t.Error("the report written with -o differs from the one printed")
	}

	if len(res.latency) != 2 {
		t.Fatalf("latency measured for %d commands, want 2 (help and note)", len(res.latency))
	}
	for _, run := range res.latency {
		for s, st := range run.servers {
			if st.errors > 0 {
				t.Errorf("%s %s: %d requests failed; first: %s", serverNames[s], run.command, st.errors, st.firstErr)
			}
			if len(st.durs) != res.cfg.requests || st.percentile(0.99) <= 0 || st.rate() <= 0 {
				t.Errorf("%s %s: %d latencies, p99 %s, %.0f requests/s; want %d measured", serverNames[s], run.command, len(st.durs), st.percentile(0.99), st.rate(), res.cfg.requests)
			}
		}
	}
	if res.background.notes == 0 {
		t.Error("no notes counted for the background work")
	}
	// Alert intake: every acknowledged alert is in the database, counted
	// there; the storm made one incident holding all its alerts, and Slack
	// was called for it.
	a := res.alerts
	for s, st := range a.servers {
		if st.errors > 0 || len(st.durs) != res.cfg.alertBodies || st.percentile(0.99) <= 0 {
			t.Errorf("alerts, %s: %d latencies, %d errors (first: %s); want %d", serverNames[s], len(st.durs), st.errors, st.firstErr, res.cfg.alertBodies)
		}
	}
	if want := res.cfg.alertBodies * res.cfg.alertsPerBody; a.committed != want || a.alertsSent != want || a.committedRate() <= 0 {
		t.Errorf("alerts: %d committed of %d sent at %.0f/s; want %d", a.committed, a.alertsSent, a.committedRate(), want)
	}
	if a.inDB != a.answered || a.incidents == 0 || a.groups != alertGroups {
		t.Errorf("alerts: %d in the database, %d acknowledged, %d incidents, %d groups; want as many in the database as acknowledged, some incidents, %d groups", a.inDB, a.answered, a.incidents, a.groups, alertGroups)
	}
	if st := res.storm; st.errors > 0 || st.inDB != res.cfg.storm || st.incidents != 1 || st.totalCalls() == 0 || !strings.Contains(st.summary, "firing") {
		t.Errorf("storm: %d errors (first: %s), %d alerts in the database, %d incidents, %d Slack calls, summary %q; want %d alerts in one incident",
			st.errors, st.firstErr, st.inDB, st.incidents, st.totalCalls(), st.summary, res.cfg.storm)
	}
	for name, r := range map[string]eventRate{
		"service, serial": res.events.serial[viaService], "plain, serial": res.events.serial[viaPlain],
		"service, concurrent": res.events.concurrent[viaService], "plain, concurrent": res.events.concurrent[viaPlain],
	} {
		if r.events != res.cfg.events || r.perSecond() <= 0 {
			t.Errorf("events, %s: %d events at %.0f/s; want %d", name, r.events, r.perSecond(), res.cfg.events)
		}
	}
	for name, s := range map[string]startSeries{"fresh": res.startFresh, "existing": res.startExisting} {
		if len(s.times) != res.cfg.starts || s.median() <= 0 {
			t.Errorf("start-to-ready on a %s database: %v; want %d starts", name, s.times, res.cfg.starts)
		}
	}
	for name, m := range map[string]memory{"idle": res.memIdle, "after the load": res.memAfterLoad, "after idling again": res.memAfterIdle} {
		if m.rss <= 0 {
			t.Errorf("RSS %s not measured", name)
		}
	}

	// Every figure is in the report, with a verdict on every target.
	for _, want := range []string{
		"## Slash-command acknowledgement latency", "`/incident help` | Sitrep", "`/incident help` | minimal",
		"`/incident note` | Sitrep", "`/incident note` | minimal", "p99 Sitrep / minimal", "Background work:",
		"## Alert intake", "alerts committed per second", "### A storm of one group", "| `chat.postMessage` |",
		"## Timeline events written per second", "| 1 |", "| 8 |",
		"## Start-to-ready time and memory", "fresh database, median", "existing database, max", "idle RSS",
		"RSS right after the latency load", "RSS after idling",
		"- Machine: ", "- Go: ", "```sh\ngo run ./cmd/sitrep-bench -quick",
	} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// A quick run judges no target: its figures mean nothing, and a
	// "missed" would only alarm a newcomer trying the tool.
	if judged := strings.Count(string(doc), "| met |") + strings.Count(string(doc), "| missed |"); judged != 0 {
		t.Errorf("a quick run judged %d targets:\n%s", judged, doc)
	}
	if n := strings.Count(string(doc), "| "+notJudged+" |"); n != 4+2+5+3 {
		t.Errorf("report has %d targets marked %q, want %d (4 latency, 2 events, 5 start and memory, 3 alerts):\n%s", n, notJudged, 4+2+5+3, doc)
	}
	if !strings.Contains(string(doc), "no target is judged") {
		t.Errorf("the quick report does not say its figures are not judged:\n%s", doc)
	}
	if res.background.stopKilled {
		t.Errorf("the program was killed after SIGTERM instead of exiting (its shutdown grace is shorter than -stop-grace %s):\n%s", res.cfg.stopGrace, doc)
	}
	for i, line := range strings.Split(string(doc), "\n") {
		if len(line) > lineLimit && !strings.HasPrefix(line, "|") && !strings.HasPrefix(line, "go run") {
			t.Errorf("report line %d is longer than %d characters: %s", i+1, lineLimit, line)
		}
	}
}

// TestPostgres runs the PostgreSQL benchmark in its smallest form: one and
// three replicas of the program on a schema of their own, and the floor.
// It checks that every figure is there and that round trips were counted
// on the replicas' /metrics, not what the figures are.
func TestPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program; skipped with -short")
	}
	pgtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	args := []string{"-quick", "-n", "60", "-warmup", "30", "-c", "10", "-postgres", pgtest.ServerURL()}
	if raceEnabled {
		args = append(args, "-buildflags", "-race")
	}
	cfg, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var log bytes.Buffer
	logf := func(format string, args ...any) { fmt.Fprintf(&log, format+"\n", args...) }
	bin, _, err := programBinary(ctx, cfg, dir, logf)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := benchPostgres(ctx, cfg, bin, dir, logf)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for i, run := range pg.runs {
		if run.replicas != replicaCounts[i] || len(run.answered) != run.replicas {
			t.Fatalf("run %d: %d replicas answering %v, want %d", i, run.replicas, run.answered, replicaCounts[i])
		}
		if run.notes.errors > 0 || run.acked() != cfg.requests || run.notes.percentile(0.99) <= 0 || run.notes.rate() <= 0 {
			t.Errorf("%d replicas: %d notes acknowledged, %d failed (first: %s), p99 %s; want %d", run.replicas,
				run.acked(), run.notes.errors, run.notes.firstErr, run.notes.percentile(0.99), cfg.requests)
		}
		// Round-robin: every replica answered its share.
		for r, n := range run.answered {
			if n != cfg.requests/run.replicas {
				t.Errorf("%d replicas: replica %d acknowledged %d notes, want %d", run.replicas, r, n, cfg.requests/run.replicas)
			}
		}
		// Each note is a write transaction of several statements: fewer
		// round trips than notes means the counter missed them.
		if run.roundTrips < uint64(run.acked()) || run.idleFor <= 0 {
			t.Errorf("%d replicas: %d round trips counted for %d notes, idle window %s", run.replicas, run.roundTrips, run.acked(), run.idleFor)
		}
	}
	if pg.floor.errors > 0 || len(pg.floor.durs) != cfg.requests || pg.floor.rate() <= 0 {
		t.Errorf("floor: %d inserts measured, %d failed (first: %s); want %d", len(pg.floor.durs), pg.floor.errors, pg.floor.firstErr, cfg.requests)
	}
	// BEGIN, INSERT, COMMIT, each a round trip as pgx sends them; the
	// pool's pings of connections idle over a second could add one.
	if pg.floorTrips < 3*uint64(cfg.requests) || pg.floorTripsPerRow() > 3.5 {
		t.Errorf("floor: %d round trips for %d rows (%.2f a row), want 3 a row", pg.floorTrips, cfg.requests, pg.floorTripsPerRow())
	}
	if pg.version == "" || strings.Contains(pg.server, "search_path") {
		t.Errorf("server %q version %q", pg.server, pg.version)
	}

	// The section alone: the rest of a report needs the other benchmarks.
	var b strings.Builder
	renderPostgres(func(format string, args ...any) { fmt.Fprintf(&b, format, args...) },
		&results{cfg: cfg, pg: pg}, func(bool) string { return notJudged })
	doc := b.String()
	for _, want := range []string{
		"## PostgreSQL and replicas", "| PostgreSQL, 1 replica |", "| PostgreSQL, 3 replicas |",
		"| floor: one-row INSERT transactions through pgx |", roundTripsMetric,
		"notes/s, 3 replicas ≥ 0.8 × 1 replica", "note p99 < 50.00 ms, 3 replicas", "round trips per note net of background",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q:\n%s", want, doc)
		}
	}
	if n := strings.Count(doc, "| "+notJudged+" |"); n != 4 {
		t.Errorf("the PostgreSQL section has %d targets marked %q, want 4:\n%s", n, notJudged, doc)
	}

	// The schemas made for the run are gone.
	conn, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if len(pg.schemas) != len(replicaCounts) {
		t.Errorf("schemas made: %v, want one per configuration", pg.schemas)
	}
	var left []string
	if err := conn.QueryRow(ctx, `SELECT coalesce(array_agg(nspname::text), '{}') FROM pg_namespace WHERE nspname = ANY($1)`, pg.schemas).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("schemas left on the server: %v", left)
	}
	t.Logf("%s", log.String())
	for _, run := range pg.runs {
		t.Logf("%d replicas: %.0f notes/s, p99 %s, %.2f round trips per note (%.2f net of %.1f/s background)",
			run.replicas, run.notes.rate(), run.notes.percentile(0.99), run.tripsPerNote(), run.netTripsPerNote(), run.idleRate())
	}
}

// TestPostgresFlag checks that a -postgres that is not a PostgreSQL URL is
// refused with a message saying what to give, without its password.
func TestPostgresFlag(t *testing.T) {
	_, err := parseFlags([]string{"-postgres", "mysql://u:hunter2@db/x"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "postgres://") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("parseFlags(-postgres mysql://…) = %v; want a message naming postgres:// without the password", err)
	}
	for _, args := range [][]string{
		{"-quick", "-postgres", "postgres://u:hunter2@db/x"},
		{"-quick", "--postgres=postgres://u:hunter2@db/x"},
		{"-quick", "-postgres", "postgres://u@db/x?password=hunter2"},
	} {
		cfg, err := parseFlags(args, io.Discard)
		if err != nil || strings.Contains(cfg.commandLine, "hunter2") || !strings.Contains(cfg.commandLine, "postgres://u") {
			t.Errorf("%s: command line %q (%v); want it with the password masked", strings.Join(args, " "), cfg.commandLine, err)
		}
	}
}
