// Package trackerfake holds stateful fakes of the issue trackers' APIs,
// served by httptest, for tests at the wire: they keep issues, check
// tokens and scopes, answer with the real shapes and errors (401, 403,
// 404 for a repository the token cannot see, 422, 429 and GitHub's
// rate-limit headers, 5xx), and can cut an answer after doing the work,
// as a crash or a lost connection does.
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

// Failure makes calls fail. Matching calls are counted from the moment it
// is set.
type Failure struct {
	// Method and Path match calls ("POST", "/repos/acme/ops/issues");
	// empty matches all. Path matches as a prefix.
	Method, Path string
	// Status, when non-zero, is the status to answer with, in the
	// tracker's own shape; 429 (and 403 with RateLimited) carry the
	// tracker's rate-limit headers.
	Status int
	// RetryAfter is the wait the rate-limit headers ask for.
	RetryAfter time.Duration
	// Lost, with Status 0, lets the call take effect and then cuts the
	// connection without an answer.
	Lost bool
	// Skip matching calls pass before the failure applies; it applies to
	// Times calls (0: every call until cleared).
	Skip, Times int
	// Then is called where the failure strikes: after the work, with Lost.
	Then func()
}

// failures is the failure list of a fake.
type failures struct {
	mu   sync.Mutex
	list []*failureState
}

type failureState struct {
	Failure
	seen, struck int
}

func (fs *failures) add(f Failure) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.list = append(fs.list, &failureState{Failure: f})
}

func (fs *failures) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.list = nil
}

// match returns the failure that applies to the call, if any.
func (fs *failures) match(r *http.Request) *Failure {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.list {
		if (f.Method != "" && f.Method != r.Method) || !strings.HasPrefix(r.URL.Path, f.Path) {
			continue
		}
		f.seen++
		if f.seen <= f.Skip || (f.Times > 0 && f.struck >= f.Times) {
			continue
		}
		f.struck++
		c := f.Failure
		return &c
	}
	return nil
}

// cut ends a call without an answer.
func cut(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("trackerfake: cannot cut the connection")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

// GitHubIssue is an issue the fake keeps.
type GitHubIssue struct {
	Repo        string
	Number      int64
	Title       string
	Body        string
	Labels      []string
	Assignees   []string
	State       string // open, closed
	StateReason string
	Comments    []string
	Created     time.Time
	Updated     time.Time
}

// GitHub is a fake GitHub REST API for issues.
type GitHub struct {
	srv  *httptest.Server
	fail failures
	now  func() time.Time

	mu     sync.Mutex
	tokens map[string][]string // token → scopes
	repos  map[string]bool     // "owner/name" → the token's user may push
	issues map[string][]*GitHubIssue
	calls  []string
}

// NewGitHub starts a fake GitHub with one repository that token (scope
// repo) can write to. Stop it with Close.
func NewGitHub(repo, token string) *GitHub {
	g := &GitHub{
		tokens: map[string][]string{token: {"repo"}},
		repos:  map[string]bool{strings.ToLower(repo): true},
		issues: map[string][]*GitHubIssue{},
		now:    time.Now,
	}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	return g
}

// URL is the fake's base URL, for GITHUB_API_URL.
func (g *GitHub) URL() string { return g.srv.URL + "/" }

// Close stops the fake.
func (g *GitHub) Close() { g.srv.Close() }

// AddToken lets token in with scopes (a token without "repo" is refused
// writes with 403, as a read-only token is).
func (g *GitHub) AddToken(token string, scopes ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tokens[token] = scopes
}

// RevokeToken makes token unknown: 401 Bad credentials.
func (g *GitHub) RevokeToken(token string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.tokens, token)
}

// Fail makes matching calls fail; ClearFailures ends all.
func (g *GitHub) Fail(f Failure) { g.fail.add(f) }

// ClearFailures ends every failure.
func (g *GitHub) ClearFailures() { g.fail.clear() }

// Issues returns copies of repo's issues, by number.
func (g *GitHub) Issues(repo string) []GitHubIssue {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []GitHubIssue
	for _, is := range g.issues[strings.ToLower(repo)] {
		c := *is
		c.Comments = slices.Clone(is.Comments)
		out = append(out, c)
	}
	return out
}

// Calls returns "METHOD path" of every call so far.
func (g *GitHub) Calls() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.calls)
}

