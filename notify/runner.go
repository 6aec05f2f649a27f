package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
)

// Timing of the engine's retries.
const (
	// PassTimeout bounds one pass, so that a hung call cannot stall an
	// incident, or shutdown, for longer.
	PassTimeout = time.Minute
	// FinalRetry is how often work that was refused outright is tried
	// again: such refusals usually need a person to fix something, but
	// the work must not be dropped.
	FinalRetry = 10 * time.Minute
	// MaxBackoff caps the wait after passing trouble. People are waiting
	// on what is delivered, so it stays short: a failing pass costs one
	// call, and the first pass to go through wakes the incidents still
	// waiting.
	MaxBackoff = 30 * time.Second
	// putOffRecheck is how soon a change is looked at while its incident
	// waits out a Later. Under a flood of notes paced to Slack's rate,
	// every note made a pass that re-read the whole backlog to post
	// nothing; this bounds those passes to ten a second, and a change
	// people need (the card) waits at most this long.
	putOffRecheck = 100 * time.Millisecond
	// heldElsewhereRetry is how soon an incident whose pass another
	// process holds is tried again: that process may die mid-pass, and
	// a pass that finds everything delivered costs a few reads.
	heldElsewhereRetry = time.Second
	// claimTimeout bounds asking a shared store for a pass's claim.
	claimTimeout = 5 * time.Second
	// maxPasses bounds the passes under way at once per integration:
	// after an outage many incidents are behind, and the other side's
	// rate limits are per workspace or account.
	maxPasses = 8
)

// Runner runs every integration's deliveries.
type Runner struct {
	svc   *incident.Service
	lanes map[string]*lane
	order []*lane
}

// New returns a Runner for the integrations. It hears of every change the
// service makes or finds (incident.Service.Subscribe), so run Service.Watch
// too for changes made by other processes.
func New(svc *incident.Service, clk clock.Clock, log *slog.Logger, m Metrics, integrations ...Integration) *Runner {
	if m == nil {
		m = noMetrics{}
	}
	r := &Runner{svc: svc, lanes: map[string]*lane{}}
	for _, in := range integrations {
		l := &lane{
			in: in, name: in.Name(), svc: svc, clock: clk, metrics: m,
			log:     log.With("integration", in.Name()),
			locks:   map[int64]chan struct{}{},
			due:     map[int64]retry{},
			wake:    make(chan struct{}, 1),
			drain:   make(chan struct{}),
			waiters: map[int64][]chan error{},
		}
		l.excl = svc.Exclusive()
		l.watcher, _ = in.(Watcher)
		l.shower, _ = in.(ProblemShower)
		r.lanes[l.name] = l
		r.order = append(r.order, l)
	}
	svc.Subscribe(func(number int64) {
		for _, l := range r.order {
			l.soon(number)
		}
	})
	return r
}

