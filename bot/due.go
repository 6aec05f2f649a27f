package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sitrep-dev/sitrep/internal/clock"
)

// maxDueSleep bounds how long a loop that sends what falls due sleeps
// without looking at the database, as a backstop for a wake-up it was not
// sent.
const maxDueSleep = 5 * time.Minute

// dueWatch wakes a loop that sends what falls due (the prompter, the
// pager) for the changes that may have brought something forward, and
// lets the others pass: asking the database what is due after every note
// cost a query each, and with several replicas, each asking for its own
// notes, more than the note's own write.
type dueWatch struct {
	wake chan struct{}

	mu sync.Mutex
	// planned is when the loop looks next; zero while it looks, when
	// every change wakes it again, since what it read may be older than
	// the change.
	planned time.Time
}

func newDueWatch() *dueWatch { return &dueWatch{wake: make(chan struct{}, 1)} }

// run calls pass, which sends what is due and returns when the next thing
// falls due, and again then, or after a change that brings something
// forward, or after maxDueSleep, until ctx ends. A failed pass is
// logged as failed says and tried again 10 s later.
func (d *dueWatch) run(ctx context.Context, clk clock.Clock, log *slog.Logger, failed string, pass func(context.Context) (time.Time, error)) error {
	for {
		d.looking()
		next, err := pass(ctx)
		if ctx.Err() != nil {
			return nil
		}
		now := clk.Now()
		wake := now.Add(maxDueSleep)
		switch {
		case err != nil:
			log.Error(failed, "err", err)
			wake = now.Add(10 * time.Second)
		case !next.IsZero() && next.Before(wake):
			wake = next
		}
		d.sleeping(wake)
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-clk.Until(wake):
		}
	}
}

// poke makes the loop look again.
func (d *dueWatch) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// looking is called as the loop starts looking.
func (d *dueWatch) looking() {
	d.mu.Lock()
	d.planned = time.Time{}
	d.mu.Unlock()
}

// sleeping is called once the loop has looked, with when it looks next.
func (d *dueWatch) sleeping(until time.Time) {
	d.mu.Lock()
	d.planned = until
	d.mu.Unlock()
}

// changed is told of a change with when it made the loop's next thing due
// (zero: nothing), or known=false for a change it cannot tell about. It
// wakes the loop unless the change is known to bring nothing forward of
// the planned look.
func (d *dueWatch) changed(due time.Time, known bool) {
	if known {
		d.mu.Lock()
		planned := d.planned
		d.mu.Unlock()
		if due.IsZero() || (!planned.IsZero() && due.After(planned)) {
			return
		}
	}
	d.poke()
}
