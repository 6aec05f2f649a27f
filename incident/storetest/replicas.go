package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// Background work that replicas all run, each on its own handle on the
// store, and that is decided inside the store's transactions rather than
// claimed: declaring held alert groups, sending page steps, sending
// prompts. Each replica's loop may find the same work due at the same
// moment; each effect must still be recorded once. (The chat adapter and
// the integrations deliver from the record, claimed per incident, so an
// effect recorded once is delivered once.)

// replicaWorkers is how many goroutines on each of two handles do the
// same work at once.
const replicaWorkers = 3

// atOnce runs work on every worker of both services at once and waits.
func atOnce(t *testing.T, svcs []*incident.Service, work func(svc *incident.Service) error) {
	t.Helper()
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for _, svc := range svcs {
		for range replicaWorkers {
			wg.Go(func() {
				<-start
				if err := work(svc); err != nil {
					t.Error(err)
				}
			})
		}
	}
	close(start)
	wg.Wait()
}

// testHeldDeclaredOnceAcrossHandles: groups whose wait ends are declared
// once each, however many replicas call DeclareHeld at that moment.
func (s suite) testHeldDeclaredOnceAcrossHandles(t *testing.T) {
	st1, st2 := s.handles(t)
	svc, clk := alertService(st1)
	other := incident.NewService(st2, incident.DefaultConfig(), clk.now)
	h := incident.AlertHold{For: 10 * time.Minute}
	const groups = incident.DefaultMaxDeclaresPerMinute - 1
	for i := range groups {
		receive(t, svc, incident.AlertRules{}, held(fmt.Sprint("a", i), fmt.Sprint("g", i), h, incident.AlertFiring))
	}
	clk.add(10 * time.Minute)
	var (
		mu       sync.Mutex
		declared []int64
	)
	atOnce(t, []*incident.Service{svc, other}, func(svc *incident.Service) error {
		out, _, err := svc.DeclareHeld(context.Background(), incident.AlertRules{})
		if err != nil {
			return fmt.Errorf("DeclareHeld: %w", err)
		}
		mu.Lock()
		defer mu.Unlock()
		declared = append(declared, out.Declared...)
		if len(out.Capped) > 0 {
			return fmt.Errorf("DeclareHeld capped %v: the cap counted declarations that did not happen", out.Capped)
		}
		return nil
	})
	if len(declared) != groups {
		t.Errorf("DeclareHeld from %d goroutines on two handles declared %v, want %d incidents in all", 2*replicaWorkers, declared, groups)
	}
	incs := allIncidents(t, st1)
	if len(incs) != groups {
		t.Fatalf("%d incidents for %d held groups, want one each", len(incs), groups)
	}
	for i := range groups {
		if g := group(t, st2, other, fmt.Sprint("g", i)); g.State != incident.GroupIncident || g.Waiting {
			t.Errorf("group g%d after its wait: %+v, want declared", i, g)
		}
	}
}

// testPageStepsOnceAcrossHandles: each page step falls due on every
// replica at once and is recorded once; so is the escalation after it.
func (s suite) testPageStepsOnceAcrossHandles(t *testing.T) {
	ctx := context.Background()
	st1, st2 := s.handles(t)
	svc, c1 := pagingService(t, st1)
	other, c2 := pagingService(t, st2)
	const incidents = 3
	var numbers []int64
	for i := range incidents {
		inc, err := svc.Declare(ctx, incident.Declaration{Title: fmt.Sprint("Checkout down ", i), Severity: "sev1", Actor: "U0ANN"})
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, inc.Number)
	}
	send := func(svc *incident.Service) error {
		due, _, err := svc.DuePages(ctx, c1.now())
		if err != nil {
			return err
		}
		for _, n := range due {
			if _, err := svc.SendPageSteps(ctx, n); err != nil {
				return fmt.Errorf("SendPageSteps(%d): %w", n, err)
			}
		}
		return nil
	}
	for step, wait := range []time.Duration{0, 5 * time.Minute} {
		c1.add(wait)
		c2.add(wait)
		atOnce(t, []*incident.Service{svc, other}, send)
		for _, n := range numbers {
			var steps []string
			for _, e := range pageEvents(t, other, n) {
				if e.Kind == incident.KindPage {
					steps = append(steps, e.Data["step"])
				}
			}
			if len(steps) != step+1 || steps[step] != fmt.Sprint(step+1) {
				t.Errorf("#%d after step %d fell due on every replica: steps recorded %v, want each once", n, step+1, steps)
			}
		}
	}
}

// testPromptOnceAcrossHandles: a status-update prompt falls due on every
// replica at once and is recorded once.
func (s suite) testPromptOnceAcrossHandles(t *testing.T) {
	ctx := context.Background()
	st1, st2 := s.handles(t)
	svc, clk := alertService(st1)
	other := incident.NewService(st2, incident.DefaultConfig(), clk.now)
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout down", Severity: "sev1", Actor: "U0ANN"})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := incident.NextPrompt(inc, incident.DefaultConfig())
	if !ok {
		t.Fatal("a sev1 has no prompt due")
	}
	clk.add(p.At.Sub(clk.now()))
	var (
		mu   sync.Mutex
		sent int
	)
	atOnce(t, []*incident.Service{svc, other}, func(svc *incident.Service) error {
		ok, err := svc.SendPrompt(ctx, inc.Number)
		if err != nil {
			return fmt.Errorf("SendPrompt: %w", err)
		}
		if ok {
			mu.Lock()
			sent++
			mu.Unlock()
		}
		return nil
	})
	prompts := 0
	for _, e := range events(t, st2, inc.ID) {
		if e.Kind == incident.KindPrompt {
			prompts++
		}
	}
	if sent != 1 || prompts != 1 {
		t.Errorf("SendPrompt from %d goroutines on two handles reported %d sent and recorded %d prompts, want one", 2*replicaWorkers, sent, prompts)
	}
}

// testIssueDoneOnceAcrossHandles: every replica's periodic check of the
// trackers learns at once that a follow-up's issue is done; it is marked
// done once.
func (s suite) testIssueDoneOnceAcrossHandles(t *testing.T) {
	ctx := context.Background()
	st1, st2 := s.handles(t)
	svc, clk := alertService(st1)
	other := incident.NewService(st2, incident.DefaultConfig(), clk.now)
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout down", Severity: "sev2", Actor: "U0ANN"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddFollowUp(ctx, inc.Number, "U0ANN", "Add a canary", "U0BOB"); err != nil {
		t.Fatal(err)
	}
	ref := incident.IssueRef{Tracker: "github", Key: "acme/ops#1", URL: "https://github.com/acme/ops/issues/1"}
	if _, err := svc.LinkIssue(ctx, inc.Number, 1, ref); err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		changed int
	)
	atOnce(t, []*incident.Service{svc, other}, func(svc *incident.Service) error {
		ok, err := svc.IssueState(ctx, inc.Number, "github", ref.Key, true)
		if err != nil {
			return err
		}
		if ok {
			mu.Lock()
			changed++
			mu.Unlock()
		}
		return nil
	})
	done := 0
	for _, e := range events(t, st2, inc.ID) {
		if e.Kind == incident.KindFollowUpDone {
			done++
		}
	}
	if changed != 1 || done != 1 {
		t.Errorf("IssueState from %d goroutines on two handles reported %d changes and recorded %d follow-up done events, want one", 2*replicaWorkers, changed, done)
	}
}