// Run delivers until ctx ends, starting with every incident the store says
// an integration is behind on, so a restart resumes unfinished work.
func (r *Runner) Run(ctx context.Context) error {
	errs := make(chan error, len(r.order))
	for _, l := range r.order {
		go func() { errs <- l.run(ctx) }()
	}
	var all []error
	for range r.order {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

func (r *Runner) lane(name string) *lane {
	l := r.lanes[name]
	if l == nil {
		panic(fmt.Sprintf("notify: no integration %q", name))
	}
	return l
}

// ErrStopped answers Await when the runner stops before the pass.
var ErrStopped = errors.New("delivery stopped; it resumes at the next start")

// Await asks for a pass of integration name for incident number and
// returns how the first pass to start after the call went: nil when it
// delivered everything, else its failure (scheduled for a retry).
// Whatever was committed before the call is in that pass.
func (r *Runner) Await(ctx context.Context, name string, number int64) error {
	l := r.lane(name)
	done := make(chan error, 1)
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return ErrStopped
	}
	l.waiters[number] = append(l.waiters[number], done)
	l.mu.Unlock()
	l.now(number)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Drain makes Run finish the passes due now, without waiting for retries
// scheduled later (the store keeps them for the next start), and then
// return: for a shutdown that lets acknowledged work through.
func (r *Runner) Drain() {
	for _, l := range r.order {
		l.drainOnce.Do(func() { close(l.drain) })
	}
}

// Lock holds integration name's passes for incident number off until
// unlock is called, for work outside a pass that must not interleave with
// one (reposting a message the pass keeps current).
func (r *Runner) Lock(ctx context.Context, name string, number int64) (unlock func(), err error) {
	return r.lane(name).lock(ctx, number)
}

// lane schedules one integration's passes.
type lane struct {
	in      Integration
	name    string
	svc     *incident.Service
	clock   clock.Clock
	log     *slog.Logger
	metrics Metrics
	watcher Watcher
	shower  ProblemShower
	// excl, when the store is shared by processes on several machines,
	// claims an incident's lock in the database as well, so that one
	// process at a time passes over it (or holds it with Runner.Lock).
	excl incident.ExclusiveStore

	mu    sync.Mutex
	locks map[int64]chan struct{} // one pass at a time per incident
	due   map[int64]retry         // incidents waiting for another pass
	asks  uint64                  // soon calls so far
	wake  chan struct{}
	// waiters are the Await calls for each incident that the next pass
	// to start answers.
	waiters map[int64][]chan error
	stopped bool // run has returned: nobody answers waiters any more

	drain     chan struct{} // closed by Drain
	drainOnce sync.Once
}

type retry struct {
	at       time.Time
	attempts int    // failed passes in a row, not counting rate limits
	asked    uint64 // which soon call asked for the pass, to keep one made during a pass
	// transient is set while the incident waits out passing trouble (a
	// server error, a timeout) rather than a rate limit or a refusal, so
	// that it can go again as soon as the other side is seen to answer.
	transient bool
	// elsewhere is set while another process holds the incident's pass:
	// a change made here then waits for the retry already set, rather
	// than ask the database for the claim again at once. The holder's
	// pass, or the retry after it, delivers the change; asking on every
	// change cost a round trip each and won nothing.
	elsewhere bool
	// putOff is set while the incident waits out a Later: a change made
	// meanwhile is looked at within putOffRecheck, not at once, since what
	// was put off cannot go sooner and each pass reads everything behind.
	putOff bool
}

// syncLocked runs a pass with the incident's lock held, and schedules what
// is left: soon for passing trouble, every FinalRetry for refusals, whose
// problem is also recorded for people to see.
func (l *lane) syncLocked(ctx context.Context, number int64) (err error) {
	l.mu.Lock()
	asked := l.due[number].asked
	if r, due := l.due[number]; due && (r.elsewhere || r.putOff) {
		r.elsewhere, r.putOff = false, false // the pass is this process's, now
		l.due[number] = r
	}
	waiters := l.waiters[number]
	delete(l.waiters, number)
	l.mu.Unlock()
	defer func() {
		for _, w := range waiters {
			w <- err
		}
	}()
	start := l.clock.Now()
	err = l.pass(ctx, number)
	if later := (*Later)(nil); errors.As(err, &later) {
		l.metrics.Pass(l.name, "deferred", l.clock.Now().Sub(start))
		l.log.Debug("work put off for a rate limit", "incident", number, "for", later.Wait)
		l.mu.Lock()
		r := l.due[number]
		wait := backoff(Failure{Wait: later.Wait}, 1)
		if r.asked != asked {
			// A change came in during the pass: it is looked at soon.
			wait = min(wait, putOffRecheck)
		}
		r.at, r.putOff = l.clock.Now().Add(wait), true
		r.transient = false
		l.due[number] = r
		l.mu.Unlock()
		if l.watcher != nil {
			l.watcher.Delivered(number) // what people need is there
		}
		l.poke()
		err = nil // for the waiters: what they asked for is delivered
		return nil
	}
	if err == nil {
		l.metrics.Pass(l.name, "ok", l.clock.Now().Sub(start))
		// Done, unless soon was called while the pass ran: what it asked
		// for may have been committed after the pass last looked, and the
		// run loop does it next.
		l.mu.Lock()
		r, again := l.due[number]
		if again && r.asked == asked {
			delete(l.due, number)
			again = false
		} else if again {
			l.due[number] = retry{at: r.at, asked: r.asked}
		}
		woke := l.answering()
		l.mu.Unlock()
		if !again && l.watcher != nil {
			l.watcher.Delivered(number) // everything they changed is delivered
		}
		if woke || again {
			l.poke()
		}
		return nil
	}
	if ctx.Err() != nil {
		// Out of time (a long backlog paced at the other side's rate) or
		// shutting down: the store knows what is left. The run loop
		// carries on at once, or the next start does; this is no
		// failure of the integration's.
		l.metrics.Pass(l.name, "interrupted", l.clock.Now().Sub(start))
		l.mu.Lock()
		r := l.due[number]
		r.at = l.clock.Now()
		l.due[number] = r
		l.mu.Unlock()
		l.poke()
		return err
	}
	f := l.in.Classify(err)
	l.mu.Lock()
	r := l.due[number]
	if f.Wait == 0 {
		// A rate limit says exactly how long to wait, so waiting one out
		// says nothing about how long the next trouble will last.
		r.attempts++
	}
	wait := FinalRetry
	if !f.Final {
		wait = backoff(f, max(r.attempts, 1))
	}
	r.at = l.clock.Now().Add(wait)
	if f.Final && r.asked != asked {
		// A change came in during the pass: refused work is tried again
		// with every change, and this one has not been tried.
		r.at = l.clock.Now()
	}
	r.transient = !f.Final && f.Wait == 0
	l.due[number] = r
	l.mu.Unlock()
	switch {
	case f.Final:
		l.metrics.Pass(l.name, "refused", l.clock.Now().Sub(start))
		l.log.Error("work refused", "incident", number, "retry_in", wait, "err", err)
		l.recordProblem(ctx, number, f.Problem)
	case f.Wait > 0:
		l.metrics.Pass(l.name, "limited", l.clock.Now().Sub(start))
		l.log.Warn("rate limited; will retry", "incident", number, "retry_in", wait.Round(time.Millisecond), "err", err)
	default:
		l.metrics.Pass(l.name, "failed", l.clock.Now().Sub(start))
		l.log.Warn("delivery failed; will retry", "incident", number, "attempt", r.attempts, "retry_in", wait.Round(time.Millisecond), "err", err)
	}
	if l.watcher != nil {
		l.watcher.Failed(ctx, number, err, f)
	}
	l.poke()
	return err
}

// answering is told that a pass went through: the other side answers
// again, so incidents backing off from passing trouble go now instead of
// waiting out their backoff. Those waiting on a rate limit keep to it, and
// refusals keep to FinalRetry. It reports whether any incident was moved.
// l.mu is held.
func (l *lane) answering() bool {
	now, moved := l.clock.Now(), false
	for n, r := range l.due {
		if r.transient && r.at.After(now) {
			r.at, r.transient = now, false
			l.due[n] = r
			moved = true
		}
	}
	return moved
}

// recordProblem keeps a refusal on the incident's delivery so that it can
// be shown until a later pass succeeds.
func (l *lane) recordProblem(ctx context.Context, number int64, problem string) {
	inc, err := l.svc.Get(ctx, number)
	if err != nil {
		return
	}
	d, err := l.svc.Delivery(ctx, l.name, inc.ID)
	if err != nil || d.Problem == problem {
		return // unreadable, or shown already
	}
	d.Problem = problem
	if err := l.svc.SaveDelivery(ctx, d); err != nil {
		l.log.Error("record delivery problem", "incident", number, "err", err)
		return
	}
	if l.shower != nil {
		l.shower.ShowProblem(ctx, inc, d)
	}
}

// pass does one round of work for an incident. A change committed while a
// pass runs may be missed by it, so it goes round again (ErrStale) until
// the incident holds still.
func (l *lane) pass(ctx context.Context, number int64) error {
	for range 10 {
		inc, err := l.svc.Get(ctx, number)
		if err != nil {
			return err
		}
		d, err := l.svc.Delivery(ctx, l.name, inc.ID)
		if err != nil {
			return err
		}
		events, err := l.svc.Events(ctx, inc.ID, d.Cursor)
		if err != nil {
			return err
		}
		save := func() error {
			if err := l.svc.SaveDelivery(ctx, d); err != nil {
				return fmt.Errorf("save %s delivery: %w", l.name, err)
			}
			return nil
		}
		err = l.in.Deliver(ctx, inc, events, &d, save)
		if errors.Is(err, ErrStale) {
			continue
		}
		if err != nil {
			return err
		}
		cursor := d.Cursor
		if len(events) > 0 {
			cursor = max(cursor, events[len(events)-1].Seq)
		}
		if cursor == d.Cursor && inc.Version <= d.Version {
			return nil
		}
		d.Cursor, d.Version = cursor, max(d.Version, inc.Version)
		return save()
	}
	// Still changing: each change has asked for its own pass.
	return nil
}

// stop answers the waiters left when run returns: no pass will.
func (l *lane) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
	for n, ws := range l.waiters {
		for _, w := range ws {
			w <- ErrStopped
		}
		delete(l.waiters, n)
	}
}

// poke makes the run loop look at what is due.
func (l *lane) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// soon schedules a pass for incident number now, keeping its count of
// failed attempts; for a change, an incident whose pass another process
// holds or that waits out a Later is left to its retry (see retry).
func (l *lane) soon(number int64) { l.schedule(number, false) }

// now schedules a pass for incident number now, whatever it waits for:
// someone waits for it (Await).
func (l *lane) now(number int64) { l.schedule(number, true) }

func (l *lane) schedule(number int64, urgent bool) {
	l.mu.Lock()
	r, due := l.due[number]
	switch now := l.clock.Now(); {
	case urgent:
		r.at = now
	case due && r.elsewhere && r.at.After(now):
		// Left to the retry already set (see retry.elsewhere).
	case due && r.putOff && r.at.After(now):
		r.at = minTime(r.at, now.Add(putOffRecheck))
	default:
		r.at = now
	}
	l.asks++
	r.asked = l.asks
	l.due[number] = r
	l.mu.Unlock()
	l.poke()
}

// incidentLock returns incident number's lock: a channel holding one token
// while a pass runs.
func (l *lane) incidentLock(number int64) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.locks[number]
	if c == nil {
		c = make(chan struct{}, 1)
		l.locks[number] = c
	}
	return c
}

