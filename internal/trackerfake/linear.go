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

// LinearIssue is an issue the fake Linear keeps.
type LinearIssue struct {
	ID, Identifier, Title, Description, Assignee string
	LabelIDs                                     []string
	StateType                                    string // unstarted, started, completed, canceled
	Comments                                     []string
}

// Linear is a fake Linear GraphQL API: personal keys sent bare (a key with
// Bearer is refused), errors in the GraphQL errors array with HTTP 200 or
// 400, rate limits as RATELIMITED with Linear's headers.
type Linear struct {
	srv  *httptest.Server
	fail failures

	mu       sync.Mutex
	key      string
	team     string
	key2     string // the team's issue prefix, OPS
	readOnly bool
	users    map[string]string // email → user ID
	issues   []*LinearIssue
}

// NewLinear starts a fake Linear with team (a UUID, issues OPS-n) and a
// personal API key. Stop it with Close.
func NewLinear(team, key string) *Linear {
	l := &Linear{key: key, team: team, key2: "OPS", users: map[string]string{}}
	l.srv = httptest.NewServer(http.HandlerFunc(l.serve))
	return l
}

// URL is the GraphQL endpoint, for LINEAR_API_URL.
func (l *Linear) URL() string { return l.srv.URL + "/graphql" }

// Close stops the fake.
func (l *Linear) Close() { l.srv.Close() }

// Fail makes matching calls fail.
func (l *Linear) Fail(f Failure) { l.fail.add(f) }

// SetKey changes the key the fake takes.
func (l *Linear) SetKey(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.key = key
}

// ReadOnly makes the key one that may read but not write.
func (l *Linear) ReadOnly() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.readOnly = true
}

// AddUser adds a user found by email.
func (l *Linear) AddUser(email, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.users[email] = id
}

// Issues returns copies of the issues.
func (l *Linear) Issues() []LinearIssue {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []LinearIssue
	for _, is := range l.issues {
		c := *is
		c.Comments = slices.Clone(is.Comments)
		out = append(out, c)
	}
	return out
}

// SetState moves an issue to a state of stateType.
func (l *Linear) SetState(identifier, stateType string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, is := range l.issues {
		if is.Identifier == identifier {
			is.StateType = stateType
		}
	}
}

// LinearHookPayload is the Issue update webhook Linear sends when an
// issue moves to a state of stateType, dated at.
func LinearHookPayload(identifier, stateType string, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"action":    "update",
		"type":      "Issue",
		"createdAt": at.UTC().Format(time.RFC3339Nano),
		"actor":     map[string]any{"id": "2e1b7e6f-0b1c-4a8e-9d1e-4b4f3f5a6c7d", "name": "Ada", "type": "user"},
		"data": map[string]any{
			"id": "a3f0c1de-5b7e-4c36-9d51-6f0f2f9b8e11", "identifier": identifier, "title": "x",
			"state": map[string]any{"id": "c0ffee00-0000-4000-8000-00000000000" + strconv.Itoa(len(stateType)%10), "name": stateType, "type": stateType},
		},
		"updatedFrom":      map[string]any{"stateId": "c0ffee00-0000-4000-8000-000000000001", "updatedAt": at.Add(-time.Minute).UTC().Format(time.RFC3339Nano)},
		"url":              "https://linear.app/acme/issue/" + identifier,
		"webhookTimestamp": at.UnixMilli(),
		"webhookId":        "4c6f6b8e-1111-4222-8333-944445555666",
	})
	return b
}

type gqlErr struct {
	status int
	code   string
	msg    string
}

