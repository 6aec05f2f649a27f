// Package pagerdutyfake is a fake PagerDuty Events API v2 for tests,
// serving the shapes recorded in testdata/shared/integrations/pagerduty:
// 202 with the dedup_key, 400 with PagerDuty's errors for a routing key
// that is not 32 characters or an event that is not valid, and 429 or 5xx
// when a test asks for them. It keeps each alert's state by dedup_key as
// PagerDuty does: a resolve for an unknown or resolved alert is accepted
// and dropped.
package pagerdutyfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
)

// Event is an event the fake accepted.
type Event struct {
	RoutingKey string         `json:"routing_key"`
	DedupKey   string         `json:"dedup_key"`
	Action     string         `json:"event_action"`
	Payload    map[string]any `json:"payload"`
	ClientURL  string         `json:"client_url"`
}

// Server is the fake.
type Server struct {
	srv *httptest.Server

	mu     sync.Mutex
	events []Event
	open   map[string]bool // dedup_key → triggered and not resolved
	fail   []int           // statuses to answer next, in order
}

// New starts a fake; Close it when done.
func New() *Server {
	s := &Server{open: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/enqueue", s.enqueue)
	s.srv = httptest.NewServer(mux)
	return s
}

// URL is the Events API URL to set as PAGERDUTY_EVENTS_URL.
func (s *Server) URL() string { return s.srv.URL + "/v2/enqueue" }

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// Fail makes the next requests answer these statuses (429 with
// Retry-After: 1, or a 5xx), one each, before working again.
func (s *Server) Fail(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, statuses...)
}

// Events returns the events accepted, in order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

// Open reports whether the alert of dedupKey is triggered and not resolved.
func (s *Server) Open(dedupKey string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open[dedupKey]
}

func invalid(w http.ResponseWriter, errs ...string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": errs})
}

func (s *Server) enqueue(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.fail) > 0 {
		code := s.fail[0]
		s.fail = s.fail[1:]
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(code) // the docs do not say what a 429's body is
		return
	}
	if r.Header.Get("Content-Type") != "application/json" {
		invalid(w, "Content-Type must be application/json")
		return
	}
	var e Event
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 512<<10)).Decode(&e); err != nil {
		invalid(w, "Event object is not valid JSON")
		return
	}
	if len(e.RoutingKey) != 32 {
		invalid(w, "Length of 'routing_key' is incorrect (should be 32 characters)")
		return
	}
	switch e.Action {
	case "trigger":
		sum, _ := e.Payload["summary"].(string)
		src, _ := e.Payload["source"].(string)
		sev, _ := e.Payload["severity"].(string)
		if sum == "" || len(sum) > 1024 || src == "" || !slices.Contains([]string{"critical", "error", "warning", "info"}, sev) {
			invalid(w, "'payload' is invalid or missing")
			return
		}
		if e.DedupKey == "" || len(e.DedupKey) > 255 {
			invalid(w, "'dedup_key' is invalid")
			return
		}
		s.open[e.DedupKey] = true
	case "acknowledge", "resolve":
		if e.DedupKey == "" {
			invalid(w, "'dedup_key' is required for "+e.Action)
			return
		}
		if e.Action == "resolve" {
			delete(s.open, e.DedupKey) // dropped silently when not open
		}
	default:
		invalid(w, "'event_action' is invalid")
		return
	}
	s.events = append(s.events, e)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(map[string]string{"status": "success", "message": "Event processed", "dedup_key": e.DedupKey})
}
