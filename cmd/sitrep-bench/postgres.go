package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sitrep-dev/sitrep/incident"
)

// The PostgreSQL benchmark of issue 24: the note command against one
// replica and against three on the same schema and the same fake Slack,
// the bench's clients spreading requests round-robin across the replicas
// as a load balancer would; and a floor of plain one-row INSERT
// transactions through pgx from as many clients, on the same server.

// replicaCounts are the configurations measured.
var replicaCounts = [2]int{1, 3}

// roundTripsMetric is the counter each replica publishes on /metrics.
const roundTripsMetric = "sitrep_db_round_trips_total"

// pgReplicaRun is the note benchmark against some replicas.
type pgReplicaRun struct {
	replicas int
	notes    serverStats // the measured notes, acknowledged or failed
	answered []int       // measured requests each replica answered 200
	// roundTrips is the sum over the replicas of their counters' growth
	// from just before the first measured request to just after the last
	// answer: the notes' own round trips and whatever background work ran
	// meanwhile.
	roundTrips uint64
	// idleTrips is the same sum over idleFor with no load, after the
	// incident was declared, Slack had gone quiet and every replica had
	// caught up with the declaration: the background work alone
	// (change-feed polls, the pool's pings, the readings of /metrics).
	idleTrips             uint64
	idleFor               time.Duration
	warnLines, errorLines int
}

// acked is how many measured notes were acknowledged.
func (r pgReplicaRun) acked() int { return len(r.notes.durs) }

// tripsPerNote is the round trips of the measured window per acknowledged
// note, background included.
func (r pgReplicaRun) tripsPerNote() float64 {
	if r.acked() == 0 {
		return 0
	}
	return float64(r.roundTrips) / float64(r.acked())
}

// idleRate is the background's round trips a second, all replicas
// together.
func (r pgReplicaRun) idleRate() float64 {
	if r.idleFor <= 0 {
		return 0
	}
	return float64(r.idleTrips) / r.idleFor.Seconds()
}

// netTripsPerNote is tripsPerNote less what the background would have made
// in the window at its idle rate.
func (r pgReplicaRun) netTripsPerNote() float64 {
	if r.acked() == 0 {
		return 0
	}
	return max(0, float64(r.roundTrips)-r.idleRate()*r.notes.wall.Seconds()) / float64(r.acked())
}

// pgResults is the whole PostgreSQL benchmark.
type pgResults struct {
	server  string   // the URL, password masked
	version string   // server_version
	schemas []string // made for the run (and dropped)
	runs    [2]pgReplicaRun
	floor   serverStats // one-row INSERT transactions
	// floorTrips is the floor's measured round trips, counted on its
	// pool's connections as the store counts its own.
	floorTrips uint64
}

// floorTripsPerRow is the floor's round trips per row inserted.
func (p *pgResults) floorTripsPerRow() float64 {
	if len(p.floor.durs) == 0 {
		return 0
	}
	return float64(p.floorTrips) / float64(len(p.floor.durs))
}

// scaling is three replicas' acknowledged notes a second over one's.
func (p *pgResults) scaling() float64 {
	if p.runs[0].notes.rate() == 0 {
		return 0
	}
	return p.runs[1].notes.rate() / p.runs[0].notes.rate()
}

// The targets of issue 24.
const (
	targetReplicaScaling = 0.8                   // three replicas' notes/s over one's, at least
	targetPgP99          = 50 * time.Millisecond // note p99 with either
	targetTripsSpread    = 0.1                   // round trips per note, three vs one, within this fraction
)

// tripsSpread is how far three replicas' round trips per note (net of
// background) are from one's, as a fraction of one's.
func (p *pgResults) tripsSpread() float64 {
	one, three := p.runs[0].netTripsPerNote(), p.runs[1].netTripsPerNote()
	if one == 0 {
		return 0
	}
	d := three/one - 1
	if d < 0 {
		d = -d
	}
	return d
}

