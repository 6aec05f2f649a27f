// Package linear makes follow-ups' issues in Linear over its GraphQL API,
// and reads Linear's issue webhook (hook.go).
package linear

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/tracker"
)

// DefaultURL is Linear's GraphQL endpoint.
const DefaultURL = "https://api.linear.app/graphql"

// Scope is what the key needs, for the words of an error.
const Scope = "a personal API key of a member of the team with the Read and Write permissions"

// Config is one Linear team's settings.
type Config struct {
	Team     string   // the team's UUID
	LabelIDs []string // label UUIDs, optional
	Token    string   // SITREP_LINEAR_TOKEN: a personal API key, sent without Bearer
	URL      string   // LINEAR_API_URL; "" for DefaultURL
}

// Linear is the Linear tracker.
type Linear struct {
	conf   Config
	client *http.Client
	now    func() time.Time
}

// New returns Linear's team conf.Team.
func New(conf Config, client *http.Client, now func() time.Time) *Linear {
	if conf.URL == "" {
		conf.URL = DefaultURL
	}
	return &Linear{conf: conf, client: client, now: now}
}

// Name implements tracker.Tracker.
func (l *Linear) Name() string { return "linear" }

type issueNode struct {
	ID         string `json:"id"`
	Identifier string `json:"identifier"`
	URL        string `json:"url"`
	State      struct {
		Type string `json:"type"`
	} `json:"state"`
}

func ref(n issueNode) incident.IssueRef {
	return incident.IssueRef{Tracker: "linear", Key: n.Identifier, URL: n.URL}
}

const createIssue = `mutation IssueCreate($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { id identifier url } } }`

// Create implements tracker.Tracker.
func (l *Linear) Create(ctx context.Context, is tracker.Issue) (incident.IssueRef, error) {
	input := map[string]any{"teamId": l.conf.Team, "title": is.Title, "description": is.Body}
	if len(l.conf.LabelIDs) > 0 {
		input["labelIds"] = l.conf.LabelIDs
	}
	assignee := is.Assignee
	if assignee == "" && is.OwnerEmail != "" {
		assignee = l.userByEmail(ctx, is.OwnerEmail)
	}
	if assignee != "" {
		input["assigneeId"] = assignee
	}
	var out struct {
		IssueCreate struct {
			Success bool      `json:"success"`
			Issue   issueNode `json:"issue"`
		} `json:"issueCreate"`
	}
	if err := l.query(ctx, createIssue, map[string]any{"input": input}, &out); err != nil {
		return incident.IssueRef{}, err
	}
	if !out.IssueCreate.Success || out.IssueCreate.Issue.Identifier == "" {
		return incident.IssueRef{}, &tracker.Error{Tracker: "linear", Problem: "Linear did not report the issue made"}
	}
	return ref(out.IssueCreate.Issue), nil
}

const usersByEmail = `query Users($email: String!) { users(filter: {email: {eq: $email}}) { nodes { id } } }`

// userByEmail finds the Linear user of an email, or "".
func (l *Linear) userByEmail(ctx context.Context, email string) string {
	var out struct {
		Users struct {
			Nodes []struct {
				ID string `json:"id"`
			} `json:"nodes"`
		} `json:"users"`
	}
	if err := l.query(ctx, usersByEmail, map[string]any{"email": email}, &out); err != nil || len(out.Users.Nodes) != 1 {
		return ""
	}
	return out.Users.Nodes[0].ID
}

const findIssue = `query Find($team: ID!, $marker: String!) { issues(first: 1, includeArchived: true, filter: {team: {id: {eq: $team}}, description: {contains: $marker}}) { nodes { id identifier url } } }`

// Find implements tracker.Tracker, by the marker in the description.
func (l *Linear) Find(ctx context.Context, marker string, _ time.Time) (incident.IssueRef, bool, error) {
	var out struct {
		Issues struct {
			Nodes []issueNode `json:"nodes"`
		} `json:"issues"`
	}
	if err := l.query(ctx, findIssue, map[string]any{"team": l.conf.Team, "marker": marker}, &out); err != nil {
		return incident.IssueRef{}, false, err
	}
	if len(out.Issues.Nodes) == 0 {
		return incident.IssueRef{}, false, nil
	}
	return ref(out.Issues.Nodes[0]), true, nil
}

const (
	getIssue      = `query Issue($id: String!) { issue(id: $id) { id identifier url state { type } } }`
	createComment = `mutation Comment($input: CommentCreateInput!) { commentCreate(input: $input) { success } }`
	teamStates    = `query States($team: String!) { team(id: $team) { states { nodes { id type position } } } }`
	updateIssue   = `mutation Update($id: String!, $input: IssueUpdateInput!) { issueUpdate(id: $id, input: $input) { success } }`
)

// Comment implements tracker.Tracker.
func (l *Linear) Comment(ctx context.Context, r incident.IssueRef, text string) error {
	var out struct {
		CommentCreate struct {
			Success bool `json:"success"`
		} `json:"commentCreate"`
	}
	return l.query(ctx, createComment, map[string]any{"input": map[string]any{"issueId": r.Key, "body": text}}, &out)
}

