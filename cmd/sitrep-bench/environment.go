package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// signingSecret is what both servers verify requests with.
const signingSecret = "bench-signing-secret-5f1c2e9a"

// readyLimit is how long a start may take before the run gives up: far
// beyond the target, so a slow start is measured rather than refused.
const readyLimit = 30 * time.Second

// environment is what the program runs against: the fake Slack, served in
// this process, and a directory for databases and logs.
type environment struct {
	cfg       config
	bin, self string // the program, and this binary (the minimal server)
	dir       string
	fake      *slackfake.Server
	user      string // the person typing commands
	general   string // the channel the incident is declared in
	runs      int
	latencyDB string // the database of the latency run, once it has run
}

func newEnvironment(bin, self, dir string, cfg config) *environment {
	fake := slackfake.New()
	user := fake.AddUser(slackfake.User{Name: "bench", RealName: "Bench Marker"})
	general := fake.AddChannel("general", false, user)
	return &environment{cfg: cfg, bin: bin, self: self, dir: dir, fake: fake, user: user, general: general}
}

func (e *environment) close() { e.fake.Close() }

// startSitrep starts the program on db ("" for a new one), with extra
// settings ("NAME=value"), without waiting for it to be ready.
func (e *environment) startSitrep(db string, extra ...string) (*process, error) {
	e.runs++
	dir := filepath.Join(e.dir, fmt.Sprintf("run%d", e.runs))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if db == "" {
		db = filepath.Join(dir, "sitrep.db")
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return startProcess("sitrep", e.bin, dir, addr, []string{"serve"}, append([]string{
		"SLACK_BOT_TOKEN=" + e.fake.BotToken(),
		"SLACK_SIGNING_SECRET=" + signingSecret,
		"SLACK_API_URL=" + e.fake.URL(),
		"SITREP_DB=" + db,
		"SITREP_ADDR=" + addr,
	}, extra...))
}

// startBaseline starts the minimal server and waits until it answers.
func (e *environment) startBaseline(ctx context.Context) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p, err := startProcess("minimal", e.self, e.dir, addr, []string{baselineFlag, addr},
		[]string{"SLACK_SIGNING_SECRET=" + signingSecret, "SITREP_HOOK_SECRET_ALERTMANAGER=" + hookSecret})
	if err != nil {
		return nil, err
	}
	if _, err := p.waitReady(ctx, readyLimit); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

// startSeries is start-to-ready over several starts.
type startSeries struct {
	times []time.Duration
}

func (s startSeries) median() time.Duration {
	t := slices.Clone(s.times)
	slices.Sort(t)
	if len(t)%2 == 1 {
		return t[len(t)/2]
	}
	return (t[len(t)/2-1] + t[len(t)/2]) / 2
}

func (s startSeries) max() time.Duration { return slices.Max(s.times) }

// startTimes starts the program n times on db ("" for a fresh database
// each time), measuring from the process start to the first 200 from
// /readyz, and stops it each time.
func (e *environment) startTimes(ctx context.Context, n int, db string) (startSeries, error) {
	var s startSeries
	for range n {
		p, err := e.startSitrep(db)
		if err != nil {
			return s, err
		}
		took, err := p.waitReady(ctx, readyLimit)
		if err != nil {
			p.kill()
			return s, err
		}
		s.times = append(s.times, took)
		if _, _, err := p.stop(e.cfg.stopGrace); err != nil {
			return s, err
		}
	}
	return s, nil
}