// benchPostgres runs the PostgreSQL benchmark against the server at
// cfg.postgres: each configuration in a schema made for it and dropped
// afterwards.
func benchPostgres(ctx context.Context, cfg config, bin, dir string, logf func(string, ...any)) (*pgResults, error) {
	res := &pgResults{server: redactURL(cfg.postgres)}
	admin, err := pgx.Connect(ctx, cfg.postgres)
	if err != nil {
		return nil, fmt.Errorf("-postgres: connect to %s: %w", res.server, err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if err := admin.QueryRow(ctx, `SHOW server_version`).Scan(&res.version); err != nil {
		return nil, fmt.Errorf("-postgres: read the server's version: %w", err)
	}

	for i, n := range replicaCounts {
		schema, drop, err := benchSchema(ctx, admin)
		if err != nil {
			return nil, err
		}
		res.schemas = append(res.schemas, schema)
		u, err := withSearchPath(cfg.postgres, schema)
		if err != nil {
			drop()
			return nil, err
		}
		logf("postgres: %s in schema %s, %d requests after %d warm-up, %d clients round-robin", plural(n, "replica"), schema, cfg.requests, cfg.warmup, cfg.clients)
		run, err := benchReplicas(ctx, cfg, bin, filepath.Join(dir, fmt.Sprintf("pg%d", n)), u, n, logf)
		if err == nil && i == 0 {
			// The floor runs here, with no program running, on a table
			// shaped like the events table in the schema just measured.
			logf("postgres: floor, %d one-row INSERT transactions after %d warm-up, %d clients", cfg.requests, cfg.warmup, cfg.clients)
			res.floor, res.floorTrips, err = benchFloor(ctx, cfg, u)
		}
		drop()
		if err != nil {
			return nil, err
		}
		res.runs[i] = run
	}
	return res, nil
}

// benchSchema makes a schema named for nothing else and returns a func
// that drops it with all it holds.
func benchSchema(ctx context.Context, admin *pgx.Conn) (string, func(), error) {
	b := make([]byte, 6)
	rand.Read(b)
	name := "sitrep_bench_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		return "", nil, fmt.Errorf("-postgres: create schema %s: %w (the user needs CREATE on the database)", name, err)
	}
	return name, func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		admin.Exec(dctx, `DROP SCHEMA `+name+` CASCADE`)
	}, nil
}

// withSearchPath is the URL u with its connections in schema.
func withSearchPath(u, schema string) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("-postgres: not a URL: %s", redactURL(u))
	}
	q := parsed.Query()
	q.Set("search_path", schema)
	parsed.RawQuery = q.Encode()
	return parsed.String(), nil
}

// redactURL is u with any password masked, for the report and messages.
func redactURL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return "(a URL that cannot be parsed)"
	}
	q := parsed.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		parsed.RawQuery = q.Encode()
	}
	return parsed.Redacted()
}

// benchReplicas starts n replicas on the database at u, with a fake Slack
// of their own, declares an incident through the first, measures the
// background with no load, then sends notes round-robin.
func benchReplicas(ctx context.Context, cfg config, bin, dir, u string, n int, logf func(string, ...any)) (pgReplicaRun, error) {
	run := pgReplicaRun{replicas: n, answered: make([]int, n)}
	env := newEnvironment(bin, "", dir, cfg)
	defer env.close()
	var procs []*process
	defer func() {
		for _, p := range procs {
			p.kill()
		}
	}()
	for range n {
		p, err := env.startSitrep(u)
		if err != nil {
			return run, err
		}
		procs = append(procs, p)
	}
	for _, p := range procs {
		if _, err := p.waitReady(ctx, readyLimit); err != nil {
			return run, err
		}
	}
	bases := make([]string, n)
	for i, p := range procs {
		bases[i] = p.base
	}
	l := newLoad(env, [2]string{bases[0], ""})
	channel, err := l.declare(ctx)
	if err != nil {
		return run, fmt.Errorf("declare the benchmark's incident: %w\n%s", err, procs[0].logTail())
	}

	// The other replicas learn of the declaration at their next poll of
	// the change feed, and each then makes its first pass over the
	// incident, preparing its statements: a start, not the background.
	// Two polls' time lets that settle; the idle window then spans two
	// polls too, so that each replica polls as often in it as on average.
	idle := max(cfg.idle, 2*incident.DefaultPoll)
	if err := sleep(ctx, 2*incident.DefaultPoll); err != nil {
		return run, err
	}
	before, err := roundTrips(ctx, bases)
	if err != nil {
		return run, err
	}
	start := time.Now()
	if err := sleep(ctx, idle); err != nil {
		return run, err
	}
	after, err := roundTrips(ctx, bases)
	if err != nil {
		return run, err
	}
	run.idleTrips, run.idleFor = after-before, time.Since(start)

	note := func(i int) string { return fmt.Sprintf("note Rolled back build %d; error rate is falling", i) }
	var warm serverStats
	if err := l.roundRobin(ctx, bases, channel, note, cfg.warmup, &warm, nil); err != nil {
		return run, err
	}
	if warm.errors > 0 {
		return run, fmt.Errorf("warm-up: %d of %d notes failed; first: %s", warm.errors, cfg.warmup, warm.firstErr)
	}
	if before, err = roundTrips(ctx, bases); err != nil {
		return run, err
	}
	run.notes.durs = make([]time.Duration, 0, cfg.requests)
	if err := l.roundRobin(ctx, bases, channel, note, cfg.requests, &run.notes, run.answered); err != nil {
		return run, err
	}
	if after, err = roundTrips(ctx, bases); err != nil {
		return run, err
	}
	run.roundTrips = after - before

	for _, p := range procs {
		if _, _, err := p.stop(cfg.stopGrace); err != nil {
			return run, err
		}
		run.warnLines += countInFile(p.log, `"level":"WARN"`)
		run.errorLines += countInFile(p.log, `"level":"ERROR"`)
	}
	return run, nil
}

