package trackerfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AsanaTask is a task the fake Asana keeps.
type AsanaTask struct {
	GID, Name, Notes, Assignee string
	Projects                   []string
	Completed                  bool
	Stories                    []string
	Modified                   time.Time
}

// Asana is a fake Asana REST API for tasks: bodies wrapped in
// {"data": …} both ways, gids as long strings, errors as
// {"errors": [{"message", "help"}]}, 429 with Retry-After.
type Asana struct {
	srv  *httptest.Server
	fail failures

	mu       sync.Mutex
	token    string
	readOnly bool
	project  string
	users    map[string]string // email → user gid
	tasks    []*AsanaTask
}

// NewAsana starts a fake Asana with project (a gid) and a token. Stop it
// with Close.
func NewAsana(project, token string) *Asana {
	a := &Asana{token: token, project: project, users: map[string]string{}}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	return a
}

// URL is the API's base, for ASANA_API_URL.
func (a *Asana) URL() string { return a.srv.URL + "/api/1.0/" }

// Close stops the fake.
func (a *Asana) Close() { a.srv.Close() }

// Fail makes matching calls fail.
func (a *Asana) Fail(f Failure) { a.fail.add(f) }

// SetToken changes the token the fake takes.
func (a *Asana) SetToken(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.token = token
}

// ReadOnly makes the token one that may read but not write.
func (a *Asana) ReadOnly() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.readOnly = true
}

// AddUser adds a workspace member found by email.
func (a *Asana) AddUser(email, gid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.users[email] = gid
}

// Tasks returns copies of the tasks.
func (a *Asana) Tasks() []AsanaTask {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []AsanaTask
	for _, t := range a.tasks {
		c := *t
		c.Stories = slices.Clone(t.Stories)
		out = append(out, c)
	}
	return out
}

// SetCompleted completes or reopens a task, as a person does in Asana.
func (a *Asana) SetCompleted(gid string, done bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.tasks {
		if t.GID == gid {
			t.Completed, t.Modified = done, time.Now().UTC()
		}
	}
}

// AsanaHookPayload is the events delivery Asana sends when a task's
// completed field changes: it says which task, not to what.
func AsanaHookPayload(gid string) []byte {
	b, _ := json.Marshal(map[string]any{"events": []map[string]any{{
		"user":       map[string]any{"gid": "1199999999999991", "resource_type": "user"},
		"created_at": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"action":     "changed",
		"resource":   map[string]any{"gid": gid, "resource_type": "task", "resource_subtype": "default_task"},
		"parent":     nil,
		"change":     map[string]any{"field": "completed", "action": "changed"},
	}}})
	return b
}

func asanaError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"message": msg, "help": "For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors"}}})
}

func (a *Asana) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	token := a.token
	a.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+token {
		asanaError(w, http.StatusUnauthorized, "Not Authorized")
		return
	}
	f := a.fail.match(r)
	if f != nil && f.Status != 0 {
		if f.Then != nil {
			f.Then()
		}
		if f.Status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", strconv.Itoa(int(max(f.RetryAfter, time.Second)/time.Second)))
			asanaError(w, f.Status, "You have made too many requests recently. Please, be chill.")
			return
		}
		asanaError(w, f.Status, "Server Error")
		return
	}
	status, out, next := a.route(r)
	if msg, ok := out.(string); ok {
		asanaError(w, status, msg)
		return
	}
	if f != nil && f.Lost {
		if f.Then != nil {
			f.Then()
		}
		cut(w)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	body := map[string]any{"data": out}
	if next != "" {
		body["next_page"] = map[string]any{"offset": next, "path": "/tasks?offset=" + next}
	} else if _, list := out.([]map[string]any); list {
		body["next_page"] = nil
	}
	json.NewEncoder(w).Encode(body)
}

func (a *Asana) render(t *AsanaTask) map[string]any {
	return map[string]any{"gid": t.GID, "resource_type": "task", "name": t.Name, "notes": t.Notes, "completed": t.Completed,
		"permalink_url": fmt.Sprintf("https://app.asana.com/1/1199999999999990/project/%s/task/%s", a.project, t.GID)}
}