// SetState closes (reason "completed", "not_planned") or reopens (state
// "open") an issue, as a person does on GitHub.
func (g *GitHub) SetState(repo string, number int64, state, reason string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, is := range g.issues[strings.ToLower(repo)] {
		if is.Number == number {
			is.State, is.StateReason, is.Updated = state, reason, g.now().UTC()
		}
	}
}

// HookPayload is the issues webhook GitHub sends for an action on an
// issue: template is a real delivery (testdata's webhook-issues-closed.json)
// with the issue, its state and the repository set.
func HookPayload(template []byte, repo string, number int64, action, reason string) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(template, &m); err != nil {
		return nil, err
	}
	m["action"] = action
	is, _ := m["issue"].(map[string]any)
	rp, _ := m["repository"].(map[string]any)
	if is == nil || rp == nil {
		return nil, fmt.Errorf("the template has no issue or repository")
	}
	is["number"] = number
	is["html_url"] = fmt.Sprintf("https://github.com/%s/issues/%d", repo, number)
	if action == "closed" {
		is["state"], is["state_reason"] = "closed", reason
	} else {
		is["state"], is["state_reason"] = "open", "reopened"
	}
	rp["full_name"] = repo
	return json.Marshal(m)
}

func ghError(w http.ResponseWriter, status int, msg string, errs ...map[string]string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	body := map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest"}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	json.NewEncoder(w).Encode(body)
}

// rateHeaders are the headers of every answer, as GitHub's core limit.
func (g *GitHub) rateHeaders(w http.ResponseWriter, remaining int, wait time.Duration) {
	reset := g.now().Add(time.Hour)
	if wait > 0 {
		reset = g.now().Add(wait)
	}
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	w.Header().Set("X-RateLimit-Resource", "core")
}

