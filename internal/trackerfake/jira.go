package trackerfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// JiraIssue is an issue the fake Jira keeps.
type JiraIssue struct {
	ID, Key, Project, Type, Summary string
	Description                     json.RawMessage // the ADF document as sent
	Labels                          []string
	Assignee                        string // account ID
	Done                            bool
	Comments                        []json.RawMessage
}

// Jira is a fake Jira Cloud REST API v3 for issues.
type Jira struct {
	srv  *httptest.Server
	fail failures

	mu       sync.Mutex
	email    string
	token    string
	canWrite bool
	projects map[string]bool
	users    map[string]string // email → account ID
	issues   []*JiraIssue
}

// NewJira starts a fake Jira site with project, reached with email and
// token. Stop it with Close.
func NewJira(project, email, token string) *Jira {
	j := &Jira{email: email, token: token, canWrite: true, projects: map[string]bool{project: true}, users: map[string]string{}}
	j.srv = httptest.NewServer(http.HandlerFunc(j.serve))
	return j
}

// URL is the fake site's base URL.
func (j *Jira) URL() string { return j.srv.URL }

// Close stops the fake.
func (j *Jira) Close() { j.srv.Close() }

// Fail makes matching calls fail.
func (j *Jira) Fail(f Failure) { j.fail.add(f) }

// SetToken changes the token the fake takes (the old one is then expired).
func (j *Jira) SetToken(token string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.token = token
}

// DenyCreate takes the Create issues permission away from the account.
func (j *Jira) DenyCreate() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.canWrite = false
}

// AddUser adds an account that user search finds by email.
func (j *Jira) AddUser(email, accountID string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.users[email] = accountID
}

// Issues returns copies of the issues.
func (j *Jira) Issues() []JiraIssue {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []JiraIssue
	for _, is := range j.issues {
		c := *is
		c.Labels, c.Comments = slices.Clone(is.Labels), slices.Clone(is.Comments)
		out = append(out, c)
	}
	return out
}

// SetDone moves an issue to a done status, or back to an open one.
func (j *Jira) SetDone(key string, done bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, is := range j.issues {
		if is.Key == key {
			is.Done = done
		}
	}
}

// JiraHookPayload is the jira:issue_updated webhook Jira sends when an
// issue's status changes.
func JiraHookPayload(key string, done bool) []byte {
	b, _ := json.Marshal(map[string]any{
		"timestamp":             time.Now().UnixMilli(),
		"webhookEvent":          "jira:issue_updated",
		"issue_event_type_name": "issue_generic",
		"user":                  map[string]any{"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Ada"},
		"issue":                 map[string]any{"id": "10000", "key": key, "fields": map[string]any{"status": jiraStatus(done), "summary": "x"}},
		"changelog": map[string]any{"id": "10100", "items": []map[string]any{{
			"field": "status", "fieldtype": "jira", "from": "10000", "fromString": "To Do", "to": "10001", "toString": jiraStatus(done)["name"],
		}}},
	})
	return b
}

func jiraStatus(done bool) map[string]any {
	if done {
		return map[string]any{"name": "Done", "statusCategory": map[string]any{"key": "done", "name": "Done"}}
	}
	return map[string]any{"name": "To Do", "statusCategory": map[string]any{"key": "new", "name": "To Do"}}
}

func jiraError(w http.ResponseWriter, status int, messages []string, fields map[string]string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	if messages == nil {
		messages = []string{}
	}
	if fields == nil {
		fields = map[string]string{}
	}
	json.NewEncoder(w).Encode(map[string]any{"errorMessages": messages, "errors": fields})
}

var jqlRE = regexp.MustCompile(`^project = "([^"]+)" AND labels = "([^"]+)"$`)

