package tracker

import (
	"context"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
)

// DefaultCheck is how often the trackers are asked about open follow-ups'
// issues, for the webhooks they failed to deliver (GitHub never retries
// one).
const DefaultCheck = 15 * time.Minute

// Check asks the trackers every interval whether the issues of open
// follow-ups are done, and marks those that are, until ctx ends. It is the
// fallback for webhooks that never came; several replicas checking at once
// record each change once, since a state already recorded changes nothing.
func (e *Export) Check(ctx context.Context, interval time.Duration, clk clock.Clock) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-clk.Until(clk.Now().Add(interval)):
		}
		if err := e.CheckOnce(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("periodic check of the trackers' issues", "err", err)
		}
	}
}

// CheckOnce asks the trackers once about every open follow-up's issue.
// Trouble with one issue is logged and the others are still asked.
func (e *Export) CheckOnce(ctx context.Context) error {
	incs, err := e.svc.List(ctx, incident.ListFilter{})
	if err != nil {
		return err
	}
	for _, inc := range incs {
		for _, f := range inc.FollowUps {
			if !f.Tracked() || f.Done() {
				continue
			}
			t := e.opts.Trackers[f.Issue.Tracker]
			if t == nil {
				continue
			}
			done, err := t.Done(ctx, f.Issue)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				e.log.Warn("could not read an issue's state", "incident", inc.Number, "issue", f.Issue.Key, "err", err)
				continue
			}
			if !done {
				continue
			}
			if _, err := e.svc.IssueState(ctx, inc.Number, f.Issue.Tracker, f.Issue.Key, true); err != nil {
				return err
			}
			e.log.Info("issue found done by the periodic check", "incident", inc.Number, "issue", f.Issue.Key)
		}
	}
	return nil
}