// Close implements tracker.Tracker: the team's first state of type
// completed.
func (l *Linear) Close(ctx context.Context, r incident.IssueRef) error {
	var out struct {
		Team struct {
			States struct {
				Nodes []struct {
					ID       string  `json:"id"`
					Type     string  `json:"type"`
					Position float64 `json:"position"`
				} `json:"nodes"`
			} `json:"states"`
		} `json:"team"`
	}
	if err := l.query(ctx, teamStates, map[string]any{"team": l.conf.Team}, &out); err != nil {
		return err
	}
	state, pos := "", 0.0
	for _, s := range out.Team.States.Nodes {
		if s.Type == "completed" && (state == "" || s.Position < pos) {
			state, pos = s.ID, s.Position
		}
	}
	if state == "" {
		return &tracker.Error{Tracker: "linear", Final: true, Problem: "the team has no workflow state of type completed"}
	}
	var upd struct{}
	return l.query(ctx, updateIssue, map[string]any{"id": r.Key, "input": map[string]any{"stateId": state}}, &upd)
}

// Done implements tracker.Tracker: the issue's state is of type
// completed. Canceled is not done: the work was dropped.
func (l *Linear) Done(ctx context.Context, r incident.IssueRef) (bool, error) {
	var out struct {
		Issue *issueNode `json:"issue"`
	}
	if err := l.query(ctx, getIssue, map[string]any{"id": r.Key}, &out); err != nil {
		return false, err
	}
	return out.Issue != nil && out.Issue.State.Type == "completed", nil
}

// gqlError is one error of a GraphQL answer.
type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code                   string `json:"code"`
		UserPresentableMessage string `json:"userPresentableMessage"`
	} `json:"extensions"`
}

// query runs one GraphQL operation. Linear answers errors with HTTP 200
// or 400 alike, so the errors array decides, and its codes sort them.
func (l *Linear) query(ctx context.Context, q string, vars map[string]any, out any) error {
	if l.conf.Token == "" {
		return &tracker.Error{Tracker: "linear", Final: true, Problem: "SITREP_LINEAR_TOKEN is not set. Set it to " + Scope + ", restart Sitrep, and press Create issue again."}
	}
	b, err := json.Marshal(map[string]any{"query": q, "variables": vars})
	if err != nil {
		return fmt.Errorf("linear: encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.conf.URL, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("linear: %w", err)
	}
	// Personal API keys go bare, without Bearer; OAuth tokens with it.
	key := l.conf.Token
	if strings.HasPrefix(key, "lin_oauth_") {
		key = "Bearer " + key
	}
	req.Header.Set("Authorization", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return tracker.Network("linear", "Linear", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return tracker.Network("linear", "Linear", err)
	}
	var ans struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	jerr := json.Unmarshal(data, &ans)
	if len(ans.Errors) > 0 {
		return l.classify(resp, ans.Errors[0])
	}
	if resp.StatusCode/100 != 2 {
		return tracker.Classify("linear", "Linear", resp, "", "SITREP_LINEAR_TOKEN", Scope, l.now())
	}
	if jerr != nil {
		return &tracker.Error{Tracker: "linear", Status: resp.StatusCode, Problem: "Linear's answer could not be read: " + jerr.Error()}
	}
	if err := json.Unmarshal(ans.Data, out); err != nil {
		return &tracker.Error{Tracker: "linear", Status: resp.StatusCode, Problem: "Linear's answer could not be read: " + err.Error()}
	}
	return nil
}

// classify sorts a GraphQL error by its code, as an HTTP status would be.
func (l *Linear) classify(resp *http.Response, e gqlError) error {
	msg := e.Extensions.UserPresentableMessage
	if msg == "" {
		msg = e.Message
	}
	status := resp.StatusCode
	switch e.Extensions.Code {
	case "RATELIMITED":
		status = http.StatusTooManyRequests
	case "AUTHENTICATION_ERROR":
		status = http.StatusUnauthorized
	case "FORBIDDEN":
		status = http.StatusForbidden
	case "INTERNAL_SERVER_ERROR":
		status = http.StatusInternalServerError
	case "ENTITY_NOT_FOUND":
		status = http.StatusNotFound
	default:
		if status/100 == 2 || status == http.StatusBadRequest {
			status = http.StatusUnprocessableEntity
		}
	}
	fake := &http.Response{StatusCode: status, Header: resp.Header.Clone()}
	if status == http.StatusTooManyRequests && fake.Header.Get("Retry-After") == "" {
		// Linear says when the budget refills in milliseconds.
		if ms, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Requests-Reset"), 10, 64); err == nil {
			if d := time.UnixMilli(ms).Sub(l.now()); d > 0 {
				fake.Header.Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
			}
		}
	}
	te := tracker.Classify("linear", "Linear", fake, msg, "SITREP_LINEAR_TOKEN", Scope, l.now())
	te.Status = resp.StatusCode
	return te
}
