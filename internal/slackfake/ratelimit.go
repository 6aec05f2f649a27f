package slackfake

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/sitrep-dev/sitrep/internal/slacktier"
)

// The fake enforces Slack's rate limits as slacktier gives them: per
// method across the workspace, at the floor of the method's tier with a
// minute's allowance as the burst ("occasional bursts of more requests"),
// and chat.postMessage per channel at one a second with a burst of
// slacktier.PostBurst. A call over the limit is answered as Slack answers
// it: HTTP 429, {"ok":false,"error":"ratelimited"} and a Retry-After header
// in whole seconds, and it takes no effect.

// WithoutRateLimits turns the rate limits off, for tests of something else
// that make calls faster than Slack allows on purpose.
func WithoutRateLimits() Option { return func(s *Server) { s.limits.off = true } }

// WithRateClock sets the clock the rate limits are kept by (default
// time.Now), so that a test can refill them without waiting.
func WithRateClock(now func() time.Time) Option { return func(s *Server) { s.limits.now = now } }

// WithLatency makes every Web API call take at least d before it is
// answered, as calls to the real Slack take tens of milliseconds.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// limits are the rate limiters of one fake workspace.
type limits struct {
	off bool
	now func() time.Time

	mu       sync.Mutex
	methods  map[string]*rate.Limiter
	channels map[string]*rate.Limiter // chat.postMessage, per channel
}

// take counts a call to method (with its channel, for chat.postMessage). It
// reports how long to wait when the call is over the limit, or 0.
func (l *limits) take(method, channel string) time.Duration {
	if l.off {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.now == nil {
		l.now = time.Now
	}
	now := l.now()
	var lim *rate.Limiter
	if method == "chat.postMessage" {
		lim = limiter(&l.channels, channel, rate.Every(slacktier.PostEvery), slacktier.PostBurst)
	} else if every := slacktier.Every(method); every > 0 {
		lim = limiter(&l.methods, method, rate.Every(every), slacktier.Of(method).PerMinute())
	}
	if lim == nil || lim.AllowN(now, 1) {
		return 0
	}
	r := lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return wait
}

func limiter(m *map[string]*rate.Limiter, key string, every rate.Limit, burst int) *rate.Limiter {
	if *m == nil {
		*m = map[string]*rate.Limiter{}
	}
	l := (*m)[key]
	if l == nil {
		l = rate.NewLimiter(every, burst)
		(*m)[key] = l
	}
	return l
}

// writeRateLimited answers a call over the limit.
func writeRateLimited(w http.ResponseWriter, wait time.Duration) {
	secs := int64((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	writeJSON(w, http.StatusTooManyRequests, apiErr("ratelimited"))
}