// roundRobin sends count notes from cfg.clients concurrent clients, the
// i-th request to bases[i mod len(bases)], adding their latencies to st and
// counting each replica's 200s in answered (when not nil).
func (l *load) roundRobin(ctx context.Context, bases []string, channel string, text func(int) string, count int, st *serverStats, answered []int) error {
	durs := make([]time.Duration, count)
	failed := make([]string, count)
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range min(l.e.cfg.clients, count) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= count || ctx.Err() != nil {
					return
				}
				replica := i % len(bases)
				status, body, took, err := l.send(ctx, bases[replica], channel, text(int(l.counter.Add(1))))
				switch {
				case err != nil:
					failed[i] = err.Error()
				case status != http.StatusOK:
					failed[i] = fmt.Sprintf("HTTP %d: %.200s", status, body)
				case len(body) != 0:
					failed[i] = fmt.Sprintf("note answered with a message: %.200s", body)
				case answered != nil:
					mu.Lock()
					answered[replica]++
					mu.Unlock()
				}
				durs[i] = took
			}
		})
	}
	wg.Wait()
	st.wall += time.Since(start)
	if err := ctx.Err(); err != nil {
		return err
	}
	st.record(failed, durs)
	return nil
}

// metricsClient reads the replicas' counters.
var metricsClient = &http.Client{Timeout: 10 * time.Second}

// roundTrips sums the replicas' round-trip counters, read from /metrics.
// Each reading costs the replica its scrape's own database reads (the
// incident counts and what Slack has not caught up with), which the
// counters include.
func roundTrips(ctx context.Context, bases []string) (uint64, error) {
	var sum uint64
	for _, base := range bases {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics?name[]="+roundTripsMetric, nil)
		if err != nil {
			return 0, err
		}
		resp, err := metricsClient.Do(req)
		if err != nil {
			return 0, fmt.Errorf("read %s from %s: %w", roundTripsMetric, base, err)
		}
		n, found, err := scanCounter(bufio.NewScanner(resp.Body), roundTripsMetric)
		resp.Body.Close()
		switch {
		case err != nil:
			return 0, fmt.Errorf("read %s from %s: %w", roundTripsMetric, base, err)
		case !found:
			return 0, fmt.Errorf("%s/metrics has no %s: is the program older than issue 24, or not on PostgreSQL?", base, roundTripsMetric)
		}
		sum += n
	}
	return sum, nil
}

// scanCounter finds an unlabelled counter's value in Prometheus's text
// format.
func scanCounter(sc *bufio.Scanner, name string) (uint64, bool, error) {
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), name+" ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 {
			return 0, false, fmt.Errorf("%s is %q, not a count", name, v)
		}
		return uint64(f), true, nil
	}
	return 0, false, sc.Err()
}