func (j *Jira) serve(w http.ResponseWriter, r *http.Request) {
	j.mu.Lock()
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(j.email+":"+j.token))
	j.mu.Unlock()
	if r.Header.Get("Authorization") != want {
		jiraError(w, http.StatusUnauthorized, []string{"Client must be authenticated to access this resource."}, nil)
		return
	}
	f := j.fail.match(r)
	if f != nil && f.Status != 0 {
		if f.Then != nil {
			f.Then()
		}
		if f.Status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", strconv.Itoa(int(max(f.RetryAfter, time.Second)/time.Second)))
			w.Header().Set("X-RateLimit-Reason", "jira-quota-tenant-based")
		}
		jiraError(w, f.Status, []string{http.StatusText(f.Status)}, nil)
		return
	}
	status, out := j.route(r)
	if e, ok := out.(jiraErr); ok {
		jiraError(w, status, e.messages, e.fields)
		return
	}
	if f != nil && f.Lost {
		if f.Then != nil {
			f.Then()
		}
		cut(w)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	if out != nil {
		json.NewEncoder(w).Encode(out)
	}
}

type jiraErr struct {
	messages []string
	fields   map[string]string
}

func (j *Jira) route(r *http.Request) (int, any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	p := r.URL.Path
	switch {
	case p == "/rest/api/3/issue" && r.Method == http.MethodPost:
		return j.create(r)
	case p == "/rest/api/3/search/jql" && r.Method == http.MethodPost:
		var in struct {
			JQL string `json:"jql"`
		}
		json.NewDecoder(r.Body).Decode(&in)
		m := jqlRE.FindStringSubmatch(in.JQL)
		if m == nil {
			return http.StatusBadRequest, jiraErr{messages: []string{"Error in the JQL Query: " + in.JQL}}
		}
		if !j.projects[m[1]] {
			return http.StatusBadRequest, jiraErr{messages: []string{fmt.Sprintf("The value '%s' does not exist for the field 'project'.", m[1])}}
		}
		issues := []map[string]any{}
		for _, is := range j.issues {
			if is.Project == m[1] && slices.Contains(is.Labels, m[2]) {
				issues = append(issues, map[string]any{"id": is.ID, "key": is.Key})
			}
		}
		return http.StatusOK, map[string]any{"issues": issues, "isLast": true}
	case p == "/rest/api/3/user/search" && r.Method == http.MethodGet:
		users := []map[string]any{}
		if id, ok := j.users[r.URL.Query().Get("query")]; ok {
			users = append(users, map[string]any{"accountId": id, "accountType": "atlassian", "emailAddress": r.URL.Query().Get("query"), "active": true})
		}
		return http.StatusOK, users
	case strings.HasPrefix(p, "/rest/api/3/issue/"):
		rest := strings.Split(strings.TrimPrefix(p, "/rest/api/3/issue/"), "/")
		var is *JiraIssue
		for _, x := range j.issues {
			if x.Key == rest[0] || x.ID == rest[0] {
				is = x
			}
		}
		if is == nil {
			return http.StatusNotFound, jiraErr{messages: []string{"Issue does not exist or you do not have permission to see it."}}
		}
		switch {
		case len(rest) == 1 && r.Method == http.MethodGet:
			return http.StatusOK, map[string]any{"id": is.ID, "key": is.Key, "fields": map[string]any{"status": jiraStatus(is.Done)}}
		case len(rest) == 2 && rest[1] == "comment" && r.Method == http.MethodPost:
			var in struct {
				Body json.RawMessage `json:"body"`
			}
			json.NewDecoder(r.Body).Decode(&in)
			if e := checkADF(in.Body); e != "" {
				return http.StatusBadRequest, jiraErr{fields: map[string]string{"comment": e}}
			}
			is.Comments = append(is.Comments, in.Body)
			return http.StatusCreated, map[string]any{"id": strconv.Itoa(10000 + len(is.Comments))}
		case len(rest) == 2 && rest[1] == "transitions" && r.Method == http.MethodGet:
			return http.StatusOK, map[string]any{"transitions": []map[string]any{
				{"id": "11", "name": "To Do", "to": jiraStatus(false)},
				{"id": "31", "name": "Done", "to": jiraStatus(true)},
			}}
		case len(rest) == 2 && rest[1] == "transitions" && r.Method == http.MethodPost:
			var in struct {
				Transition struct {
					ID string `json:"id"`
				} `json:"transition"`
			}
			json.NewDecoder(r.Body).Decode(&in)
			switch in.Transition.ID {
			case "11":
				is.Done = false
			case "31":
				is.Done = true
			default:
				return http.StatusBadRequest, jiraErr{messages: []string{"Transition id '" + in.Transition.ID + "' is not valid for this issue."}}
			}
			return http.StatusNoContent, nil
		}
	}
	return http.StatusNotFound, jiraErr{messages: []string{"null for uri: " + p}}
}

