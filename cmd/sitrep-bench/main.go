// Command sitrep-bench measures Sitrep against the targets of issue 7 and
// prints a Markdown report:
//
//   - how fast the real program acknowledges signed slash commands, next to
//     a minimal net/http server that only checks Slack's signature;
//   - how many timeline events a second the incident service writes, next to
//     plain INSERTs into the same table;
//   - how long the program takes from process start to ready, and how much
//     memory it holds when idle;
//   - how many alerts a second POST /hooks/alertmanager commits, and how
//     fast it answers, next to a minimal server that only checks the
//     bearer token; and how many Slack calls a storm of one group's alerts
//     causes.
//
// Run it from the repository:
//
//	go run ./cmd/sitrep-bench [-o report.md]
//
// It builds ./cmd/sitrep once (or runs the binary given with -sitrep), runs
// it as a subprocess against the fake Slack of internal/slackfake, served in
// this process, and runs the minimal server as a second subprocess (this
// binary again, with a hidden flag), so that both servers are separate
// processes on equal footing. BENCHMARKS.md explains the figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// config is one run's settings, from the flags.
type config struct {
	requests    int           // measured requests per command kind and server
	warmup      int           // unmeasured requests per command kind and server first
	round       int           // requests in a row to one server before switching to the other
	clients     int           // concurrent clients
	events      int           // timeline events per variant of the events benchmark
	writers     int           // goroutines in the concurrent variant
	starts      int           // starts per database state for start-to-ready
	idle        time.Duration // idle time before reading memory
	stopGrace   time.Duration // how long a stopped program may take before it is killed
	sitrep      string        // a prebuilt program; "" builds ./cmd/sitrep
	buildFlags  string        // extra go build flags for the program
	output      string        // report file; "" for stdout only
	quick       bool
	keep        bool   // keep the work directory (databases, logs)
	eventsCPU   string // CPU profile of the in-process events benchmark
	sitrepCPU   string // CPU profile of the program in the latency run
	commandLine string
	postgres    string // a PostgreSQL server's URL for the benchmark of issue 24; "" skips it

	alertBodies   int // measured Alertmanager notifications per server
	alertWarmup   int // unmeasured notifications per server first
	alertRound    int // notifications in a row to one server
	alertSenders  int // concurrent senders
	alertsPerBody int // alerts in each notification
	storm         int // alerts of one group in the storm
	stormPerBody  int // alerts in each of the storm's notifications
}

// baselineFlag makes this binary serve as the minimal server. It is not
// among the documented flags: the tool passes it to itself.
const baselineFlag = "-baseline-server"

