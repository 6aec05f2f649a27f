// Package tracker takes follow-ups to the issue trackers where teams do the
// work (GitHub Issues, Jira Cloud, Asana, Linear) and back. Each tracker is
// a package under tracker that implements Tracker over its own API; this
// package holds what they share: the interface, the issue Sitrep asks for,
// the marker that lets Sitrep find an issue it made, and the sorting of
// failures into those worth retrying and those a person must fix.
//
// Issues are made by Export, an integration of the notify engine: a request
// for an issue is recorded on the follow-up first (incident.Service
// ExportFollowUp), then delivered, so a crash or a lost answer neither
// drops it nor makes a second issue: before making one, Export looks for
// an issue carrying the follow-up's marker.
package tracker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// Tracker is one issue tracker's API, as Sitrep uses it.
type Tracker interface {
	// Name is the tracker's name in config and on follow-ups ("github").
	Name() string
	// Find returns the issue whose text carries marker, if there is one.
	// since is no later than when the issue can have been made, for
	// trackers that can only scan recent issues.
	Find(ctx context.Context, marker string, since time.Time) (incident.IssueRef, bool, error)
	// Create makes the issue and returns where it is.
	Create(ctx context.Context, is Issue) (incident.IssueRef, error)
	// Comment adds a comment (Markdown) to the issue.
	Comment(ctx context.Context, ref incident.IssueRef, text string) error
	// Close closes the issue as done.
	Close(ctx context.Context, ref incident.IssueRef) error
	// Done reports whether the issue is closed as done: for the periodic
	// check that catches the webhooks a tracker failed to deliver.
	Done(ctx context.Context, ref incident.IssueRef) (bool, error)
}

// Issue is what Sitrep asks a tracker to make for a follow-up.
type Issue struct {
	Title string
	// Body is Markdown (Linear and GitHub take it as it is; Jira turns it
	// into a document, Asana into plain notes). It ends with the marker.
	Body string
	// Text is the body as plain text, for trackers that take no markup.
	Text   string
	Marker string
	// Assignee is the owner as the tracker names people (a login, an
	// account ID); "" when the owner could not be mapped.
	Assignee string
	// OwnerEmail is the owner's email from Slack, for trackers that find
	// people by it; "" when unknown.
	OwnerEmail string
	Labels     []string
}

// Marker is the text an issue made for follow-up id of the incident
// carries, by which Sitrep finds it again after a crash or a lost answer.
func Marker(incidentID string, followUpID int) string {
	return "sitrep-followup:" + incidentID + "/" + strconv.Itoa(followUpID)
}

// Error is a tracker's refusal or trouble, sorted.
type Error struct {
	Tracker string
	Status  int // the HTTP status; 0 for a network failure or a GraphQL error
	// Final means trying again will not help until a person fixes
	// something (a token, a scope, a project name).
	Final bool
	// Wait is how long the tracker asked to be left alone (a rate limit).
	Wait time.Duration
	// Problem says in words what went wrong and what to do; it never
	// holds a token.
	Problem string
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s: HTTP %d: %s", e.Tracker, e.Status, e.Problem)
	}
	return e.Tracker + ": " + e.Problem
}

// AsError returns err's *Error, if it has one.
func AsError(err error) (*Error, bool) {
	var te *Error
	ok := errors.As(err, &te)
	return te, ok
}

// Classify sorts an HTTP answer that is not a success into an *Error.
// title is the tracker as people write it; token the setting that holds
// its token, and scope what the token needs, for the words; message the
// tracker's own explanation, if any.
func Classify(name, title string, resp *http.Response, message, token, scope string, now time.Time) *Error {
	e := &Error{Tracker: name, Status: resp.StatusCode}
	msg := ""
	if message = strings.TrimSpace(message); message != "" {
		msg = " (" + title + " said: " + oneLine(message, 200) + ")"
	}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		e.Wait = RetryAfter(resp.Header, now)
		e.Problem = title + " is rate limiting Sitrep" + msg
	case s >= 500:
		e.Problem = title + " is having trouble" + msg
	case s == http.StatusUnauthorized:
		e.Final = true
		e.Problem = title + " refused the token" + msg + ": it is wrong, expired or revoked. Set " + token + " to a valid token with " + scope + ", restart Sitrep, and press Create issue again."
	case s == http.StatusForbidden:
		if w := RetryAfter(resp.Header, now); w > 0 || resp.Header.Get("X-Ratelimit-Remaining") == "0" {
			// GitHub answers a secondary rate limit with 403.
			e.Wait = max(w, time.Minute)
			e.Problem = title + " is rate limiting Sitrep" + msg
			return e
		}
		e.Final = true
		e.Problem = title + " did not allow it" + msg + ": the token in " + token + " lacks " + scope + ", or its user cannot write there. Fix the token's scopes, restart Sitrep, and press Create issue again."
	case s == http.StatusNotFound || s == http.StatusGone:
		e.Final = true
		e.Problem = title + " found no such project or repository" + msg + ", or the token cannot see it. Check trackers." + name + " in the config file and the token's access."
	default:
		e.Final = true
		e.Problem = title + " refused the issue" + msg + ". Check trackers." + name + " in the config file (project, issue type, labels)."
	}
	return e
}

// RetryAfter reads how long a rate limit asks to wait: Retry-After in
// seconds or as a date, or GitHub's X-RateLimit-Reset (Unix seconds) once
// X-RateLimit-Remaining is 0. It is 0 when the answer does not say.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil && t.After(now) {
			return t.Sub(now)
		}
	}
	if h.Get("X-Ratelimit-Remaining") == "0" {
		if n, err := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			if n > 1e12 { // milliseconds, as some proxies and Linear send
				n /= 1000
			}
			if d := time.Unix(n, 0).Sub(now); d > 0 {
				return d
			}
		}
	}
	return 0
}

// Network wraps a failure to reach the tracker: always worth retrying.
func Network(name, title string, err error) *Error {
	return &Error{Tracker: name, Problem: "could not reach " + title + ": " + err.Error()}
}

// oneLine shortens a message from a tracker to one line of at most n
// bytes, for an error people read.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		cut := n
		for cut > 0 && (s[cut]&0xC0) == 0x80 {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
