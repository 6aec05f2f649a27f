package tracker

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// asked is a tracker whose issues are never done, counting how often it
// is asked.
type asked struct {
	mu    sync.Mutex
	times int
}

func (a *asked) Name() string { return "fake" }
func (a *asked) Find(context.Context, string, time.Time) (incident.IssueRef, bool, error) {
	return incident.IssueRef{}, false, nil
}
func (a *asked) Create(context.Context, Issue) (incident.IssueRef, error) {
	return incident.IssueRef{}, nil
}
func (a *asked) Comment(context.Context, incident.IssueRef, string) error { return nil }
func (a *asked) Close(context.Context, incident.IssueRef) error           { return nil }
func (a *asked) Done(context.Context, incident.IssueRef) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.times++
	return false, nil
}

func (a *asked) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.times
}

// Two replicas on one database check the trackers once an interval
// between them, not once each.
func TestCheckOnceARoundAcrossReplicas(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	path := filepath.Join(t.TempDir(), "sitrep.db")
	clk := clock.NewFake(time.Date(2026, 12, 6, 3, 1, 0, 0, time.UTC))
	tr := &asked{}
	var exports []*Export
	var svc *incident.Service
	for range 2 {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		svc = incident.NewService(db, incident.DefaultConfig(), clk.Now)
		exports = append(exports, NewExport(svc, Options{Trackers: map[string]Tracker{"fake": tr}}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	}
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout failing", Severity: "sev2", Actor: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddFollowUp(ctx, inc.Number, "U1", "Add a canary stage", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.LinkIssue(ctx, inc.Number, 1, incident.IssueRef{Tracker: "fake", Key: "OPS-1"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, e := range exports {
		wg.Go(func() { e.Check(ctx, DefaultCheck, clk) })
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for round := 1; round <= 3; round++ {
		waitFor("both replicas to wait for the next round", func() bool { return clk.Waiting() == 2 })
		clk.Advance(DefaultCheck)
		waitFor("the round's check", func() bool { return tr.count() >= round })
		waitFor("both replicas done with the round", func() bool { return clk.Waiting() == 2 })
		if got := tr.count(); got != round {
			t.Fatalf("after %d rounds the tracker was asked %d times, want once a round", round, got)
		}
	}
}
