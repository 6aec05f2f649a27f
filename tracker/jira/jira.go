// Package jira makes follow-ups' issues in Jira Cloud over REST API v3
// (descriptions in Atlassian Document Format), and reads Jira's issue
// webhook (hook.go).
package jira

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/tracker"
)

// Scope is what the token's account needs, for the words of an error.
const Scope = "Browse projects and Create issues in the project (and Transition issues for close_on_done)"

// Config is one Jira project's settings.
type Config struct {
	Site      string // https://acme.atlassian.net: links to issues use it
	Project   string // the project key, OPS
	IssueType string // "Task" when ""
	Labels    []string
	Email     string // SITREP_JIRA_EMAIL
	Token     string // SITREP_JIRA_TOKEN
	URL       string // JIRA_API_URL: the API's base; Site when ""
}

// Jira is the Jira Cloud tracker.
type Jira struct {
	conf   Config
	base   string
	client *http.Client
	now    func() time.Time
}

// New returns Jira Cloud's project conf.Project.
func New(conf Config, client *http.Client, now func() time.Time) *Jira {
	conf.Site = strings.TrimSuffix(conf.Site, "/")
	if conf.IssueType == "" {
		conf.IssueType = "Task"
	}
	base := conf.URL
	if base == "" {
		base = conf.Site
	}
	return &Jira{conf: conf, base: strings.TrimSuffix(base, "/") + "/", client: client, now: now}
}

// Name implements tracker.Tracker.
func (j *Jira) Name() string { return "jira" }

// Label is the label an issue for marker carries: Jira finds issues by
// label exactly, where a search of the text would match words.
func Label(marker string) string {
	return strings.NewReplacer(":", "-", "/", "-").Replace(marker)
}

func (j *Jira) ref(key string) incident.IssueRef {
	return incident.IssueRef{Tracker: "jira", Key: key, URL: j.conf.Site + "/browse/" + url.PathEscape(key)}
}

// Create implements tracker.Tracker.
func (j *Jira) Create(ctx context.Context, is tracker.Issue) (incident.IssueRef, error) {
	fields := map[string]any{
		"project":     map[string]string{"key": j.conf.Project},
		"issuetype":   map[string]string{"name": j.conf.IssueType},
		"summary":     is.Title,
		"labels":      append(append([]string{}, j.conf.Labels...), Label(is.Marker)),
		"description": ADF(is.Body),
	}
	account := is.Assignee
	if account == "" && is.OwnerEmail != "" {
		account = j.accountByEmail(ctx, is.OwnerEmail)
	}
	if account != "" {
		fields["assignee"] = map[string]string{"accountId": account}
	}
	var out struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if err := j.call(ctx, http.MethodPost, "rest/api/3/issue", map[string]any{"fields": fields}, &out); err != nil {
		return incident.IssueRef{}, err
	}
	if out.Key == "" {
		return incident.IssueRef{}, &tracker.Error{Tracker: "jira", Problem: "Jira's answer named no issue"}
	}
	return j.ref(out.Key), nil
}

// accountByEmail finds the Jira account of an email, or "" (the issue is
// then made unassigned: an owner Jira does not know is no reason to fail).
func (j *Jira) accountByEmail(ctx context.Context, email string) string {
	var users []struct {
		AccountID    string `json:"accountId"`
		EmailAddress string `json:"emailAddress"`
		AccountType  string `json:"accountType"`
	}
	if err := j.call(ctx, http.MethodGet, "rest/api/3/user/search?query="+url.QueryEscape(email), nil, &users); err != nil {
		return ""
	}
	for _, u := range users {
		if strings.EqualFold(u.EmailAddress, email) || (len(users) == 1 && u.AccountType == "atlassian") {
			return u.AccountID
		}
	}
	return ""
}