func (l *Linear) serve(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, body any) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-RateLimit-Requests-Limit", "1500")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(body)
	}
	fail := func(e gqlErr) {
		answer(e.status, map[string]any{"errors": []map[string]any{{"message": e.msg, "extensions": map[string]any{"code": e.code, "userPresentableMessage": e.msg}}}})
	}
	l.mu.Lock()
	key := l.key
	l.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/graphql" {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != key {
		fail(gqlErr{http.StatusBadRequest, "AUTHENTICATION_ERROR", "Authentication required, not authenticated"})
		return
	}
	f := l.fail.match(r)
	if f != nil && f.Status != 0 {
		if f.Then != nil {
			f.Then()
		}
		if f.Status == http.StatusTooManyRequests {
			wait := max(f.RetryAfter, time.Second)
			w.Header().Set("X-RateLimit-Requests-Remaining", "0")
			w.Header().Set("X-RateLimit-Requests-Reset", strconv.FormatInt(time.Now().Add(wait).UnixMilli(), 10))
			fail(gqlErr{http.StatusBadRequest, "RATELIMITED", "Rate limit exceeded"})
			return
		}
		http.Error(w, "upstream connect error", f.Status)
		return
	}
	var in struct {
		Query     string                     `json:"query"`
		Variables map[string]json.RawMessage `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(gqlErr{http.StatusBadRequest, "GRAPHQL_PARSE_FAILED", "Syntax Error: Unexpected <EOF>."})
		return
	}
	data, e := l.run(in.Query, in.Variables)
	if e != nil {
		fail(*e)
		return
	}
	if f != nil && f.Lost {
		if f.Then != nil {
			f.Then()
		}
		cut(w)
		return
	}
	answer(http.StatusOK, map[string]any{"data": data})
}

func (l *Linear) run(q string, vars map[string]json.RawMessage) (any, *gqlErr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	str := func(name string) string {
		var s string
		json.Unmarshal(vars[name], &s)
		return s
	}
	write := strings.HasPrefix(strings.TrimSpace(q), "mutation")
	if write && l.readOnly {
		// Linear answers a permission problem with HTTP 200 and an error.
		return nil, &gqlErr{http.StatusOK, "FORBIDDEN", "You don't have permission to create issues in this team"}
	}
	find := func(id string) *LinearIssue {
		for _, is := range l.issues {
			if is.ID == id || is.Identifier == id {
				return is
			}
		}
		return nil
	}
	node := func(is *LinearIssue) map[string]any {
		return map[string]any{"id": is.ID, "identifier": is.Identifier, "url": "https://linear.app/acme/issue/" + strings.ToLower(is.Identifier) + "/slug",
			"title": is.Title, "state": map[string]any{"type": is.StateType}}
	}
	switch {
	case strings.Contains(q, "issueCreate("):
		var in struct {
			Input struct {
				TeamID      string   `json:"teamId"`
				Title       string   `json:"title"`
				Description string   `json:"description"`
				AssigneeID  string   `json:"assigneeId"`
				LabelIDs    []string `json:"labelIds"`
			} `json:"input"`
		}
		json.Unmarshal(mustJSON(vars), &in)
		c := in.Input
		if c.TeamID != l.team {
			return nil, &gqlErr{http.StatusBadRequest, "INVALID_INPUT", "Argument Validation Error: teamId: could not find referenced Team."}
		}
		if strings.TrimSpace(c.Title) == "" {
			return nil, &gqlErr{http.StatusBadRequest, "INVALID_INPUT", "Argument Validation Error: title should not be empty"}
		}
		if c.AssigneeID != "" && !slices.Contains(mapValues(l.users), c.AssigneeID) {
			return nil, &gqlErr{http.StatusBadRequest, "INVALID_INPUT", "Entity not found: User"}
		}
		n := len(l.issues) + 1
		is := &LinearIssue{ID: fmt.Sprintf("a3f0c1de-5b7e-4c36-9d51-%012d", n), Identifier: fmt.Sprintf("%s-%d", l.key2, n), Title: c.Title,
			Description: c.Description, Assignee: c.AssigneeID, LabelIDs: c.LabelIDs, StateType: "unstarted"}
		l.issues = append(l.issues, is)
		return map[string]any{"issueCreate": map[string]any{"success": true, "issue": node(is)}}, nil
	case strings.Contains(q, "users(filter"):
		nodes := []map[string]any{}
		if id, ok := l.users[str("email")]; ok {
			nodes = append(nodes, map[string]any{"id": id})
		}
		return map[string]any{"users": map[string]any{"nodes": nodes}}, nil
	case strings.Contains(q, "issues(first"):
		if str("team") != l.team {
			return nil, &gqlErr{http.StatusBadRequest, "INVALID_INPUT", "Entity not found: Team"}
		}
		nodes := []map[string]any{}
		for _, is := range l.issues {
			if strings.Contains(is.Description, str("marker")) {
				nodes = append(nodes, node(is))
				break
			}
		}
		return map[string]any{"issues": map[string]any{"nodes": nodes}}, nil
	case strings.Contains(q, "issue(id"):
		is := find(str("id"))
		if is == nil {
			return nil, &gqlErr{http.StatusBadRequest, "ENTITY_NOT_FOUND", "Entity not found: Issue"}
		}
		return map[string]any{"issue": node(is)}, nil
	case strings.Contains(q, "commentCreate("):
		var in struct {
			Input struct {
				IssueID string `json:"issueId"`
				Body    string `json:"body"`
			} `json:"input"`
		}
		json.Unmarshal(mustJSON(vars), &in)
		is := find(in.Input.IssueID)
		if is == nil {
			return nil, &gqlErr{http.StatusBadRequest, "ENTITY_NOT_FOUND", "Entity not found: Issue"}
		}
		is.Comments = append(is.Comments, in.Input.Body)
		return map[string]any{"commentCreate": map[string]any{"success": true}}, nil
	case strings.Contains(q, "team(id"):
		return map[string]any{"team": map[string]any{"states": map[string]any{"nodes": []map[string]any{
			{"id": "s-todo", "type": "unstarted", "position": 1},
			{"id": "s-done", "type": "completed", "position": 3},
			{"id": "s-canceled", "type": "canceled", "position": 4},
		}}}}, nil
	case strings.Contains(q, "issueUpdate("):
		is := find(str("id"))
		if is == nil {
			return nil, &gqlErr{http.StatusBadRequest, "ENTITY_NOT_FOUND", "Entity not found: Issue"}
		}
		var in struct {
			Input struct {
				StateID string `json:"stateId"`
			} `json:"input"`
		}
		json.Unmarshal(mustJSON(vars), &in)
		switch in.Input.StateID {
		case "s-done":
			is.StateType = "completed"
		case "s-todo":
			is.StateType = "unstarted"
		case "s-canceled":
			is.StateType = "canceled"
		}
		return map[string]any{"issueUpdate": map[string]any{"success": true}}, nil
	}
	return nil, &gqlErr{http.StatusBadRequest, "GRAPHQL_VALIDATION_FAILED", "Cannot query this field"}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
