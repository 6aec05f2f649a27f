// Package github makes follow-ups' issues in GitHub Issues over the REST
// API, and reads GitHub's issues webhook (hook.go).
package github

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/tracker"
)

// DefaultURL is GitHub's REST API.
const DefaultURL = "https://api.github.com/"

// Scope is what the token needs, for the words of an error.
const Scope = "the repo scope (classic token), or Issues: read and write (fine-grained token)"

// Config is one GitHub repository's settings.
type Config struct {
	Repo   string // "owner/name"
	Labels []string
	Token  string // SITREP_GITHUB_TOKEN
	URL    string // GITHUB_API_URL; "" for DefaultURL
}

// GitHub is the GitHub Issues tracker.
type GitHub struct {
	conf   Config
	base   string
	client *http.Client
	now    func() time.Time
}

// New returns GitHub Issues in conf.Repo.
func New(conf Config, client *http.Client, now func() time.Time) *GitHub {
	base := conf.URL
	if base == "" {
		base = DefaultURL
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return &GitHub{conf: conf, base: base, client: client, now: now}
}

// Name implements tracker.Tracker.
func (g *GitHub) Name() string { return "github" }

// issue is the part of GitHub's issue object Sitrep reads.
type issue struct {
	ID          int64           `json:"id"`
	Number      int64           `json:"number"`
	HTMLURL     string          `json:"html_url"`
	State       string          `json:"state"`
	StateReason string          `json:"state_reason"`
	Body        *string         `json:"body"`
	PullRequest json.RawMessage `json:"pull_request"`
	Assignees   []struct {
		Login string `json:"login"`
	} `json:"assignees"`
}

func (g *GitHub) ref(is issue) incident.IssueRef {
	return incident.IssueRef{Tracker: "github", Key: Key(g.conf.Repo, is.Number), URL: is.HTMLURL}
}

// Key is the key Sitrep gives issue number of repo. GitHub's names are
// not case-sensitive, and a webhook may spell the repository otherwise
// than the config file does.
func Key(repo string, number int64) string {
	return strings.ToLower(repo) + "#" + strconv.FormatInt(number, 10)
}

// Create implements tracker.Tracker.
func (g *GitHub) Create(ctx context.Context, is tracker.Issue) (incident.IssueRef, error) {
	body := map[string]any{"title": is.Title, "body": is.Body}
	if len(g.conf.Labels) > 0 {
		body["labels"] = g.conf.Labels
	}
	if is.Assignee != "" {
		body["assignees"] = []string{is.Assignee}
	}
	var out issue
	if err := g.call(ctx, http.MethodPost, "repos/"+g.conf.Repo+"/issues", body, &out); err != nil {
		return incident.IssueRef{}, err
	}
	if out.Number == 0 || out.HTMLURL == "" {
		return incident.IssueRef{}, &tracker.Error{Tracker: "github", Problem: "GitHub's answer named no issue"}
	}
	return g.ref(out), nil
}

// pages bounds Find's scan: 500 issues updated since the follow-up was
// asked for is more than any repository sees in the minutes a retry takes.
const pages = 5

// Find implements tracker.Tracker. It lists the repository's issues
// updated since the request rather than using the search API, whose index
// lags minutes behind: a crash right after creating must still find the
// issue.
func (g *GitHub) Find(ctx context.Context, marker string, since time.Time) (incident.IssueRef, bool, error) {
	for page := 1; page <= pages; page++ {
		q := url.Values{"state": {"all"}, "sort": {"created"}, "direction": {"desc"}, "per_page": {"100"}, "page": {strconv.Itoa(page)}}
		if !since.IsZero() {
			q.Set("since", since.UTC().Format(time.RFC3339))
		}
		var list []issue
		if err := g.call(ctx, http.MethodGet, "repos/"+g.conf.Repo+"/issues?"+q.Encode(), nil, &list); err != nil {
			return incident.IssueRef{}, false, err
		}
		for _, is := range list {
			if len(is.PullRequest) > 0 && string(is.PullRequest) != "null" {
				continue
			}
			if is.Body != nil && strings.Contains(*is.Body, marker) {
				return g.ref(is), true, nil
			}
		}
		if len(list) < 100 {
			break
		}
	}
	return incident.IssueRef{}, false, nil
}

// number reads the issue number out of a key Sitrep gave.
func (g *GitHub) number(ref incident.IssueRef) (string, error) {
	repo, n, ok := strings.Cut(ref.Key, "#")
	if !ok || repo == "" {
		return "", &tracker.Error{Tracker: "github", Final: true, Problem: fmt.Sprintf("%q is not a GitHub issue key (owner/repo#number)", ref.Key)}
	}
	if _, err := strconv.ParseInt(n, 10, 64); err != nil {
		return "", &tracker.Error{Tracker: "github", Final: true, Problem: fmt.Sprintf("%q is not a GitHub issue key (owner/repo#number)", ref.Key)}
	}
	return "repos/" + repo + "/issues/" + n, nil
}

// Comment implements tracker.Tracker.
func (g *GitHub) Comment(ctx context.Context, ref incident.IssueRef, text string) error {
	path, err := g.number(ref)
	if err != nil {
		return err
	}
	return g.call(ctx, http.MethodPost, path+"/comments", map[string]any{"body": text}, nil)
}

// Close implements tracker.Tracker.
func (g *GitHub) Close(ctx context.Context, ref incident.IssueRef) error {
	path, err := g.number(ref)
	if err != nil {
		return err
	}
	return g.call(ctx, http.MethodPatch, path, map[string]any{"state": "closed", "state_reason": "completed"}, nil)
}

// Done implements tracker.Tracker: closed as completed. An issue closed as
// not planned or a duplicate leaves its follow-up open: the work was not
// done.
func (g *GitHub) Done(ctx context.Context, ref incident.IssueRef) (bool, error) {
	path, err := g.number(ref)
	if err != nil {
		return false, err
	}
	var is issue
	if err := g.call(ctx, http.MethodGet, path, nil, &is); err != nil {
		return false, err
	}
	return is.State == "closed" && (is.StateReason == "" || is.StateReason == "completed"), nil
}

// apiError is GitHub's error body.
type apiError struct {
	Message string `json:"message"`
	Errors  []struct {
		Resource string `json:"resource"`
		Code     string `json:"code"`
		Field    string `json:"field"`
		Message  string `json:"message"`
	} `json:"errors"`
}

func (e apiError) String() string {
	parts := []string{e.Message}
	for _, d := range e.Errors {
		s := strings.TrimSpace(d.Resource + " " + d.Field + " " + d.Code)
		if d.Message != "" {
			s = d.Message
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// call makes one REST call and decodes a 2xx answer into out.
func (g *GitHub) call(ctx context.Context, method, path string, in, out any) error {
	if g.conf.Token == "" {
		return &tracker.Error{Tracker: "github", Final: true, Problem: "SITREP_GITHUB_TOKEN is not set. Set it to a token with " + Scope + ", restart Sitrep, and press Create issue again."}
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("github: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.base+path, body)
	if err != nil {
		return fmt.Errorf("github: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+g.conf.Token)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := g.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return tracker.Network("github", "GitHub", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return tracker.Network("github", "GitHub", err)
	}
	if resp.StatusCode/100 != 2 {
		var ae apiError
		json.Unmarshal(data, &ae)
		return tracker.Classify("github", "GitHub", resp, ae.String(), "SITREP_GITHUB_TOKEN", Scope, g.now())
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &tracker.Error{Tracker: "github", Status: resp.StatusCode, Problem: "GitHub's answer could not be read: " + err.Error()}
	}
	return nil
}
