// Command sitrep runs Sitrep, the incident-command Slack bot.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // time zones work in minimal containers too

	"github.com/joho/godotenv"
	"github.com/sitrep-dev/sitrep/bot"
	"github.com/sitrep-dev/sitrep/incident"
	pdhook "github.com/sitrep-dev/sitrep/intake/pagerduty"
	twhook "github.com/sitrep-dev/sitrep/intake/twilio"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/metrics"
	"github.com/sitrep-dev/sitrep/notify"
	"github.com/sitrep-dev/sitrep/thirdparty"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal stops Sitrep at once
	}()
	dotenv, err := readDotenv(".env")
	if err != nil {
		fmt.Fprintf(os.Stderr, "sitrep: %v\n", err)
		os.Exit(2)
	}
	p := program{getenv: layered(os.LookupEnv, dotenv), stdout: os.Stdout, stderr: os.Stderr, terminal: isTerminal(os.Stderr)}
	if err := p.run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "sitrep: %v\n", err)
		os.Exit(1)
	}
}

// readDotenv reads a .env file if there is one. Its errors never quote the
// file, which holds secrets: godotenv's own errors do.
func readDotenv(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read it: %w", path, errors.Unwrap(err))
	}
	env, err := godotenv.UnmarshalBytes(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid .env file%s; each line must be KEY=value or a # comment", path, badDotenvLine(data))
	}
	return env, nil
}

// dotenvLine is what a line of a .env file may be.
var dotenvLine = regexp.MustCompile(`^\s*(#.*|(export\s+)?[A-Za-z_][A-Za-z0-9_.]*\s*[=:].*)?$`)

// badDotenvLine names the first line that is not KEY=value, if it can tell.
func badDotenvLine(data []byte) string {
	for i, line := range strings.Split(string(data), "\n") {
		if !dotenvLine.MatchString(strings.TrimRight(line, "\r")) {
			return fmt.Sprintf(" (line %d)", i+1)
		}
	}
	return ""
}

