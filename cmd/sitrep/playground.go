package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sitrep-dev/sitrep/internal/playground"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

const playgroundAbout = `Runs Sitrep against a small Slack of its own, served as a web page, so you
can try it, rehearse incidents and develop your checklist and templates
without a Slack workspace or credentials. The page has a few demo people to
switch between; everything they do reaches Sitrep exactly as Slack would
send it, signed (or over Socket Mode with -socket).

Its alert panel fires and resolves an alert of each monitoring system
Sitrep takes (Alertmanager, Grafana, Sentry, Datadog, Pingdom, StatusCake,
the generic webhook) through Sitrep's real POST /hooks/<source>, sent and
authenticated as that system does, with secrets the playground makes up.
Without SITREP_CONFIG, Sentry's alerts wait in #alert-triage and the
others declare incidents, and the demo people take turns on call: a sev1
pages whoever is on call by direct message, shown in the sidebar when you
switch to them, where Acknowledge stops the escalation.

The database is temporary unless -db names a file. SITREP_CONFIG and
SITREP_LOG_LEVEL apply as for serve; Slack settings are ignored.`

func playgroundFlags(fl *flag.FlagSet) {
	fl.String("addr", "localhost:8080", "serve the page at `host:port` (keep it on localhost: the page has no login)")
	fl.String("db", "", "keep the incidents in this SQLite `file` (default: a temporary one, deleted at exit)")
	fl.Bool("socket", false, "deliver to Sitrep over Socket Mode instead of signed HTTP")
}