// floorTable is shaped like a timeline event row: the events table's
// columns, defaults, checks and indexes, without its foreign key and its
// trigger, which are the store's and not PostgreSQL's.
const floorTable = `CREATE TABLE floor_events (LIKE events INCLUDING ALL)`

// benchFloor measures one-row INSERT transactions (BEGIN, INSERT, COMMIT:
// three round trips, as pgx sends them) through a pgxpool with its default
// size, as each replica's, from cfg.clients clients. It returns the round
// trips the measured ones made.
func benchFloor(ctx context.Context, cfg config, u string) (serverStats, uint64, error) {
	var st serverStats
	pcfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		return st, 0, fmt.Errorf("floor: %w", err)
	}
	var trips atomic.Uint64
	dial := pcfg.ConnConfig.DialFunc
	pcfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &tripConn{Conn: conn, n: &trips}, nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return st, 0, fmt.Errorf("floor: %w", err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, floorTable); err != nil {
		return st, 0, fmt.Errorf("floor: %s: %w", floorTable, err)
	}
	var seq atomic.Int64
	insert := func(ctx context.Context) error {
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		now := time.Now().UTC().Format("2006-01-02T15:04:05.000000000Z") // the utc_time domain's form
		if _, err := tx.Exec(ctx, `INSERT INTO floor_events (incident_id, at, kind, actor, text, source, data, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			"00000000-0000-4000-8000-000000000001", now, "note", "U0BENCH",
			fmt.Sprintf("Rolled back build %d; error rate is falling", seq.Add(1)), "", nil, now); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
	var warm serverStats
	if err := floorRound(ctx, cfg.clients, cfg.warmup, insert, &warm); err != nil {
		return st, 0, err
	}
	if warm.errors > 0 {
		return st, 0, fmt.Errorf("floor warm-up: %d of %d inserts failed; first: %s", warm.errors, cfg.warmup, warm.firstErr)
	}
	st.durs = make([]time.Duration, 0, cfg.requests)
	before := trips.Load()
	err = floorRound(ctx, cfg.clients, cfg.requests, insert, &st)
	return st, trips.Load() - before, err
}

// tripConn counts round trips as storage/postgres's countedConn does (a
// write, then the first bytes of the answer), for the floor's pool.
type tripConn struct {
	net.Conn
	n    *atomic.Uint64
	sent atomic.Bool
}

func (c *tripConn) Write(b []byte) (int, error) {
	// Marked before writing: the answer may be read (by pgx's reader in
	// the background) before Write returns here.
	if len(b) > 0 {
		c.sent.Store(true)
	}
	return c.Conn.Write(b)
}

func (c *tripConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && c.sent.CompareAndSwap(true, false) {
		c.n.Add(1)
	}
	return n, err
}

// floorRound runs count inserts from clients goroutines.
func floorRound(ctx context.Context, clients, count int, insert func(context.Context) error, st *serverStats) error {
	durs := make([]time.Duration, count)
	failed := make([]string, count)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range min(clients, count) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= count || ctx.Err() != nil {
					return
				}
				t := time.Now()
				if err := insert(ctx); err != nil {
					failed[i] = err.Error()
				}
				durs[i] = time.Since(t)
			}
		})
	}
	wg.Wait()
	st.wall += time.Since(start)
	if err := ctx.Err(); err != nil {
		return err
	}
	st.record(failed, durs)
	return nil
}

// renderPostgres writes the section of issue 24.
func renderPostgres(p func(string, ...any), r *results, judge func(bool) string) {
	p("\n## PostgreSQL and replicas\n\n")
	pg := r.pg
	if pg == nil {
		p("Not measured: run with `-postgres URL` to measure notes on PostgreSQL with one and three replicas.\n")
		return
	}
	c := r.cfg
	p("%s signed `/incident note` requests per configuration from %d concurrent clients on loopback, "+
		"after %s warm-up requests, sent round-robin across the replicas as a load balancer would. "+
		"Each replica is a process of the same build, on the same schema (made for the run on %s, PostgreSQL %s, "+
		"and dropped afterwards) and the same fake Slack. "+
		"Round trips are the replicas' `%s` (counted on their connections: a request written and the start of its answer read), "+
		"read from `/metrics` just before the first measured request and just after the last answer, summed over the replicas, "+
		"over the acknowledged notes; background work in the window (change-feed polls every 2 s, the pool's pings, "+
		"the claims, deliveries to Slack, the readings of `/metrics`) is included, and taken out at its idle rate in the last column. "+
		"The floor is as many one-row INSERT transactions (BEGIN, INSERT, COMMIT; its round trips counted on its own connections) into a table shaped like the events table "+
		"(`LIKE events INCLUDING ALL`: no foreign key, no trigger), from as many goroutines through a pgxpool of the default size, "+
		"as each replica's pool is, with no program running.\n\n",
		thousands(c.requests), c.clients, thousands(c.warmup), pg.server, pg.version, roundTripsMetric)
	p("| configuration | p50 | p90 | p99 | max | per second | errors | round trips per note | net of background |\n")
	p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	row := func(name string, st serverStats, trips, net string) {
		p("| %s | %s | %s | %s | %s | %.0f | %d | %s | %s |\n", name, ms(st.percentile(0.5)), ms(st.percentile(0.9)),
			ms(st.percentile(0.99)), ms(st.percentile(1)), st.rate(), st.errors, trips, net)
	}
	for _, run := range r.latency {
		if run.writes {
			row("SQLite, one process (the latency run above)", run.servers[srvSitrep], "none", "none")
		}
	}
	for _, run := range pg.runs {
		row(fmt.Sprintf("PostgreSQL, %s", plural(run.replicas, "replica")), run.notes,
			fmt.Sprintf("%.2f", run.tripsPerNote()), fmt.Sprintf("%.2f", run.netTripsPerNote()))
	}
	floorTrips := fmt.Sprintf("%.2f", pg.floorTripsPerRow())
	row("floor: one-row INSERT transactions through pgx", pg.floor, floorTrips, floorTrips)

	var bg, spread []string
	for _, run := range pg.runs {
		bg = append(bg, fmt.Sprintf("%s made %s round trips in %s (%.1f a second)", plural(run.replicas, "replica"),
			thousands(int(run.idleTrips)), run.idleFor.Round(time.Millisecond), run.idleRate()))
		var each []string
		for _, n := range run.answered {
			each = append(each, thousands(n))
		}
		spread = append(spread, fmt.Sprintf("%s (%s)", strings.Join(each, ", "), plural(run.replicas, "replica")))
	}
	p("\nBackground with no load, after the declaration had gone quiet: %s. "+
		"Measured notes each replica acknowledged: %s. The replicas logged %d warnings and %d errors with one replica, %d and %d with three.\n\n",
		strings.Join(bg, "; "), strings.Join(spread, "; "),
		pg.runs[0].warnLines, pg.runs[0].errorLines, pg.runs[1].warnLines, pg.runs[1].errorLines)

	errs := pg.runs[0].notes.errors + pg.runs[1].notes.errors
	p("| target | measured | result |\n| --- | ---: | --- |\n")
	p("| notes/s, 3 replicas ≥ %.1f × 1 replica | %.2f | %s |\n", targetReplicaScaling, pg.scaling(),
		judge(pg.scaling() >= targetReplicaScaling && errs == 0))
	for _, run := range pg.runs {
		p99 := run.notes.percentile(0.99)
		p("| note p99 < %s, %s | %s | %s |\n", ms(targetPgP99), plural(run.replicas, "replica"), ms(p99),
			judge(p99 < targetPgP99 && run.notes.errors == 0))
	}
	p("| round trips per note net of background, 3 replicas within %.0f%% of 1 | %.2f and %.2f | %s |\n",
		targetTripsSpread*100, pg.runs[1].netTripsPerNote(), pg.runs[0].netTripsPerNote(),
		judge(pg.tripsSpread() <= targetTripsSpread && pg.runs[0].roundTrips > 0))
	for _, run := range pg.runs {
		if run.notes.errors > 0 {
			p("\nWith %s, %d notes failed; the first: %s\n", plural(run.replicas, "replica"), run.notes.errors, strings.ReplaceAll(run.notes.firstErr, "|", "\\|"))
		}
	}
	if pg.floor.errors > 0 {
		p("\nThe floor's inserts failed %d times; the first: %s\n", pg.floor.errors, strings.ReplaceAll(pg.floor.firstErr, "|", "\\|"))
	}
}
