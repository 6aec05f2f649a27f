package clock

import (
	"sync/atomic"
	"time"
)

// Corrected is a clock that reads another and adds an offset, which may be
// changed at any time. Replicas of Sitrep on several machines run on one
// clock this way: each measures how far the database's clock is from its
// own and corrects its own by that much, so that a machine whose clock is
// wrong neither records wrong times nor acts early or late. It is safe for
// concurrent use.
type Corrected struct {
	base   Clock
	offset atomic.Int64 // nanoseconds added to base
}

// NewCorrected returns a clock showing base's time moved by offset.
func NewCorrected(base Clock, offset time.Duration) *Corrected {
	c := &Corrected{base: base}
	c.Set(offset)
	return c
}

// Set changes the offset added to the base clock's time.
func (c *Corrected) Set(offset time.Duration) { c.offset.Store(int64(offset)) }

// Offset returns the offset added to the base clock's time.
func (c *Corrected) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// Now returns the base clock's time moved by the offset.
func (c *Corrected) Now() time.Time { return c.base.Now().Add(c.Offset()) }

// Until waits on the base clock for the moment it shows when this clock
// shows t. The channel receives the base clock's time (Sitrep's waits
// ignore it). A change of offset made while waiting is not applied to the
// wait: waiters look at Now when they wake, and wait again if woken early.
func (c *Corrected) Until(t time.Time) <-chan time.Time { return c.base.Until(t.Add(-c.Offset())) }