// layered looks a setting up in the real environment first, then in the
// values of the .env file.
func layered(lookup func(string) (string, bool), dotenv map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := lookup(k); ok {
			return v
		}
		return dotenv[k]
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// program is one run of Sitrep. Tests run it in-process with their own
// environment and learn the listening address through listening.
type program struct {
	getenv   func(string) string
	stdout   io.Writer
	stderr   io.Writer
	terminal bool
	clock    clock.Clock // nil for the system clock
	// clockSkew moves the system clock, for tests of a replica whose
	// clock is wrong; with a test's own clock it does nothing.
	clockSkew time.Duration
	listening func(addr net.Addr)
	// alertsCommitted, if set, is called after each batch of alerts is
	// committed and before its sender is answered: the crash tests kill
	// the program there.
	alertsCommitted func()
	// statusListening learns the status page's address, before listening
	// is called, when SITREP_STATUS_ADDR is set.
	statusListening func(addr net.Addr)
}

// logger logs to stderr: as text for a person at a terminal, as JSON lines
// for a log collector otherwise.
func (p program) logger(level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if p.terminal {
		return slog.New(slog.NewTextHandler(p.stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(p.stderr, opts))
}

func (p program) serve(ctx context.Context) error {
	clk := p.clock
	var system clock.Clock // this machine's clock, when clk corrects it
	var corrected *clock.Corrected
	if clk == nil {
		system = clock.Real{}
		if p.clockSkew != 0 {
			system = clock.NewCorrected(system, p.clockSkew)
		}
		// Corrected by the database's clock on PostgreSQL (dbclock.go).
		corrected = clock.NewCorrected(system, 0)
		clk = corrected
	}
	cfg, err := loadSettings(p.getenv)
	if err != nil {
		return err
	}
	log := p.logger(cfg.LogLevel)
	if path := strings.TrimSpace(p.getenv("SITREP_CPUPROFILE")); path != "" {
		stop, err := cpuProfile(path)
		if err != nil {
			return &settingError{"SITREP_CPUPROFILE", err.Error()}
		}
		defer stop()
		log.Info("writing a CPU profile until shutdown", "file", path)
	}

	db, err := openDB(ctx, cfg.DB, clk.Now)
	if err != nil {
		return err
	}
	defer db.Close()

	svc := incident.NewService(db, cfg.Incident, clk.Now)
	svc.UsePaging(cfg.Paging)
	m := metrics.New(svc, version, log)
	if wire, ok := db.(interface{ RoundTrips() uint64 }); ok {
		m.CountDBRoundTrips(wire.RoundTrips) // PostgreSQL's
	}
	if meter, ok := db.(clockMeter); ok && corrected != nil {
		clockCtx, stopClock := context.WithCancel(ctx)
		defer stopClock()
		followDatabaseClock(clockCtx, meter, system, corrected, m, log)
	}

	// The Slack library's default HTTP client never times out; a hung call
	// would stall an incident's updates and shutdown with it.
	client := &http.Client{Timeout: 15 * time.Second, Transport: bot.SlackTransport(nil, m, log)}
	api := bot.NewClient(cfg.BotToken, cfg.AppToken, cfg.APIURL, client)
	var refused *bot.TokenRefusedError
	if err := bot.CheckToken(ctx, api, log); errors.As(err, &refused) {
		return &settingError{"SLACK_BOT_TOKEN", "Slack rejected it (" + refused.Code + "); copy the Bot User OAuth Token again"}
	} else if err != nil {
		return err
	}

	late := &lateBot{}
	trackers := wireTrackers(cfg, svc, db, late, clk.Now, log)
	var integrations []notify.Integration
	if trackers != nil {
		integrations = append(integrations, trackers.export)
	}
	// The bot tells a channel of the mirror's refusals; it is made after
	// the mirror, which it runs.
	var b *bot.Bot
	var statuses func() []thirdparty.Status
	poller := thirdParties(cfg, clk, log)
	if poller != nil {
		statuses = poller.Statuses
		pollCtx, stopPolling := context.WithCancel(ctx)
		defer stopPolling()
		go poller.Run(pollCtx) // each page on its own; reads never wait on one
	}
	integrations = append(integrations, statuspageMirror(cfg, func(ctx context.Context, inc *incident.Incident, text string) { b.Notice(ctx, inc, text) })...)
	integrations = append(integrations, providers(cfg, svc)...)
	b = bot.New(api, svc, bot.Options{
		SigningSecret:          cfg.SigningSecret,
		AppToken:               cfg.AppToken,
		CommandName:            cfg.CommandName,
		ChannelPrefix:          cfg.ChannelPrefix,
		AnnounceChannel:        cfg.AnnounceChannel,
		AnnounceDrills:         cfg.AnnounceDrills,
		Responders:             cfg.Responders,
		TimelineEmoji:          cfg.TimelineEmoji,
		ArchiveOnClose:         cfg.ArchiveOnClose,
		TemplatesDir:           cfg.TemplatesDir,
		TimeZone:               cfg.TimeZone,
		Metrics:                m,
		TriageChannel:          cfg.Alerts.TriageChannel,
		AlertRules:             cfg.Alerts.Rules(),
		IssueTracker:           cfg.Trackers.Default,
		Integrations:           integrations,
		ThirdParties:           statuses,
		CustomerSuccessChannel: cfg.CustomerSuccess.Channel,
		CustomerSuccessAt:      cfg.CustomerSuccess.At,
		Ping:                   db.Ping,
	}, log, clk)
	late.b = b

	mux := http.NewServeMux()
	if cfg.SigningSecret != "" {
		// With Socket Mode alone there is no secret to verify requests
		// with, so the Slack endpoints are not served at all.
		mux.Handle("/slack/", b.Handler())
	}
	recorded := b.AlertsRecorded
	if p.alertsCommitted != nil {
		recorded = func() { p.alertsCommitted(); b.AlertsRecorded() }
	}
	if len(cfg.HookSecrets) > 0 && cfg.Alerts.TriageChannel == "" {
		log.Warn("alerts that wait in triage will be recorded but shown to nobody: set alerts.triage_channel in the config file, or SITREP_ANNOUNCE_CHANNEL")
	}
	hooks, err := alertIntake(cfg, svc, recorded, clk.Now, log)
	if err != nil {
		return err
	}
	mux.Handle("/hooks/", hooks)
	if trackers != nil {
		for name, h := range trackers.hooks {
			mux.Handle("/hooks/"+name, h)
		}
	}
	if cfg.TwilioOn() && cfg.PublicURL != "" {
		mux.Handle("POST /hooks/twilio/", twhook.NewHandler(cfg.TwilioAuthToken, cfg.PublicURL, svc, log.With("in", "twilio")))
	}
	if cfg.PagerDutyHookSecret != "" {
		mux.Handle("POST /hooks/pagerduty", pdhook.NewHandler(cfg.PagerDutyHookSecret, svc, clk.Now, log.With("in", "pagerduty")))
	}
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			log.Error("readiness check failed", "err", err)
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("SITREP_ADDR: %w", err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	workerDone := make(chan error, 1)
	go func() { workerDone <- b.Run(workerCtx) }()
	if trackers != nil && cfg.Trackers.Check > 0 {
		go trackers.export.Check(workerCtx, cfg.Trackers.Check, clk)
	}

	// Socket Mode stops taking requests when asked to shut down, like the
	// HTTP server; acknowledged work is then waited for below.
	socketCtx, stopSocket := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSocket()
	socketDone := make(chan error, 1)
	if cfg.AppToken != "" {
		sm := bot.NewSocketClient(api, log)
		go func() { socketDone <- b.ServeSocket(socketCtx, sm) }()
		log.Info("using Socket Mode")
	}

	statusSrv, err := p.serveStatusPage(cfg, svc, clk, log)
	if err != nil {
		srv.Close()
		stopWorker()
		<-workerDone
		return err
	}
	if statusSrv != nil {
		defer statusSrv.Close()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("sitrep is listening", "addr", ln.Addr().String(), "db", describeDB(cfg.DB))
	if p.listening != nil {
		p.listening(ln.Addr())
	}

	// The grace counts from the signal: closing the HTTP server can take
	// seconds by itself (it waits for connections a client opened and has
	// not used yet), and counting the grace after it made a stop take
	// that much longer than promised, long enough for a supervisor to
	// kill the program (sitrep-bench -quick did).
	var stopAt time.Time
	select {
	case err = <-serveErr:
	case err = <-workerDone:
		workerDone <- err // read again below
		err = fmt.Errorf("retry loop stopped: %w", err)
		srv.Close()
	case err = <-socketDone:
		socketDone <- err // read again below
		srv.Close()
	case <-ctx.Done():
		stopAt = time.Now()
		log.Info("shutting down: finishing in-flight work")
		stopSocket() // no new requests over Socket Mode either
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if statusSrv != nil {
			go statusSrv.Shutdown(sctx) // readers only: nothing to finish
		}
		err = srv.Shutdown(sctx)
		cancel()
	}
	stopSocket()
	if cfg.AppToken != "" {
		// Requests taken over Socket Mode finish and are acknowledged
		// before the database closes.
		if serr := <-socketDone; serr != nil && err == nil {
			err = serr
		}
	}
	// The Slack work due now (what requests already acknowledged asked
	// for) goes out within the grace; retries due later are in the
	// database and resume at the next start, and must not hold up a
	// restart.
	if stopAt.IsZero() {
		stopAt = time.Now()
	}
	deadline := stopAt.Add(shutdownGrace)
	b.Drain()
	var werr error
	select {
	case werr = <-workerDone:
	case <-time.After(time.Until(deadline)):
		log.Warn("shutting down: Slack work due now is not all done; the rest resumes at the next start", "after", shutdownGrace)
		stopWorker()
		werr = <-workerDone
	}
	stopWorker()
	if werr != nil && err == nil {
		err = werr
	}
	b.Wait(max(0, time.Until(deadline))) // replies to requests already acknowledged
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	log.Info("stopped")
	return err
}

// shutdownGrace is how long shutdown waits for the Slack work of requests
// already answered before cancelling it (it resumes at the next start):
// inside the 10 s Docker gives before SIGKILL, with time to close.
const shutdownGrace = 5 * time.Second

// cpuProfile profiles the process's CPU into path until stop is called:
// SITREP_CPUPROFILE, for finding where a serving Sitrep spends its time
// (sitrep-bench -sitrep-cpuprofile sets it).
func cpuProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cannot write the profile: %w", errors.Unwrap(err))
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