// tryLock takes incident number's lock if it is free, in this process and,
// with a shared store, in every other. lost is closed if the claim in the
// database is lost (nil without one): the pass must stop. elsewhere says
// that another process holds it, or that the database could not be asked.
func (l *lane) tryLock(ctx context.Context, number int64) (unlock func(), lost <-chan struct{}, ok, elsewhere bool) {
	c := l.incidentLock(number)
	select {
	case c <- struct{}{}:
	default:
		return nil, nil, false, false
	}
	local := func() { <-c }
	if l.excl == nil {
		return local, nil, true, false
	}
	// The run loop waits on this: a database that does not answer must
	// not hold up the passes of every other incident for long.
	cctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	release, lost, ok, err := l.excl.TryExclusive(cctx, l.exclusiveKey(number))
	if err != nil {
		l.log.Error("claim an incident's pass", "incident", number, "err", err)
	}
	if err != nil || !ok {
		local()
		return nil, nil, false, true
	}
	return func() { release(); local() }, lost, true, false
}

// exclusiveKey names incident number's lock in a shared store.
func (l *lane) exclusiveKey(number int64) string {
	return fmt.Sprintf("notify/%s/%d", l.name, number)
}

// lock takes incident number's lock, giving up when ctx ends. With a
// shared store it waits for other processes too, asking again every
// tenth of a second: their passes are short.
func (l *lane) lock(ctx context.Context, number int64) (unlock func(), err error) {
	c := l.incidentLock(number)
	select {
	case c <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	local := func() { <-c }
	if l.excl == nil {
		return local, nil
	}
	for {
		release, _, ok, err := l.excl.TryExclusive(ctx, l.exclusiveKey(number))
		if err == nil && ok {
			return func() { release(); local() }, nil
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			local()
			return nil, ctx.Err()
		}
	}
}

// backoff is how long to wait before the next attempt: what the other side
// asked for, otherwise exponential from 1 s to MaxBackoff with jitter so
// that many incidents do not retry in step. A rate limit's wait gets a
// little jitter too, so that the incidents it held back do not all go at
// the same instant and draw the next one.
func backoff(f Failure, attempts int) time.Duration {
	if f.Wait > 0 {
		return f.Wait + time.Duration(rand.Int64N(int64(250*time.Millisecond)))
	}
	d := min(time.Second<<min(attempts-1, 8), MaxBackoff)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// run retries failed passes and makes those asked for until ctx ends, or,
// once drained, until nothing due now is left.
func (l *lane) run(ctx context.Context) error {
	defer l.stop()
	behind, err := l.svc.Behind(ctx, l.name)
	if ctx.Err() != nil {
		return nil // stopped before it started
	}
	if err != nil {
		return fmt.Errorf("find incidents behind for %s: %w", l.name, err)
	}
	l.mu.Lock()
	for _, n := range behind {
		r := l.due[n]
		r.at = l.clock.Now()
		l.due[n] = r
	}
	l.mu.Unlock()
	passes := make(chan struct{}, maxPasses) // its length is the passes under way
	var running sync.WaitGroup
	defer running.Wait() // passes stop with ctx; their progress is saved
	timer := l.clock.Until(l.clock.Now())
	drain, draining := l.drain, false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.wake:
		case <-timer:
		case <-drain:
			drain, draining = nil, true
		}
		now := l.clock.Now()
		next := now.Add(time.Hour)
		var ready []int64
		l.mu.Lock()
		for n, r := range l.due {
			if !r.at.After(now) {
				ready = append(ready, n)
			} else if r.at.Before(next) {
				next = r.at
			}
		}
		l.mu.Unlock()
		slices.Sort(ready)
		if draining && len(ready) == 0 && len(passes) == 0 {
			return nil // what is left is due later, and the store keeps it
		}
		for _, n := range ready {
			if ctx.Err() != nil {
				return nil
			}
			unlock, lost, ok, elsewhere := l.tryLock(ctx, n)
			if !ok {
				// A pass under way here pokes when it ends. One under way
				// in another process is looked at again shortly, in case
				// that process dies mid-pass.
				if elsewhere {
					l.mu.Lock()
					if r, due := l.due[n]; due && !r.at.After(now) {
						r.at = now.Add(heldElsewhereRetry)
						r.elsewhere = true
						l.due[n] = r
					}
					l.mu.Unlock()
				}
				continue
			}
			select {
			case passes <- struct{}{}:
			case <-ctx.Done():
				unlock()
				return nil
			}
			running.Add(1)
			go func() {
				defer running.Done()
				defer l.poke() // the loop looks again, and a drain may be over
				defer func() { <-passes }()
				defer unlock()
				pctx, cancel := context.WithTimeout(ctx, PassTimeout)
				defer cancel()
				if lost != nil {
					// Another process may take the incident over now.
					go func() {
						select {
						case <-lost:
							cancel()
						case <-pctx.Done():
						}
					}()
				}
				l.syncLocked(pctx, n) // failures are logged and rescheduled
			}()
		}
		if len(ready) > 0 {
			next = now.Add(time.Second) // a pass pokes when it reschedules; this is a backstop
		}
		timer = l.clock.Until(next)
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
