package statuspage

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fake is a stateful Atlassian Statuspage Manage API: it keeps the page's
// components and incidents, enforces the OAuth key and one request a
// second (answering 429 with Retry-After, or 420, as the real one does),
// validates component IDs (422) and records every call.
type fake struct {
	t      *testing.T
	srv    *httptest.Server
	key    string
	page   string
	mu     sync.Mutex
	last   time.Time
	calls  []string // "METHOD path"
	status int      // when set, the next answers are this status…
	times  int      // …this many times
	// The page's state.
	components []map[string]any
	incidents  []map[string]any
	nextID     int
	limited    int // rate-limit answers given
}

func newFake(t *testing.T) *fake {
	f := &fake{t: t, key: "sp-key-7f3a9c", page: "jb7j80lkgqvb"}
	// The components as GET /components answers them (testdata).
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "shared", "integrations", "statuspage", "components-list.response.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &f.components); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) url() string { return f.srv.URL + "/v1/" }

func (f *fake) fail(status, times int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.times = status, times
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	if r.Header.Get("Authorization") != "OAuth "+f.key {
		answer(http.StatusUnauthorized, map[string]string{"error": "Could not authenticate"})
		return
	}
	now := time.Now()
	// One request a second per token; 900 ms leaves room for timers.
	if !f.last.IsZero() && now.Sub(f.last) < 900*time.Millisecond {
		f.limited++
		w.Header().Set("Retry-After", "1")
		answer(http.StatusTooManyRequests, map[string]string{"error": "Rate limit exceeded"})
		return
	}
	f.last = now
	if f.times > 0 {
		f.times--
		if f.status == 429 || f.status == 420 {
			w.Header().Set("Retry-After", "2")
		}
		answer(f.status, map[string]any{"error": []string{fmt.Sprintf("refused with %d by the test", f.status)}})
		return
	}
	prefix := "/v1/pages/" + f.page + "/"
	if !strings.HasPrefix(r.URL.Path, prefix) {
		answer(http.StatusNotFound, map[string]string{"error": "Page not found"})
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, prefix)
	switch {
	case r.Method == http.MethodGet && rest == "components":
		answer(http.StatusOK, f.components)
	case r.Method == http.MethodGet && rest == "incidents":
		answer(http.StatusOK, f.incidents)
	case r.Method == http.MethodPost && rest == "incidents":
		body, ok := f.body(w, r)
		if !ok {
			return
		}
		if name, _ := body["name"].(string); name == "" {
			answer(http.StatusUnprocessableEntity, map[string]any{"error": []string{"Name can't be blank"}})
			return
		}
		if bad := f.badComponents(body); bad != "" {
			answer(http.StatusUnprocessableEntity, map[string]any{"error": []string{bad}})
			return
		}
		meta, _ := body["metadata"].(map[string]any)
		for k, v := range meta {
			if _, ok := v.(map[string]any); !ok {
				answer(http.StatusBadRequest, map[string]any{"error": "metadata." + k + " must be an object"})
				return
			}
		}
		f.nextID++
		inc := map[string]any{"id": fmt.Sprintf("z3lct0r596n%d", f.nextID), "page_id": f.page, "name": body["name"], "status": body["status"],
			"metadata": meta, "incident_updates": []any{}}
		f.addUpdate(inc, body)
		f.incidents = append(f.incidents, inc)
		answer(http.StatusCreated, inc)
	case strings.HasPrefix(rest, "incidents/"):
		id := strings.TrimPrefix(rest, "incidents/")
		i := slices.IndexFunc(f.incidents, func(m map[string]any) bool { return m["id"] == id })
		if i < 0 {
			answer(http.StatusNotFound, map[string]string{"error": "Incident not found"})
			return
		}
		inc := f.incidents[i]
		switch r.Method {
		case http.MethodGet:
			answer(http.StatusOK, inc)
		case http.MethodPatch:
			body, ok := f.body(w, r)
			if !ok {
				return
			}
			if bad := f.badComponents(body); bad != "" {
				answer(http.StatusUnprocessableEntity, map[string]any{"error": []string{bad}})
				return
			}
			for _, k := range []string{"name", "status"} {
				if v, ok := body[k]; ok {
					inc[k] = v
				}
			}
			f.addUpdate(inc, body)
			answer(http.StatusOK, inc)
		default:
			answer(http.StatusMethodNotAllowed, map[string]string{"error": "method"})
		}
	default:
		answer(http.StatusNotFound, map[string]string{"error": "Not found"})
	}
}

// body reads {"incident": {...}} as the API takes it.
func (f *fake) body(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	if r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, `{"error":"the Content-Type must match the body"}`, http.StatusBadRequest)
		return nil, false
	}
	var b struct {
		Incident map[string]any `json:"incident"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil || b.Incident == nil {
		http.Error(w, `{"error":"incident is missing"}`, http.StatusBadRequest)
		return nil, false
	}
	return b.Incident, true
}

// badComponents checks the components map against the page's, and sets
// their statuses, as Statuspage does.
func (f *fake) badComponents(body map[string]any) string {
	comps, _ := body["components"].(map[string]any)
	for id, st := range comps {
		i := slices.IndexFunc(f.components, func(c map[string]any) bool { return c["id"] == id })
		if i < 0 {
			return "Components " + id + " is invalid"
		}
		if !slices.Contains([]string{"operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage", ""}, fmt.Sprint(st)) {
			return "Status is invalid"
		}
	}
	for id, st := range comps {
		for _, c := range f.components {
			if c["id"] == id {
				c["status"] = st
			}
		}
	}
	return ""
}

// addUpdate records a body as an incident update, newest first.
func (f *fake) addUpdate(inc, body map[string]any) {
	if b, _ := body["body"].(string); b != "" {
		ups := inc["incident_updates"].([]any)
		inc["incident_updates"] = append([]any{map[string]any{"status": body["status"], "body": b}}, ups...)
	}
}

// componentStatus is a component's status on the page, by name.
func (f *fake) componentStatus(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.components {
		if c["name"] == name {
			return fmt.Sprint(c["status"])
		}
	}
	return ""
}