// checkADF checks what Jira checks of a document: a doc of version 1
// whose text nodes are not empty. It returns the error, or "".
func checkADF(raw json.RawMessage) string {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil || doc["type"] != "doc" || doc["version"] != float64(1) {
		return "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
	}
	var walk func(n any) string
	walk = func(n any) string {
		m, _ := n.(map[string]any)
		if m["type"] == "text" {
			if t, _ := m["text"].(string); t == "" {
				return "INVALID_INPUT: text nodes must not be empty"
			}
		}
		kids, _ := m["content"].([]any)
		for _, k := range kids {
			if e := walk(k); e != "" {
				return e
			}
		}
		return ""
	}
	return walk(doc)
}

func (j *Jira) create(r *http.Request) (int, any) {
	var in struct {
		Fields struct {
			Project struct {
				Key string `json:"key"`
			} `json:"project"`
			IssueType struct {
				Name string `json:"name"`
			} `json:"issuetype"`
			Summary     string          `json:"summary"`
			Labels      []string        `json:"labels"`
			Description json.RawMessage `json:"description"`
			Assignee    *struct {
				AccountID string `json:"accountId"`
			} `json:"assignee"`
		} `json:"fields"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return http.StatusBadRequest, jiraErr{messages: []string{"Unexpected character in the request body"}}
	}
	f := in.Fields
	errs := map[string]string{}
	if !j.projects[f.Project.Key] {
		errs["project"] = "valid project is required"
	}
	if f.IssueType.Name != "Task" && f.IssueType.Name != "Bug" {
		errs["issuetype"] = "valid issue type is required"
	}
	switch {
	case strings.TrimSpace(f.Summary) == "":
		errs["summary"] = "You must specify a summary of the issue."
	case len([]rune(f.Summary)) > 255:
		errs["summary"] = "Summary must be less than 255 characters."
	}
	for _, l := range f.Labels {
		if strings.ContainsAny(l, " \t") || l == "" || len(l) > 255 {
			errs["labels"] = "The label '" + l + "' contains spaces which is invalid."
		}
	}
	if len(f.Description) > 0 {
		if e := checkADF(f.Description); e != "" {
			errs["description"] = e
		}
	}
	if f.Assignee != nil && !slices.ContainsFunc(mapValues(j.users), func(id string) bool { return id == f.Assignee.AccountID }) {
		errs["assignee"] = "Specified user does not exist or you do not have required permissions"
	}
	if len(errs) > 0 {
		return http.StatusBadRequest, jiraErr{fields: errs}
	}
	if !j.canWrite {
		return http.StatusForbidden, jiraErr{messages: []string{"You do not have permission to create issues in this project."}}
	}
	n := len(j.issues) + 1
	is := &JiraIssue{ID: strconv.Itoa(10000 + n), Key: fmt.Sprintf("%s-%d", f.Project.Key, n), Project: f.Project.Key, Type: f.IssueType.Name,
		Summary: f.Summary, Description: f.Description, Labels: f.Labels}
	if f.Assignee != nil {
		is.Assignee = f.Assignee.AccountID
	}
	j.issues = append(j.issues, is)
	return http.StatusCreated, map[string]any{"id": is.ID, "key": is.Key, "self": j.srv.URL + "/rest/api/3/issue/" + is.ID}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
