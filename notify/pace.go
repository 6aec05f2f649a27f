package notify

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/sitrep-dev/sitrep/internal/clock"
)

// Limit is how often calls of one kind may go: one each Every, with up to
// Burst at once. The zero Limit does not limit.
type Limit struct {
	Every time.Duration
	Burst int
}

// Pacer keeps an integration's calls within the other side's rate limits,
// across every incident: calls of one kind (a key: a method, or a method
// and a channel) wait for their turn instead of drawing refusals, and when
// the other side refuses anyway and says how long to wait (Hold), nobody
// calls that kind again until then. Waiting here rather than failing keeps
// the order of an incident's work and costs no retries.
type Pacer struct {
	clock  clock.Clock
	limits func(key string) Limit

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	held    map[string]time.Time
}

// maxBuckets bounds the limiters a Pacer keeps; full ones are forgotten
// first, which changes nothing.
const maxBuckets = 1000

// NewPacer returns a Pacer that asks limits for each key's Limit.
func NewPacer(clk clock.Clock, limits func(key string) Limit) *Pacer {
	return &Pacer{clock: clk, limits: limits, buckets: map[string]*rate.Limiter{}, held: map[string]time.Time{}}
}

// Wait waits until a call of kind key may go, or ctx ends.
func (p *Pacer) Wait(ctx context.Context, key string) error {
	now := p.clock.Now()
	p.mu.Lock()
	at := now
	if h := p.held[key]; h.After(now) {
		at = h
	}
	var r *rate.Reservation
	if b := p.bucket(key, now); b != nil {
		// A call taken at its turn: the reservation holds the place in
		// line while it waits, so calls go in the order they asked.
		r = b.ReserveN(at, 1)
		at = at.Add(r.DelayFrom(at))
	}
	p.mu.Unlock()
	if !at.After(now) {
		return nil
	}
	select {
	case <-p.clock.Until(at):
		return nil
	case <-ctx.Done():
		if r != nil {
			p.mu.Lock()
			r.CancelAt(p.clock.Now()) // give the place back
			p.mu.Unlock()
		}
		return ctx.Err()
	}
}

// Delay says how long a call of kind key would wait now, without taking a
// turn: work that can be put off asks first, so that it never holds back
// work that cannot.
func (p *Pacer) Delay(key string) time.Duration {
	now := p.clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	at := now
	if h := p.held[key]; h.After(now) {
		at = h
	}
	if b := p.bucket(key, now); b != nil {
		if short := 1 - b.TokensAt(at); short > 0 {
			at = at.Add(time.Duration(short / float64(b.Limit()) * float64(time.Second)))
		}
	}
	return at.Sub(now)
}

// Hold stops calls of kind key for d: the other side refused one and asked
// for that long.
func (p *Pacer) Hold(key string, d time.Duration) {
	until := p.clock.Now().Add(d)
	p.mu.Lock()
	defer p.mu.Unlock()
	if until.After(p.held[key]) {
		p.held[key] = until
	}
}

// bucket returns key's limiter, or nil for a key without a limit. p.mu is
// held.
func (p *Pacer) bucket(key string, now time.Time) *rate.Limiter {
	if b, ok := p.buckets[key]; ok {
		return b
	}
	l := p.limits(key)
	if l.Every <= 0 {
		return nil
	}
	if len(p.buckets) >= maxBuckets {
		for k, b := range p.buckets {
			if b.TokensAt(now) >= float64(b.Burst()) {
				delete(p.buckets, k)
			}
		}
		for k, h := range p.held {
			if !h.After(now) {
				delete(p.held, k)
			}
		}
	}
	b := rate.NewLimiter(rate.Every(l.Every), max(l.Burst, 1)) // full
	p.buckets[key] = b
	return b
}
