package thirdparty

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/clock"
)

// githubSummary is a Statuspage summary.json as GitHub's page serves it
// (trimmed): one ongoing incident and one resolved.
const githubSummary = `{"page":{"id":"kctbh9vrtdwd","name":"GitHub","url":"https://www.githubstatus.com","time_zone":"Etc/UTC","updated_at":"2026-12-06T19:20:11.123Z"},
"components":[{"id":"8l4ygp009s5s","name":"Git Operations","status":"degraded_performance"}],
"incidents":[{"id":"p31zjtct2jer","name":"Disruption with some GitHub services","status":"investigating","impact":"minor","shortlink":"https://stspg.io/abc","updated_at":"2026-12-06T19:20:11.123Z"},
{"id":"x","name":"Old","status":"resolved","impact":"none","shortlink":"https://stspg.io/old","updated_at":"2026-12-05T10:00:00.000Z"}],
"scheduled_maintenances":[],"status":{"indicator":"minor","description":"Minor Service Outage"}}`

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A summary is read once, then asked for conditionally: a 304 keeps what
// was read.
func TestPollReadsAndRevalidates(t *testing.T) {
	var conditional atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			conditional.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		io.WriteString(w, githubSummary)
	}))
	defer srv.Close()
	pg := Page{Name: "GitHub", URL: "https://www.githubstatus.com", Summary: srv.URL + "/api/v2/summary.json"}
	p := New([]Page{pg, {Name: "Docs only", URL: "https://example.com/status"}}, time.Minute, nil, clock.Real{}, quiet())
	if s := p.Statuses(); len(s) != 2 || !s[0].CheckedAt.IsZero() {
		t.Fatalf("before polling: %+v", s)
	}
	p.Poll(context.Background(), pg)
	p.Poll(context.Background(), pg)
	s := p.Statuses()[0]
	if s.Indicator != "minor" || s.Description != "Minor Service Outage" || len(s.Incidents) != 1 || s.Incidents[0].Name != "Disruption with some GitHub services" || s.Incidents[0].URL != "https://stspg.io/abc" || s.Problem != "" {
		t.Errorf("status: %+v", s)
	}
	if conditional.Load() != 1 {
		t.Errorf("%d conditional requests, want 1", conditional.Load())
	}
}

// A slow page, invalid JSON, a redirect loop, an error and 50 MB are each
// recorded as that page's problem, within the timeout, without reading
// the 50 MB, and keep the last good answer.
func TestPollSurvivesBadPages(t *testing.T) {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/invalid", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>maintenance</html>") })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", http.StatusBadGateway) })
	var sent atomic.Int64
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(`{"status":{"indicator":"none","description":"` + strings.Repeat("x", 64<<10))
		for range 50 << 20 / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			sent.Add(int64(len(chunk)))
		}
	})
	var bad atomic.Bool
	mux.HandleFunc("/flaky", func(w http.ResponseWriter, r *http.Request) {
		if !bad.Load() {
			io.WriteString(w, githubSummary)
			return
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(release)

	var pages []Page
	for _, n := range []string{"slow", "invalid", "loop", "down", "huge", "flaky"} {
		pages = append(pages, Page{Name: n, Summary: srv.URL + "/" + n})
	}
	p := New(pages, time.Minute, nil, clock.Real{}, quiet())
	p.timeout = time.Second
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	for _, pg := range pages {
		p.Poll(context.Background(), pg)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("polling took %s", took)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 8<<20 {
		t.Errorf("the heap grew by %d MB", grew>>20)
	}
	want := map[string]string{
		"slow": "no answer within 1s", "invalid": "not a Statuspage-style summary.json", "loop": "more than 3 redirects",
		"down": "answered HTTP 502", "huge": "larger than 1024 KB",
	}
	for _, s := range p.Statuses() {
		if w, ok := want[s.Name]; ok && !strings.Contains(s.Problem, w) {
			t.Errorf("%s: problem %q, want %q", s.Name, s.Problem, w)
		}
	}
	// A page that fails after answering keeps its last answer.
	bad.Store(true)
	p.Poll(context.Background(), pages[5])
	if s := p.Statuses()[5]; s.Indicator != "minor" || s.Problem != "answered HTTP 503" {
		t.Errorf("flaky: %+v", s)
	}
	// Statuses never waits on a poll under way.
	go p.Poll(context.Background(), pages[0])
	done := make(chan struct{})
	go func() { p.Statuses(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("Statuses waited on a slow page")
	}
}
