package bot

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
)

// prompter sends the status-update and postmortem prompts. Whether a prompt
// is due is the domain's pure function of stored state (incident.NextPrompt);
// the prompter records each due prompt as a timeline event, in the same
// transaction that advances the incident's prompt state, and leaves its
// delivery to the delivery engine. So a crash or restart neither loses a prompt (the
// event is delivered from the record) nor repeats one (the state says it was
// sent).
//
// It also ends the waits of groups of alerts held by their route's noise
// controls (incident.Service.DeclareHeld), which fall due the same way.
type prompter struct {
	svc   *incident.Service
	clock clock.Clock
	rules incident.AlertRules
	log   *slog.Logger
	due   *dueWatch
	// Waits of held groups are looked at when alerts were recorded since
	// the last look (alerts) or the next wait has ended (heldNext), not
	// on every change of an incident: a note cannot end a wait.
	alerts   atomic.Bool
	heldNext time.Time
}

func newPrompter(svc *incident.Service, clk clock.Clock, rules incident.AlertRules, log *slog.Logger) *prompter {
	p := &prompter{svc: svc, clock: clk, rules: rules, log: log, due: newDueWatch()}
	p.alerts.Store(true) // look once at start: waits may have ended while Sitrep was down
	// A change may move an incident's next prompt earlier (a
	// declaration, a severity raised), whoever made it.
	svc.SubscribeDue(func(_ int64, due incident.Due) { p.due.changed(due.Prompt, due.Known) })
	return p
}

// poke makes the prompter look again.
func (p *prompter) poke() { p.due.poke() }

// run sends prompts as they fall due until ctx ends. It first reschedules
// every incident, in case the configured cadences changed while Sitrep was
// down.
func (p *prompter) run(ctx context.Context) error {
	if err := p.svc.Reschedule(ctx); err != nil && ctx.Err() == nil {
		p.log.Error("reschedule prompts", "err", err)
	}
	return p.due.run(ctx, p.clock, p.log, "prompt pass failed; trying again", p.pass)
}

// pass sends the prompts due now and returns when the next one is due. Its
// cost grows with the prompts due, not with the incidents open: the store
// finds due incidents through an index. It asks again after sending, since
// time moves on while it works, until nothing is due.
func (p *prompter) pass(ctx context.Context) (next time.Time, err error) {
	held, err := p.declareHeld(ctx)
	if err != nil {
		return time.Time{}, err
	}
	defer func() {
		if err == nil && !held.IsZero() && (next.IsZero() || held.Before(next)) {
			next = held
		}
	}()
	for {
		now := p.clock.Now()
		due, next, err := p.svc.DuePrompts(ctx, now)
		if err != nil || len(due) == 0 {
			return next, err
		}
		sentAny := false
		var failed error
		for _, n := range due {
			sent, err := p.svc.SendPrompt(ctx, n)
			if err != nil {
				// One incident that cannot be prompted must not stop
				// the others; it is tried again on the next pass.
				p.log.Error("prompt not recorded", "incident", n, "err", err)
				failed = err
				continue
			}
			if sent {
				sentAny = true
				p.log.Info("prompt recorded", "incident", n) // the change wakes its delivery
			}
		}
		if failed != nil {
			return time.Time{}, failed
		}
		if !sentAny {
			// SendPrompt repairs a stale schedule, so the store should
			// not offer these again; if it does, look again later rather
			// than spin.
			return now.Add(10 * time.Second), nil
		}
	}
}

// alertsRecorded makes the prompter look at held groups of alerts: their
// waits may have begun or ended.
func (p *prompter) alertsRecorded() {
	p.alerts.Store(true)
	p.poke()
}

// declareHeld declares the groups of alerts whose wait has ended and
// returns when the next wait ends.
func (p *prompter) declareHeld(ctx context.Context) (time.Time, error) {
	if !p.alerts.Swap(false) && (p.heldNext.IsZero() || p.clock.Now().Before(p.heldNext)) {
		return p.heldNext, nil
	}
	out, next, err := p.svc.DeclareHeld(ctx, p.rules)
	if err != nil {
		p.alerts.Store(true) // look again on the next pass
		return time.Time{}, err
	}
	p.heldNext = next
	if len(out.Declared) > 0 {
		p.log.Info("alerts waited as their route asks and declared incidents", "incidents", out.Declared)
	}
	if len(out.Capped) > 0 {
		p.log.Warn("alerts have declared as many incidents as allowed this minute: these groups wait in triage instead",
			"max_declares_per_minute", p.rules.MaxDeclaresPerMinute, "groups", out.Capped)
	}
	return next, nil
}
