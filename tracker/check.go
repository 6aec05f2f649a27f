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
// fallback for webhooks that never came. Replicas sharing a database check
// once an interval between them: each interval (counted from the epoch, on
// the clock they share) is claimed in the database by the first to come
// to it, and the others leave it, so the trackers' rate limits are not
// spent once per replica. A replica that dies mid-check leaves the rest to
// the next interval.
func (e *Export) Check(ctx context.Context, interval time.Duration, clk clock.Clock) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-clk.Until(clk.Now().Add(interval)):
		}
		round := checkRound(clk.Now(), interval)
		first, err := e.svc.Claim(ctx, round)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Warn("periodic check of the trackers' issues: could not claim this round; trying next round", "err", err)
			}
			continue
		}
		if !first {
			continue // another replica checks this round
		}
		if err := e.CheckOnce(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("periodic check of the trackers' issues", "err", err)
		}
	}
}

// checkRound names the interval at is in, for its claim.
func checkRound(at time.Time, interval time.Duration) string {
	return "tracker-check:" + at.UTC().Truncate(interval).Format(time.RFC3339)
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
