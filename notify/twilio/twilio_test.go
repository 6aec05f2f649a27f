package twilio_test

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
	"github.com/sitrep-dev/sitrep/internal/twiliofake"
	"github.com/sitrep-dev/sitrep/notify"
	"github.com/sitrep-dev/sitrep/notify/twilio"
	"github.com/sitrep-dev/sitrep/oncall"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

const (
	sid   = "ACf0e1d2c3b4a5968778695a4b3c2d1e0f"
	token = "0f8c6b1d2e3a4f5b6c7d8e9fa0b1c2d3"
)

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

// TestTextAndCall runs a policy whose step texts and calls two people,
// one of whose numbers Twilio refuses, against a fake Twilio that first
// answers 429 and 503: each good number gets one SMS and one call whose
// TwiML reads the incident and asks for a key, and the refused number is
// told to the commander once.
func TestTextAndCall(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sitrep.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	plan, err := oncall.Config{
		Policies: []oncall.PolicyConfig{{Name: "default", Steps: []oncall.StepConfig{
			{Notify: "user:U0BOB", After: "5m", SMS: true, Call: true}, {Notify: "user:U0DAVE", After: "5m", SMS: true}}}},
		Phones: map[string]string{"U0BOB": "+15558675310", "U0DAVE": "+15558675311"},
	}.Compile(incident.DefaultConfig().SeverityNames())
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC))
	svc := incident.NewService(db, incident.DefaultConfig(), clk.Now)
	svc.UsePaging(plan)
	fake := twiliofake.New(sid, token)
	t.Cleanup(fake.Close)
	fake.Fail(http.StatusTooManyRequests, http.StatusServiceUnavailable)
	var (
		mu      sync.Mutex
		refused []string
	)
	// Dave's number as the integration is given it is one Twilio refuses
	// (21211), as a number mistyped in the config file would be.
	phones := map[string]string{"U0BOB": "+15558675310", "U0DAVE": "+0000"}
	in := twilio.New(twilio.Config{AccountSID: sid, AuthToken: token, From: "+15017122661", URL: fake.URL(), PublicURL: "https://sitrep.example.com/",
		Phone: func(u string) string { return phones[u] },
		Refused: func(ctx context.Context, n int64, problem string) error {
			mu.Lock()
			defer mu.Unlock()
			refused = append(refused, problem)
			return nil
		}})
	runner := notify.New(svc, clock.Real{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, in)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runner.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })

	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout <down> & out", Severity: "sev1", Actor: "U0ANN"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SendPageSteps(ctx, inc.Number); err != nil {
		t.Fatal(err)
	}
	eventually(t, "an SMS and a call to bob", func() bool { return len(fake.Requests()) == 2 })
	reqs := fake.Requests()
	if reqs[0].Kind != "sms" || reqs[0].Form.Get("To") != "+15558675310" || !strings.Contains(reqs[0].Form.Get("Body"), "incident #1 (sev1) Checkout <down> & out") ||
		reqs[0].Form.Get("ValidityPeriod") != "600" {
		t.Errorf("sms: %v", reqs[0].Form)
	}
	tw := reqs[1].Form.Get("Twiml")
	if reqs[1].Kind != "call" || !strings.Contains(tw, "Incident 1, sev1: Checkout &lt;down&gt; &amp; out.") ||
		!strings.Contains(tw, `action="https://sitrep.example.com/hooks/twilio/gather?incident=1&amp;page=1&amp;user=U0BOB"`) {
		t.Errorf("call: %s", tw)
	}
	// The next step texts dave, whose number Twilio refuses.
	clk.Advance(5 * time.Minute)
	if n, err := svc.SendPageSteps(ctx, inc.Number); err != nil || n != 1 {
		t.Fatalf("second step: %d, %v", n, err)
	}
	eventually(t, "the refusal", func() bool { mu.Lock(); defer mu.Unlock(); return len(refused) == 1 })
	mu.Lock()
	if !strings.Contains(refused[0], "21211") || !strings.Contains(refused[0], "U0DAVE") {
		t.Errorf("refusal: %q", refused[0])
	}
	mu.Unlock()
	eventually(t, "the delivery to catch up", func() bool { b, _ := svc.Behind(ctx, "twilio"); return len(b) == 0 })
	if n := len(fake.Requests()); n != 2 {
		t.Errorf("Twilio took %d requests, want 2", n)
	}
}
