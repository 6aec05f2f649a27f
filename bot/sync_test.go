package bot

import (
	"errors"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func TestBackoff(t *testing.T) {
	limited := &slack.RateLimitedError{RetryAfter: 7 * time.Second}
	serverError := slack.StatusCodeError{Code: 500, Status: "500 Internal Server Error"}
	for _, tc := range []struct {
		name     string
		err      error
		attempts int
		min, max time.Duration
	}{
		{"a rate limit waits what Slack asks, however many attempts", limited, 9, 7 * time.Second, 7250 * time.Millisecond},
		{"first server error", serverError, 1, 500 * time.Millisecond, time.Second},
		{"third server error", serverError, 3, 2 * time.Second, 4 * time.Second},
		{"a long outage stays within maxBackoff", serverError, 40, maxBackoff / 2, maxBackoff},
		{"network trouble", errors.New("connection refused"), 6, maxBackoff / 2, maxBackoff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 100 { // the jitter is random
				if d := backoff(tc.err, tc.attempts); d < tc.min || d > tc.max {
					t.Fatalf("backoff = %s, want within [%s, %s]", d, tc.min, tc.max)
				}
			}
		})
	}
}

// TestSlackAnswers checks that once a pass goes through, incidents backing
// off from server errors go at once, while those waiting out a rate limit
// or a refusal keep their time.
func TestSlackAnswers(t *testing.T) {
	s := newSyncer(nil, nil, Options{}, nil)
	later := time.Now().Add(time.Hour)
	s.due = map[int64]retry{
		1: {at: later, attempts: 5, transient: true},
		2: {at: later}, // a rate limit or a refusal
	}
	s.mu.Lock()
	moved := s.slackAnswers()
	s.mu.Unlock()
	if !moved {
		t.Fatal("slackAnswers moved nothing")
	}
	if r := s.due[1]; r.at.After(time.Now()) || r.transient || r.attempts != 5 {
		t.Errorf("incident 1 backing off from server errors: %+v, want due now with its attempts kept", r)
	}
	if r := s.due[2]; !r.at.Equal(later) {
		t.Errorf("incident 2 moved to %v; a rate limit or refusal keeps its time", r.at)
	}
	s.mu.Lock()
	again := s.slackAnswers()
	s.mu.Unlock()
	if again {
		t.Error("a second call moved incidents again")
	}
}