func (g *GitHub) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.calls = append(g.calls, r.Method+" "+r.URL.Path)
	g.mu.Unlock()
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		token, ok = strings.CutPrefix(r.Header.Get("Authorization"), "token ")
	}
	g.mu.Lock()
	scopes, known := g.tokens[token]
	g.mu.Unlock()
	if !ok || !known {
		ghError(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	f := g.fail.match(r)
	if f != nil && f.Status != 0 {
		if f.Then != nil {
			f.Then()
		}
		switch f.Status {
		case http.StatusTooManyRequests, http.StatusForbidden:
			wait := max(f.RetryAfter, time.Second)
			g.rateHeaders(w, 0, wait)
			w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
			ghError(w, f.Status, "API rate limit exceeded for user ID 1.")
		default:
			ghError(w, f.Status, "Server Error")
		}
		return
	}
	g.rateHeaders(w, 4999, 0)
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 4 || parts[0] != "repos" || parts[3] != "issues" {
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	repo := strings.ToLower(parts[1] + "/" + parts[2])
	g.mu.Lock()
	push, exists := g.repos[repo]
	g.mu.Unlock()
	if !exists {
		// GitHub hides repositories a token cannot see: 404, not 403.
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	write := r.Method != http.MethodGet
	if write && !slices.Contains(scopes, "repo") {
		ghError(w, http.StatusForbidden, "Resource not accessible by personal access token")
		return
	}
	var status int
	var out any
	switch {
	case len(parts) == 4 && r.Method == http.MethodPost:
		status, out = g.create(r, repo, push)
	case len(parts) == 4 && r.Method == http.MethodGet:
		status, out = g.list(r, repo)
	case len(parts) == 5 || (len(parts) == 6 && parts[5] == "comments"):
		n, err := strconv.ParseInt(parts[4], 10, 64)
		if err != nil {
			ghError(w, http.StatusNotFound, "Not Found")
			return
		}
		status, out = g.one(r, repo, n, len(parts) == 6)
	default:
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	if e, ok := out.(ghErr); ok {
		ghError(w, status, e.msg, e.errs...)
		return
	}
	if f != nil && f.Lost {
		if f.Then != nil {
			f.Then()
		}
		cut(w)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(out)
}

type ghErr struct {
	msg  string
	errs []map[string]string
}

func (g *GitHub) create(r *http.Request, repo string, push bool) (int, any) {
	var in struct {
		Title     *string  `json:"title"`
		Body      string   `json:"body"`
		Labels    []string `json:"labels"`
		Assignees []string `json:"assignees"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return http.StatusBadRequest, ghErr{msg: "Problems parsing JSON"}
	}
	if in.Title == nil || strings.TrimSpace(*in.Title) == "" {
		return http.StatusUnprocessableEntity, ghErr{"Validation Failed", []map[string]string{{"resource": "Issue", "code": "missing_field", "field": "title"}}}
	}
	if len(*in.Title) > 256 {
		return http.StatusUnprocessableEntity, ghErr{"Validation Failed", []map[string]string{{"resource": "Issue", "code": "custom", "field": "title", "message": "title is too long (maximum is 256 characters)"}}}
	}
	if len(in.Body) > 65536 {
		return http.StatusUnprocessableEntity, ghErr{"Validation Failed", []map[string]string{{"resource": "Issue", "code": "custom", "field": "body", "message": "body is too long (maximum is 65536 characters)"}}}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now().UTC()
	is := &GitHubIssue{Repo: repo, Number: int64(len(g.issues[repo]) + 1), Title: *in.Title, Body: in.Body, State: "open", Created: now, Updated: now}
	if push {
		// Without push access GitHub drops labels and assignees silently.
		is.Labels, is.Assignees = in.Labels, in.Assignees
	}
	g.issues[repo] = append(g.issues[repo], is)
	return http.StatusCreated, g.render(is)
}

func (g *GitHub) render(is *GitHubIssue) map[string]any {
	labels := []map[string]any{}
	for _, l := range is.Labels {
		labels = append(labels, map[string]any{"name": l})
	}
	assignees := []map[string]any{}
	for _, a := range is.Assignees {
		assignees = append(assignees, map[string]any{"login": a})
	}
	var reason any
	if is.StateReason != "" {
		reason = is.StateReason
	}
	return map[string]any{
		"url":          fmt.Sprintf("%srepos/%s/issues/%d", g.URL(), is.Repo, is.Number),
		"html_url":     fmt.Sprintf("https://github.com/%s/issues/%d", is.Repo, is.Number),
		"id":           int64(3878718400) + is.Number, // above 2^31, as real IDs are
		"node_id":      fmt.Sprintf("I_kwDOfake%d", is.Number),
		"number":       is.Number,
		"title":        is.Title,
		"body":         is.Body,
		"state":        is.State,
		"state_reason": reason,
		"labels":       labels,
		"assignees":    assignees,
		"comments":     len(is.Comments),
		"created_at":   is.Created.Format(time.RFC3339),
		"updated_at":   is.Updated.Format(time.RFC3339),
	}
}

func (g *GitHub) list(r *http.Request, repo string) (int, any) {
	q := r.URL.Query()
	var since time.Time
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return http.StatusUnprocessableEntity, ghErr{"Validation Failed", []map[string]string{{"resource": "Issue", "code": "invalid", "field": "since"}}}
		}
		since = t
	}
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 || per > 100 {
		per = 30
	}
	page, _ := strconv.Atoi(q.Get("page"))
	if page <= 0 {
		page = 1
	}
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var match []*GitHubIssue
	for _, is := range g.issues[repo] {
		if (state != "all" && is.State != state) || is.Updated.Before(since.Truncate(time.Second)) {
			continue
		}
		match = append(match, is)
	}
	if q.Get("direction") != "asc" {
		slices.Reverse(match)
	}
	out := []map[string]any{}
	for i := (page - 1) * per; i < len(match) && i < page*per; i++ {
		out = append(out, g.render(match[i]))
	}
	return http.StatusOK, out
}

func (g *GitHub) one(r *http.Request, repo string, n int64, comments bool) (int, any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var is *GitHubIssue
	for _, x := range g.issues[repo] {
		if x.Number == n {
			is = x
		}
	}
	if is == nil {
		return http.StatusNotFound, ghErr{msg: "Not Found"}
	}
	switch {
	case comments && r.Method == http.MethodPost:
		var in struct {
			Body string `json:"body"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || strings.TrimSpace(in.Body) == "" {
			return http.StatusUnprocessableEntity, ghErr{"Validation Failed", []map[string]string{{"resource": "IssueComment", "code": "missing_field", "field": "body"}}}
		}
		is.Comments = append(is.Comments, in.Body)
		return http.StatusCreated, map[string]any{"id": len(is.Comments), "body": in.Body}
	case !comments && r.Method == http.MethodGet:
		return http.StatusOK, g.render(is)
	case !comments && r.Method == http.MethodPatch:
		var in struct {
			State       string `json:"state"`
			StateReason string `json:"state_reason"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return http.StatusBadRequest, ghErr{msg: "Problems parsing JSON"}
		}
		if in.State != "" {
			is.State, is.StateReason = in.State, in.StateReason
		}
		is.Updated = g.now().UTC()
		return http.StatusOK, g.render(is)
	}
	return http.StatusNotFound, ghErr{msg: "Not Found"}
}