// Find implements tracker.Tracker, by the marker's label.
func (j *Jira) Find(ctx context.Context, marker string, _ time.Time) (incident.IssueRef, bool, error) {
	q := map[string]any{
		"jql":        fmt.Sprintf(`project = "%s" AND labels = "%s"`, j.conf.Project, Label(marker)),
		"fields":     []string{"summary"},
		"maxResults": 1,
	}
	var out struct {
		Issues []struct {
			Key string `json:"key"`
		} `json:"issues"`
	}
	if err := j.call(ctx, http.MethodPost, "rest/api/3/search/jql", q, &out); err != nil {
		return incident.IssueRef{}, false, err
	}
	if len(out.Issues) == 0 {
		return incident.IssueRef{}, false, nil
	}
	return j.ref(out.Issues[0].Key), true, nil
}

// Comment implements tracker.Tracker.
func (j *Jira) Comment(ctx context.Context, ref incident.IssueRef, text string) error {
	return j.call(ctx, http.MethodPost, "rest/api/3/issue/"+url.PathEscape(ref.Key)+"/comment", map[string]any{"body": ADF(text)}, nil)
}

// Close implements tracker.Tracker: the first transition into a status
// of the done category, since workflows name their statuses freely.
func (j *Jira) Close(ctx context.Context, ref incident.IssueRef) error {
	var out struct {
		Transitions []struct {
			ID string `json:"id"`
			To struct {
				StatusCategory struct {
					Key string `json:"key"`
				} `json:"statusCategory"`
			} `json:"to"`
		} `json:"transitions"`
	}
	path := "rest/api/3/issue/" + url.PathEscape(ref.Key) + "/transitions"
	if err := j.call(ctx, http.MethodGet, path, nil, &out); err != nil {
		return err
	}
	for _, t := range out.Transitions {
		if t.To.StatusCategory.Key == "done" {
			return j.call(ctx, http.MethodPost, path, map[string]any{"transition": map[string]string{"id": t.ID}}, nil)
		}
	}
	return &tracker.Error{Tracker: "jira", Final: true, Problem: "the workflow of " + ref.Key + " offers no transition to a done status"}
}

// Done implements tracker.Tracker: the issue's status is in the done
// category.
func (j *Jira) Done(ctx context.Context, ref incident.IssueRef) (bool, error) {
	var out struct {
		Fields struct {
			Status status `json:"status"`
		} `json:"fields"`
	}
	if err := j.call(ctx, http.MethodGet, "rest/api/3/issue/"+url.PathEscape(ref.Key)+"?fields=status", nil, &out); err != nil {
		return false, err
	}
	return out.Fields.Status.StatusCategory.Key == "done", nil
}

type status struct {
	StatusCategory struct {
		Key string `json:"key"`
	} `json:"statusCategory"`
}

// apiError is Jira's error body.
type apiError struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

func (e apiError) String() string {
	parts := append([]string{}, e.ErrorMessages...)
	for f, m := range e.Errors {
		parts = append(parts, f+": "+m)
	}
	return strings.Join(parts, "; ")
}

func (j *Jira) call(ctx context.Context, method, path string, in, out any) error {
	if j.conf.Email == "" || j.conf.Token == "" {
		return &tracker.Error{Tracker: "jira", Final: true, Problem: "SITREP_JIRA_EMAIL and SITREP_JIRA_TOKEN must both be set (the account's email and an API token of it). Set them, restart Sitrep, and press Create issue again."}
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("jira: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, j.base+path, body)
	if err != nil {
		return fmt.Errorf("jira: %w", err)
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(j.conf.Email+":"+j.conf.Token)))
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := j.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return tracker.Network("jira", "Jira", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return tracker.Network("jira", "Jira", err)
	}
	if resp.StatusCode/100 != 2 {
		var ae apiError
		json.Unmarshal(data, &ae)
		return tracker.Classify("jira", "Jira", resp, ae.String(), "SITREP_JIRA_TOKEN", Scope, j.now())
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &tracker.Error{Tracker: "jira", Status: resp.StatusCode, Problem: "Jira's answer could not be read: " + err.Error()}
	}
	return nil
}
