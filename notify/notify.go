// Package notify is the delivery engine under every integration that shows
// or sends incidents' changes: Slack now; pagers, status pages and trackers
// next. Each integration says what to do with an incident's newest state
// and timeline and how to read its own failures; the engine does what all
// of them need: it learns of every change (whoever made it), schedules one
// pass at a time per incident, backs off, waits out rate limits, records
// and reports problems, and resumes after a restart from what the store
// says each integration has delivered.
//
// The shape follows Alertmanager's notify package: small integrations, one
// retrier under them.
package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// Integration is one place incidents' changes go.
type Integration interface {
	// Name names the integration in the store, logs and metrics ("slack").
	Name() string
	// Deliver brings the integration up to date with inc. events are the
	// incident's timeline after d.Cursor, by Seq; they may include
	// changes newer than inc (an event commits with its change). Deliver
	// keeps its own progress in d.State (and d.Refs, d.Problem), and
	// calls save after every step that must not be done twice, so that a
	// pass can stop anywhere, on any error or crash, and the next carries
	// on. It returns nil once everything is delivered, after which the
	// engine moves d.Cursor and d.Version past what it was given; ErrStale
	// to be called again with the incident read afresh; a *Later when it
	// delivered what people need and put off the rest for a rate limit; or
	// the failure, which Classify sorts.
	Deliver(ctx context.Context, inc *incident.Incident, events []incident.Event, d *incident.Delivery, save func() error) error
	// Classify says what a failure of Deliver means.
	Classify(err error) Failure
}

// Failure is what an integration makes of one of its failures.
type Failure struct {
	// Final means retrying soon will not help: a person has to fix
	// something (a scope, a deleted channel, a revoked key). The work is
	// tried again every FinalRetry all the same, and Problem is recorded
	// on the delivery for people to see until a pass goes through.
	Final   bool
	Problem string
	// Wait is how long the other side asked to be left alone (a rate
	// limit's Retry-After); 0 when it did not say.
	Wait time.Duration
}

// ErrStale ends a pass whose incident changed under it: the engine reads it
// again and calls Deliver once more.
var ErrStale = errors.New("the incident changed during the pass")

// Later ends a pass that delivered what people need and put off the rest
// (a cosmetic call whose rate limit has no turn free now) so as not to
// hold anything back. The engine comes back after Wait, counting no
// failure and recording no problem, and does not mark the delivery
// current until a pass finishes, so a restart does the rest too.
type Later struct{ Wait time.Duration }

func (l *Later) Error() string { return fmt.Sprintf("work put off for %s", l.Wait) }

// Optional parts of an integration.
type (
	// ProblemShower shows a change of an incident's recorded problem
	// where people look (a warning on the Slack card). Best effort.
	ProblemShower interface {
		ShowProblem(ctx context.Context, inc *incident.Incident, d incident.Delivery)
	}
	// Watcher hears how passes end, for telling the people waiting on a
	// change (the bot tells whoever typed a command that its effect in
	// Slack is pending).
	Watcher interface {
		Delivered(number int64)
		Failed(ctx context.Context, number int64, err error, f Failure)
	}
)

// Metrics is told what the engine measures.
type Metrics interface {
	Pass(integration, outcome string, d time.Duration)
}

type noMetrics struct{}

func (noMetrics) Pass(string, string, time.Duration) {}
