package notify

import (
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/clock"
)

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		name     string
		f        Failure
		attempts int
		min, max time.Duration
	}{
		{"a rate limit waits what was asked, however many attempts", Failure{Wait: 7 * time.Second}, 9, 7 * time.Second, 7250 * time.Millisecond},
		{"first failure", Failure{}, 1, 500 * time.Millisecond, time.Second},
		{"third failure", Failure{}, 3, 2 * time.Second, 4 * time.Second},
		{"a long outage stays within MaxBackoff", Failure{}, 40, MaxBackoff / 2, MaxBackoff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 100 { // the jitter is random
				if d := backoff(tc.f, tc.attempts); d < tc.min || d > tc.max {
					t.Fatalf("backoff = %s, want within [%s, %s]", d, tc.min, tc.max)
				}
			}
		})
	}
}

// TestAnswering checks that once a pass goes through, incidents backing
// off from passing trouble go at once, while those waiting out a rate
// limit or a refusal keep their time.
func TestAnswering(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC))
	l := &lane{clock: clk}
	later := clk.Now().Add(time.Hour)
	l.due = map[int64]retry{
		1: {at: later, attempts: 5, transient: true},
		2: {at: later}, // a rate limit or a refusal
	}
	l.mu.Lock()
	moved := l.answering()
	l.mu.Unlock()
	if !moved {
		t.Fatal("answering moved nothing")
	}
	if r := l.due[1]; r.at.After(clk.Now()) || r.transient || r.attempts != 5 {
		t.Errorf("incident 1 backing off from passing trouble: %+v, want due now with its attempts kept", r)
	}
	if r := l.due[2]; !r.at.Equal(later) {
		t.Errorf("incident 2 moved to %v; a rate limit or refusal keeps its time", r.at)
	}
	l.mu.Lock()
	again := l.answering()
	l.mu.Unlock()
	if again {
		t.Error("a second call moved incidents again")
	}
}
