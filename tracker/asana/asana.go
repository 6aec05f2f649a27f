// Package asana makes follow-ups' tasks in an Asana project over the REST
// API (bodies wrapped in {"data": …}), and reads Asana's webhook with its
// handshake (hook.go).
package asana

import (
	"bytes"
	"context"
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

// DefaultURL is Asana's REST API.
const DefaultURL = "https://app.asana.com/api/1.0/"

// Scope is what the token needs, for the words of an error.
const Scope = "access to the project (a personal access token of a project member, or a service account token; scoped tokens need tasks:read, tasks:write and stories:write)"

// Config is one Asana project's settings.
type Config struct {
	Project string // the project's gid
	Token   string // SITREP_ASANA_TOKEN
	URL     string // ASANA_API_URL; "" for DefaultURL
}

// Asana is the Asana tracker.
type Asana struct {
	conf   Config
	base   string
	client *http.Client
	now    func() time.Time
}

// New returns Asana's project conf.Project.
func New(conf Config, client *http.Client, now func() time.Time) *Asana {
	base := conf.URL
	if base == "" {
		base = DefaultURL
	}
	return &Asana{conf: conf, base: strings.TrimSuffix(base, "/") + "/", client: client, now: now}
}

// Name implements tracker.Tracker.
func (a *Asana) Name() string { return "asana" }

type task struct {
	GID          string `json:"gid"` // a string: gids overflow float64
	PermalinkURL string `json:"permalink_url"`
	Notes        string `json:"notes"`
	Completed    bool   `json:"completed"`
}

func ref(t task) incident.IssueRef {
	return incident.IssueRef{Tracker: "asana", Key: t.GID, URL: t.PermalinkURL}
}

// Create implements tracker.Tracker. The owner is assigned by email,
// which Asana takes as it is.
func (a *Asana) Create(ctx context.Context, is tracker.Issue) (incident.IssueRef, error) {
	data := map[string]any{"name": is.Title, "notes": is.Text, "projects": []string{a.conf.Project}}
	if is.Text == "" {
		data["notes"] = is.Body
	}
	switch {
	case is.Assignee != "":
		data["assignee"] = is.Assignee
	case is.OwnerEmail != "":
		data["assignee"] = is.OwnerEmail
	}
	var out task
	err := a.call(ctx, http.MethodPost, "tasks?opt_fields=gid,permalink_url,completed", data, &out)
	if te, ok := tracker.AsError(err); ok && te.Status == http.StatusBadRequest && data["assignee"] != nil && strings.Contains(te.Problem, "assignee") {
		// An owner Asana does not know is no reason to make no task.
		delete(data, "assignee")
		err = a.call(ctx, http.MethodPost, "tasks?opt_fields=gid,permalink_url,completed", data, &out)
	}
	if err != nil {
		return incident.IssueRef{}, err
	}
	if out.GID == "" {
		return incident.IssueRef{}, &tracker.Error{Tracker: "asana", Problem: "Asana's answer named no task"}
	}
	return ref(out), nil
}

// Find implements tracker.Tracker: the project's tasks changed since the
// request are scanned for the marker in their notes (Asana's search is
// for premium workspaces only).
func (a *Asana) Find(ctx context.Context, marker string, since time.Time) (incident.IssueRef, bool, error) {
	q := url.Values{"project": {a.conf.Project}, "opt_fields": {"gid,permalink_url,notes,completed"}, "limit": {"100"}}
	if !since.IsZero() {
		q.Set("modified_since", since.UTC().Format(time.RFC3339))
	}
	for range 20 {
		var out []task
		var next struct {
			Offset string `json:"offset"`
		}
		if err := a.callPage(ctx, "tasks?"+q.Encode(), &out, &next); err != nil {
			return incident.IssueRef{}, false, err
		}
		for _, t := range out {
			if strings.Contains(t.Notes, marker) {
				return ref(t), true, nil
			}
		}
		if next.Offset == "" {
			break
		}
		q.Set("offset", next.Offset)
	}
	return incident.IssueRef{}, false, nil
}

// Comment implements tracker.Tracker: a story on the task.
func (a *Asana) Comment(ctx context.Context, r incident.IssueRef, text string) error {
	return a.call(ctx, http.MethodPost, "tasks/"+url.PathEscape(r.Key)+"/stories", map[string]any{"text": text}, nil)
}

// Close implements tracker.Tracker.
func (a *Asana) Close(ctx context.Context, r incident.IssueRef) error {
	return a.call(ctx, http.MethodPut, "tasks/"+url.PathEscape(r.Key), map[string]any{"completed": true}, nil)
}

// Done implements tracker.Tracker.
func (a *Asana) Done(ctx context.Context, r incident.IssueRef) (bool, error) {
	var t task
	if err := a.call(ctx, http.MethodGet, "tasks/"+url.PathEscape(r.Key)+"?opt_fields=completed", nil, &t); err != nil {
		return false, err
	}
	return t.Completed, nil
}

func (a *Asana) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(map[string]any{"data": in})
		if err != nil {
			return fmt.Errorf("asana: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	return a.do(ctx, method, path, body, out, nil)
}

func (a *Asana) callPage(ctx context.Context, path string, out, next any) error {
	return a.do(ctx, http.MethodGet, path, nil, out, next)
}

func (a *Asana) do(ctx context.Context, method, path string, body io.Reader, out, next any) error {
	if a.conf.Token == "" {
		return &tracker.Error{Tracker: "asana", Final: true, Problem: "SITREP_ASANA_TOKEN is not set. Set it to a token with " + Scope + ", restart Sitrep, and press Create issue again."}
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return fmt.Errorf("asana: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+a.conf.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return tracker.Network("asana", "Asana", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return tracker.Network("asana", "Asana", err)
	}
	if resp.StatusCode/100 != 2 {
		var ae struct {
			Errors []struct {
				Message string `json:"message"`
			} `json:"errors"`
		}
		json.Unmarshal(data, &ae)
		var msgs []string
		for _, e := range ae.Errors {
			msgs = append(msgs, e.Message)
		}
		return tracker.Classify("asana", "Asana", resp, strings.Join(msgs, "; "), "SITREP_ASANA_TOKEN", Scope, a.now())
	}
	if out == nil {
		return nil
	}
	var wrap struct {
		Data     json.RawMessage `json:"data"`
		NextPage json.RawMessage `json:"next_page"`
	}
	if err := json.Unmarshal(data, &wrap); err == nil {
		err = json.Unmarshal(wrap.Data, out)
		if err == nil && next != nil && len(wrap.NextPage) > 0 && string(wrap.NextPage) != "null" {
			err = json.Unmarshal(wrap.NextPage, next)
		}
		if err == nil {
			return nil
		}
	}
	return &tracker.Error{Tracker: "asana", Status: resp.StatusCode, Problem: "Asana's answer could not be read"}
}