// route serves one call: the status and the data, or a message for an
// error, and the next page's offset.
func (a *Asana) route(r *http.Request) (int, any, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := strings.TrimPrefix(r.URL.Path, "/api/1.0/")
	if r.Method != http.MethodGet && a.readOnly {
		return http.StatusForbidden, "Forbidden", ""
	}
	var in struct {
		Data json.RawMessage `json:"data"`
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Data) == 0 || in.Data[0] != '{' {
			return http.StatusBadRequest, "Could not parse request data, invalid JSON", ""
		}
	}
	parts := strings.Split(p, "/")
	switch {
	case p == "tasks" && r.Method == http.MethodPost:
		var c struct {
			Name     string   `json:"name"`
			Notes    string   `json:"notes"`
			Projects []string `json:"projects"`
			Assignee string   `json:"assignee"`
		}
		json.Unmarshal(in.Data, &c)
		if len(c.Projects) == 0 {
			return http.StatusBadRequest, "You should specify one of workspace, parent, projects", ""
		}
		if c.Projects[0] != a.project {
			return http.StatusNotFound, "projects: [0]: Unknown object: " + c.Projects[0], ""
		}
		if strings.TrimSpace(c.Name) == "" {
			return http.StatusBadRequest, "name: Missing input", ""
		}
		assignee := ""
		if c.Assignee != "" {
			var ok bool
			if assignee, ok = a.users[c.Assignee]; !ok && !slices.Contains(mapValues(a.users), c.Assignee) {
				return http.StatusBadRequest, "assignee: Not a recognized ID or email: " + c.Assignee, ""
			} else if !ok {
				assignee = c.Assignee
			}
		}
		t := &AsanaTask{GID: strconv.FormatInt(1204567890999000+int64(len(a.tasks)+1), 10), Name: c.Name, Notes: c.Notes, Projects: c.Projects,
			Assignee: assignee, Modified: time.Now().UTC()}
		a.tasks = append(a.tasks, t)
		return http.StatusCreated, a.render(t), ""
	case p == "tasks" && r.Method == http.MethodGet:
		q := r.URL.Query()
		if q.Get("project") != a.project {
			return http.StatusNotFound, "project: Unknown object: " + q.Get("project"), ""
		}
		var since time.Time
		if s := q.Get("modified_since"); s != "" {
			var err error
			if since, err = time.Parse(time.RFC3339, s); err != nil {
				return http.StatusBadRequest, "modified_since: Not a valid date-time", ""
			}
		}
		limit, _ := strconv.Atoi(q.Get("limit"))
		if limit <= 0 || limit > 100 {
			limit = 20
		}
		off, _ := strconv.Atoi(q.Get("offset"))
		var match []*AsanaTask
		for _, t := range a.tasks {
			if !t.Modified.Before(since.Truncate(time.Second)) {
				match = append(match, t)
			}
		}
		out := []map[string]any{}
		for i := off; i < len(match) && i < off+limit; i++ {
			out = append(out, a.render(match[i]))
		}
		next := ""
		if off+limit < len(match) {
			next = strconv.Itoa(off + limit)
		}
		return http.StatusOK, out, next
	case len(parts) >= 2 && parts[0] == "tasks":
		var t *AsanaTask
		for _, x := range a.tasks {
			if x.GID == parts[1] {
				t = x
			}
		}
		if t == nil {
			return http.StatusNotFound, "task: Unknown object: " + parts[1], ""
		}
		switch {
		case len(parts) == 2 && r.Method == http.MethodGet:
			return http.StatusOK, a.render(t), ""
		case len(parts) == 2 && r.Method == http.MethodPut:
			var u struct {
				Completed *bool `json:"completed"`
			}
			json.Unmarshal(in.Data, &u)
			if u.Completed != nil {
				t.Completed = *u.Completed
			}
			t.Modified = time.Now().UTC()
			return http.StatusOK, a.render(t), ""
		case len(parts) == 3 && parts[2] == "stories" && r.Method == http.MethodPost:
			var s struct {
				Text string `json:"text"`
			}
			json.Unmarshal(in.Data, &s)
			if strings.TrimSpace(s.Text) == "" {
				return http.StatusBadRequest, "text: Missing input", ""
			}
			t.Stories = append(t.Stories, s.Text)
			return http.StatusCreated, map[string]any{"gid": strconv.Itoa(len(t.Stories)), "resource_type": "story", "text": s.Text}, ""
		}
	}
	return http.StatusNotFound, "No matching route for request", ""
}
