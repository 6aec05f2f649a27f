package pagerduty_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/pagerdutyfake"
	"github.com/sitrep-dev/sitrep/notify"
	"github.com/sitrep-dev/sitrep/notify/pagerduty"
	"github.com/sitrep-dev/sitrep/oncall"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

const (
	goodKey = "R0123456789ABCDEF0123456789ABCDE" // 32 characters
	badKey  = "too-short"
)

type world struct {
	svc     *incident.Service
	fake    *pagerdutyfake.Server
	mu      sync.Mutex
	refused []string
}

func (w *world) refusals() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.refused...)
}

// start runs the delivery engine with the PagerDuty integration against a
// fake PagerDuty, over a real store, with policies "default" (no key of
// its own) and "broken" (a routing key PagerDuty refuses).
func start(t *testing.T) *world {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sitrep.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	plan, err := oncall.Config{
		Policies: []oncall.PolicyConfig{
			{Name: "default", Steps: []oncall.StepConfig{{Notify: "user:U0BOB", After: "5m"}, {Notify: "user:U0DAVE", After: "5m"}}},
			{Name: "broken", Steps: []oncall.StepConfig{{Notify: "user:U0BOB", After: "5m"}}, RoutingKey: badKey},
		},
	}.Compile(incident.DefaultConfig().SeverityNames())
	if err != nil {
		t.Fatal(err)
	}
	svc := incident.NewService(db, incident.DefaultConfig(), time.Now)
	svc.UsePaging(plan)
	w := &world{svc: svc, fake: pagerdutyfake.New()}
	t.Cleanup(w.fake.Close)
	in := pagerduty.New(pagerduty.Config{
		URL: w.fake.URL(), RoutingKey: goodKey,
		PolicyKey: func(name string) string { p, _ := plan.Policy(name); return p.RoutingKey },
		Refused: func(ctx context.Context, number int64, problem string) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.refused = append(w.refused, problem)
			return nil
		},
	})
	runner := notify.New(svc, clock.Real{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, in)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// page declares a sev1 (which pages policy) and records its first step.
func page(t *testing.T, svc *incident.Service, policy string) *incident.Incident {
	t.Helper()
	ctx := context.Background()
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout down", Severity: "sev1", Actor: "U0ANN", Page: policy})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := svc.SendPageSteps(ctx, inc.Number); err != nil || n != 1 {
		t.Fatalf("SendPageSteps = %d, %v", n, err)
	}
	return inc
}

// TestTriggerRetriedThenResolve checks that a page triggers one PagerDuty
// alert whatever 429s and 5xx come first, that an escalation does not
// trigger again, and that resolving resolves it with the same key.
func TestTriggerRetriedThenResolve(t *testing.T) {
	w := start(t)
	w.fake.Fail(http.StatusTooManyRequests, http.StatusBadGateway)
	inc := page(t, w.svc, "")
	key := "sitrep-" + inc.ID
	eventually(t, "the trigger", func() bool { return w.fake.Open(key) })
	evs := w.fake.Events()
	if len(evs) != 1 || evs[0].Action != "trigger" || evs[0].RoutingKey != goodKey || evs[0].Payload["severity"] != "critical" ||
		!strings.HasPrefix(evs[0].Payload["summary"].(string), "Sitrep #1 (sev1): Checkout down") {
		t.Fatalf("events: %+v", evs)
	}
	// The next step is Sitrep's own: PagerDuty's alert is already open.
	ctx := context.Background()
	if _, err := w.svc.AddNote(ctx, inc.Number, "U0ANN", "looking"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Resolve(ctx, inc.Number, "U0ANN", "fixed"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the resolve", func() bool { return !w.fake.Open(key) })
	evs = w.fake.Events()
	if len(evs) != 2 || evs[1].Action != "resolve" || evs[1].DedupKey != key || evs[1].RoutingKey != goodKey {
		t.Fatalf("events: %+v", evs)
	}
	if r := w.refusals(); len(r) != 0 {
		t.Errorf("refusals: %v", r)
	}
}

// TestBadRoutingKeyToldOnce checks that a 400 for a bad routing key is
// told once and not sent again.
func TestBadRoutingKeyToldOnce(t *testing.T) {
	w := start(t)
	inc := page(t, w.svc, "broken")
	eventually(t, "the refusal", func() bool { return len(w.refusals()) == 1 })
	if r := w.refusals()[0]; !strings.Contains(r, "Length of 'routing_key' is incorrect") || strings.Contains(r, badKey) {
		t.Errorf("refusal: %q", r)
	}
	// Later changes make passes; none sends the refused event again.
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := w.svc.AddNote(ctx, inc.Number, "U0ANN", "still down"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.svc.Resolve(ctx, inc.Number, "U0ANN", "fixed"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the delivery to catch up", func() bool {
		behind, _ := w.svc.Behind(ctx, "pagerduty")
		return len(behind) == 0
	})
	if n := len(w.refusals()); n != 1 {
		t.Errorf("told %d times", n)
	}
	if evs := w.fake.Events(); len(evs) != 0 {
		t.Errorf("PagerDuty took %+v", evs)
	}
}