func runPlayground(p program, ctx context.Context, fl *flag.FlagSet, args []string) (err error) {
	if err := noArgs(fl, args); err != nil {
		return err
	}
	addr := fl.Lookup("addr").Value.String()
	dbPath := fl.Lookup("db").Value.String()
	socket := fl.Lookup("socket").Value.String() == "true"

	// The page's port first: if it is taken, nothing else starts.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("playground: -addr: %w", err)
	}
	defer ln.Close()
	keep := dbPath != ""
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "sitrep-playground-")
		if err != nil {
			return fmt.Errorf("playground: %w", err)
		}
		defer os.RemoveAll(dir)
		dbPath = filepath.Join(dir, "sitrep.db")
	}

	fake := slackfake.New()
	defer fake.Close()
	// With -db the workspace is kept beside the database, so that the
	// next run continues the rehearsal: the incidents' channels are still
	// there, and new ones never take their IDs.
	var keeper *playground.Keeper
	announce := ""
	if keep {
		keeper = playground.NewKeeper(fake, playground.StatePath(dbPath), p.logger(slog.LevelInfo))
		restored, err := keeper.Load()
		if err != nil {
			return fmt.Errorf("playground: %w", err)
		}
		if !restored {
			if fi, err := os.Stat(dbPath); err == nil && fi.Size() > 0 {
				return fmt.Errorf("playground: %s was used by a playground that did not keep its Slack, so its incidents' channels are gone "+
					"and new ones would take their IDs; give -db a new file (the incidents stay readable with `sitrep postmortem`)", dbPath)
			}
			playground.Seed(fake)
		}
		ch, ok := fake.ChannelByName("incidents")
		if !ok {
			return fmt.Errorf("playground: %s has no #incidents channel for announcements; move it away to start with a fresh workspace", playground.StatePath(dbPath))
		}
		announce = ch.ID
		if err := keeper.Save(); err != nil {
			return fmt.Errorf("playground: %w", err)
		}
	} else {
		announce = playground.Seed(fake)
	}
	triage := playground.TriageChannel(fake)
	secret := randomSecret()
	env := map[string]string{
		"SLACK_BOT_TOKEN":         fake.BotToken(),
		"SLACK_SIGNING_SECRET":    secret,
		"SLACK_API_URL":           fake.URL(),
		"SITREP_DB":               dbPath,
		"SITREP_ADDR":             "127.0.0.1:0",
		"SITREP_STATUS_ADDR":      orDefault(p.getenv("SITREP_STATUS_ADDR"), "127.0.0.1:0"),
		"SITREP_ANNOUNCE_CHANNEL": announce,
		"SITREP_CONFIG":           p.getenv("SITREP_CONFIG"),
		"SITREP_LOG_LEVEL":        p.getenv("SITREP_LOG_LEVEL"),
	}
	if socket {
		env["SLACK_APP_TOKEN"] = fake.AppToken()
	}
	// Every alert source is on, each with a secret of its own, so that the
	// alert panel can send as each sender does.
	hooks := map[string]string{}
	for _, src := range alertSources {
		hooks[src] = randomSecret()
		env[hookSecretVar(src)] = hooks[src]
	}
	routing := "Sitrep routes these alerts by the alerts section of " + env["SITREP_CONFIG"] + " (SITREP_CONFIG)."
	if env["SITREP_CONFIG"] == "" {
		dir, err := os.MkdirTemp("", "sitrep-playground-config-")
		if err != nil {
			return fmt.Errorf("playground: %w", err)
		}
		defer os.RemoveAll(dir)
		env["SITREP_CONFIG"] = filepath.Join(dir, "sitrep.yaml")
		if err := os.WriteFile(env["SITREP_CONFIG"], []byte(playgroundAlertConfig(triage)), 0o600); err != nil {
			return fmt.Errorf("playground: %w", err)
		}
		routing = "Here Sentry's issues and customers' Zendesk tickets wait in #" + playground.TriageChannelName + " for someone to declare, attach or dismiss them, " +
			"and every other alert declares an incident: its channel appears in the list, and the same alert firing again joins it. " +
			"When an incident's alerts have all resolved, Sitrep asks in its channel whether it is over."
	}
	cfg, err := loadSettings(func(k string) string { return env[k] })
	if err != nil {
		return fmt.Errorf("playground: %w", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	listening, statusAt := make(chan net.Addr, 1), make(chan net.Addr, 1)
	sitrep := p
	sitrep.getenv = func(k string) string { return env[k] }
	sitrep.listening = func(a net.Addr) { listening <- a }
	// The playground serves the public status page too, so that a
	// newcomer publishes an update and sees what customers would.
	sitrep.statusListening = func(a net.Addr) { statusAt <- a }
	done := make(chan error, 1)
	go func() { done <- sitrep.serve(ctx) }()
	var appAddr net.Addr
	select {
	case appAddr = <-listening:
	case err := <-done:
		return fmt.Errorf("playground: Sitrep did not start: %w", err)
	}
	if socket {
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		err := fake.WaitSocket(wctx)
		wcancel()
		if err != nil {
			cancel()
			<-done
			return fmt.Errorf("playground: Sitrep did not connect over Socket Mode: %w", err)
		}
	}

	pg := playground.New(playground.Config{
		Fake: fake, AppURL: "http://" + appAddr.String(), SigningSecret: secret, Socket: socket,
		Command: cfg.CommandName, Log: p.logger(cfg.LogLevel),
		Hooks: hooks, AlertRouting: routing,
	})
	if keeper != nil {
		kctx, kcancel := context.WithCancel(ctx)
		kdone := make(chan struct{})
		go func() { keeper.Run(kctx); close(kdone) }()
		defer func() {
			kcancel()
			<-kdone
			// Sitrep has stopped (its last calls to Slack are in): keep
			// what they did.
			if serr := keeper.Save(); serr != nil && err == nil {
				err = fmt.Errorf("playground: %w", serr)
			}
		}()
	}
	srv := &http.Server{Handler: pg.Handler(), ReadHeaderTimeout: 5 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Fprintf(p.stdout, "Sitrep playground: open %s in your browser. Ctrl-C stops it.\n", pageURL(addr, ln.Addr()))
	select {
	case a := <-statusAt:
		fmt.Fprintf(p.stdout, "The public status page (what /incident publish shows customers): http://%s/\n", a)
	default:
	}
	if p.listening != nil {
		p.listening(ln.Addr())
	}

	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("playground: %w", err)
	case err = <-done:
		if err == nil {
			err = errors.New("playground: Sitrep stopped")
		}
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	srv.Shutdown(sctx)
	scancel()
	cancel()
	if serr := <-done; err == nil {
		err = serr
	}
	return err
}

// pageURL is the address to open: the host as given to -addr (localhost
// reads better than 127.0.0.1), with the port actually listened on.
func pageURL(flagAddr string, got net.Addr) string {
	host, _, _ := net.SplitHostPort(flagAddr)
	_, port, _ := net.SplitHostPort(got.String())
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// randomSecret is a secret for one playground run.
func randomSecret() string {
	var buf [16]byte
	rand.Read(buf[:])
	return hex.EncodeToString(buf[:])
}

// playgroundAlertConfig is the config file of a playground run without
// SITREP_CONFIG: alert routes that show both ways an alert goes, triage
// (Sentry's issues and Zendesk's tickets) and a declared incident (the rest), with a cap on
// declarations high enough for a newcomer pressing every button at once.
//
// Its oncall section puts the demo people on a daily rotation (Bob,
// Carol, Dan, with Alice, the page's first person, as the backup), so
// that a sev1 declared in the playground pages whoever is on call by
// direct message; the steps are a minute or two apart so that a newcomer
// who does not acknowledge sees the page escalate to the backup.
func playgroundAlertConfig(triage string) string {
	return `oncall:
  page_at: sev1
  schedules:
    - name: demo
      time_zone: UTC
      start: 2026-01-05
      handoff: "09:00"
      shift: 1d
      rotation: [U0BOB, U0CAROL, U0DAN]
      backup: [U0ALICE]
  policies:
    - name: default
      steps:
        - {notify: "schedule:demo", after: 1m}
        - {notify: "backup:demo", after: 2m}
alerts:
  triage_channel: ` + triage + `
  max_declares_per_minute: 20
  routes:
    - name: errors and tickets
      matchers: ['source=~"sentry|zendesk"']
      action: triage
    - name: pages
      action: declare
`
}