func main() {
	if len(os.Args) > 1 && os.Args[1] == baselineFlag {
		os.Exit(baselineMain(os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "sitrep-bench: %v\n", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line into a config.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("sitrep-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.requests, "n", 20000, "measured `requests` per command kind and server")
	fs.IntVar(&c.warmup, "warmup", 2000, "unmeasured warm-up `requests` per command kind and server")
	fs.IntVar(&c.round, "round", 1000, "`requests` sent to one server before switching to the other")
	fs.IntVar(&c.clients, "c", 50, "concurrent `clients`")
	fs.IntVar(&c.events, "events", 20000, "timeline `events` written per variant of the events benchmark")
	fs.IntVar(&c.writers, "writers", 8, "`goroutines` in the concurrent variant of the events benchmark")
	fs.IntVar(&c.starts, "starts", 5, "`starts` on a fresh and on an existing database")
	fs.DurationVar(&c.idle, "idle", 5*time.Second, "idle `time` before reading the program's memory")
	fs.DurationVar(&c.stopGrace, "stop-grace", 10*time.Second, "how long a stopped program may take to exit before it is killed")
	fs.StringVar(&c.sitrep, "sitrep", "", "run this Sitrep `binary` instead of building ./cmd/sitrep")
	fs.StringVar(&c.buildFlags, "buildflags", "", "extra `flags` for go build of ./cmd/sitrep, such as -race (figures are then not comparable)")
	fs.StringVar(&c.output, "o", "", "also write the report to `file`")
	fs.BoolVar(&c.quick, "quick", false, "a quick check that everything runs: few requests, one start, short idles; no target is judged")
	fs.StringVar(&c.eventsCPU, "events-cpuprofile", "", "write a CPU profile of the events benchmark to `file`")
	fs.StringVar(&c.sitrepCPU, "sitrep-cpuprofile", "", "write a CPU profile of the program serving the latency run to `file` (SITREP_CPUPROFILE)")
	fs.IntVar(&c.alertBodies, "alert-n", 2000, "measured Alertmanager `notifications` per server in the alert intake benchmark")
	fs.IntVar(&c.alertSenders, "alert-senders", 20, "concurrent `senders` of alerts")
	fs.IntVar(&c.alertsPerBody, "alerts-per-body", 10, "`alerts` in each notification of the alert intake benchmark")
	fs.IntVar(&c.storm, "storm", 10000, "`alerts` of one group in the storm")
	fs.StringVar(&c.postgres, "postgres", "", "also measure notes on PostgreSQL with one and three replicas, in schemas made on the server at `URL` and dropped afterwards (e.g. postgres://root@127.0.0.1:5432/test?sslmode=disable)")
	fs.BoolVar(&c.keep, "keep", false, "keep the work directory, with the program's databases and logs, and say where it is")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./cmd/sitrep-bench [flags]\n\nMeasures Sitrep against the targets in BENCHMARKS.md and prints a Markdown report.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if c.quick {
		// Flags given explicitly win over the quick defaults.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		quick := map[string]func(){
			"n":       func() { c.requests = 300 },
			"warmup":  func() { c.warmup = 100 },
			"round":   func() { c.round = 100 },
			"events":  func() { c.events = 300 },
			"starts":  func() { c.starts = 1 },
			"idle":    func() { c.idle = time.Second },
			"alert-n": func() { c.alertBodies = 60 },
			"storm":   func() { c.storm = 300 },
			// Not -stop-grace: on SIGTERM the program takes up to its own
			// shutdown grace (5 s, shutdownGrace in cmd/sitrep) to post
			// what it acknowledged, and a shorter wait here killed it in
			// the middle of that, which is no fault of the program's.
		}
		for name, apply := range quick {
			if !set[name] {
				apply()
			}
		}
	}
	switch {
	case c.requests < 1 || c.warmup < 0 || c.round < 1 || c.clients < 1:
		return c, errors.New("-n, -round and -c must be positive and -warmup not negative")
	case c.events < 1 || c.writers < 1 || c.starts < 1:
		return c, errors.New("-events, -writers and -starts must be positive")
	case c.alertBodies < 1 || c.alertSenders < 1 || c.alertsPerBody < 1 || c.storm < 1:
		return c, errors.New("-alert-n, -alert-senders, -alerts-per-body and -storm must be positive")
	}
	// Warm-up and rounds in proportion, as for the slash commands; a
	// storm comes in notifications of 100 alerts, as Alertmanager's
	// max_alerts is often set.
	c.alertWarmup = max(1, c.alertBodies/10)
	c.alertRound = max(1, c.alertBodies/20)
	c.stormPerBody = 100
	if c.postgres != "" && !strings.HasPrefix(c.postgres, "postgres://") && !strings.HasPrefix(c.postgres, "postgresql://") {
		return c, fmt.Errorf("-postgres must be a postgres:// URL, such as postgres://root@127.0.0.1:5432/test?sslmode=disable; got %s", redactURL(c.postgres))
	}
	c.commandLine = strings.TrimSpace("go run ./cmd/sitrep-bench " + strings.Join(redactArgs(args), " "))
	return c, nil
}

// run is the whole tool: it measures, prints the report on stdout, writes
// it to -o if given, and returns the results.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (*results, error) {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return nil, err
	}
	res, err := measure(ctx, cfg, stderr)
	if err != nil {
		return nil, err
	}
	doc := render(res)
	if _, err := io.WriteString(stdout, doc); err != nil {
		return nil, err
	}
	if cfg.output != "" {
		if err := os.WriteFile(cfg.output, []byte(doc), 0o644); err != nil {
			return nil, fmt.Errorf("write report: %w", err)
		}
	}
	return res, nil
}

// measure runs every benchmark, logging progress to logw. The program is
// never running during the in-process events benchmark, so that the two do
// not share the machine.
func measure(ctx context.Context, cfg config, logw io.Writer) (*results, error) {
	logf := func(format string, args ...any) {
		fmt.Fprintf(logw, "sitrep-bench: "+format+"\n", args...)
	}
	tmp, err := os.MkdirTemp("", "sitrep-bench-")
	if err != nil {
		return nil, err
	}
	if cfg.keep {
		logf("keeping the work directory %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	res := &results{cfg: cfg, machine: describeMachine(), started: time.Now(), loadBefore: loadAverage()}
	bin, prog, err := programBinary(ctx, cfg, tmp, logf)
	if err != nil {
		return nil, err
	}
	res.program = prog
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this binary to run the minimal server: %w", err)
	}

	env := newEnvironment(bin, self, tmp, cfg)
	defer env.close()

	logf("start-to-ready, %d starts on a fresh database", cfg.starts)
	if res.startFresh, err = env.startTimes(ctx, cfg.starts, ""); err != nil {
		return nil, err
	}

	logf("latency: %d requests per kind and server, %d clients, after %d warm-up requests", cfg.requests, cfg.clients, cfg.warmup)
	if err := env.latency(ctx, res, logf); err != nil {
		return nil, err
	}

	logf("start-to-ready, %d starts on the database the latency run left", cfg.starts)
	if res.startExisting, err = env.startTimes(ctx, cfg.starts, env.latencyDB); err != nil {
		return nil, err
	}

	logf("alerts: %d notifications of %d alerts per server, %d senders, after %d warm-up notifications", cfg.alertBodies, cfg.alertsPerBody, cfg.alertSenders, cfg.alertWarmup)
	if res.alerts, err = env.alertIntake(ctx, logf); err != nil {
		return nil, err
	}
	logf("storm: %d alerts of one group in notifications of %d", cfg.storm, cfg.stormPerBody)
	if res.storm, err = env.alertStorm(ctx, logf); err != nil {
		return nil, err
	}

	logf("events: %d per variant, serial and with %d writers", cfg.events, cfg.writers)
	if res.events, err = benchEvents(ctx, tmp, cfg, logf); err != nil {
		return nil, err
	}
	if cfg.postgres != "" {
		logf("postgres: notes with one and three replicas on %s", redactURL(cfg.postgres))
		if res.pg, err = benchPostgres(ctx, cfg, bin, tmp, logf); err != nil {
			return nil, err
		}
	}
	res.finished = time.Now()
	res.loadAfter = loadAverage()
	return res, nil
}

// redactArgs is the command line with any password in a -postgres URL
// masked, for the report.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if i > 0 && (args[i-1] == "-postgres" || args[i-1] == "--postgres") {
			out[i] = redactURL(a)
		} else if flag, v, ok := strings.Cut(a, "="); ok && (flag == "-postgres" || flag == "--postgres") {
			out[i] = flag + "=" + redactURL(v)
		}
	}
	return out
}
