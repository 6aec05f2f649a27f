package bot

import (
	"sync"
	"time"
)

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
