package bot

import (
	"fmt"
	"sync"
	"time"
)

// Declares per person: a guard against a script or a stuck key declaring
// incident after incident, each with a channel and pages to people. A
// real incident needs one declaration; three a minute leaves room for a
// few genuine ones at once.
const (
	declaresPerWindow = 3
	declareWindow     = time.Minute
)

// declareLimit counts each person's recent declarations over a sliding
// window. It is safe for concurrent use.
type declareLimit struct {
	now func() time.Time

	mu   sync.Mutex
	seen map[string][]time.Time
}

func newDeclareLimit(now func() time.Time) *declareLimit {
	return &declareLimit{now: now, seen: map[string][]time.Time{}}
}

// take counts a declaration by user if the limit allows one now, and
// otherwise returns what to tell them.
func (l *declareLimit) take(user string) (refusal string, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	recent := l.seen[user][:0]
	for _, t := range l.seen[user] {
		if now.Sub(t) < declareWindow {
			recent = append(recent, t)
		}
	}
	if len(recent) >= declaresPerWindow {
		l.seen[user] = recent
		wait := declareWindow - now.Sub(recent[0])
		return fmt.Sprintf("You have declared %d incidents in the last minute, the most Sitrep takes from one person, to guard against repeats by accident. Try again in %d seconds, or ask someone else to declare.",
			len(recent), int((wait+time.Second-1)/time.Second)), false
	}
	if len(recent) == 0 {
		delete(l.seen, user) // forget people who stopped declaring
	}
	l.seen[user] = append(recent, now)
	return "", true
}

// giveBack uncounts user's latest declaration, which was refused.
func (l *declareLimit) giveBack(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.seen[user]); n > 0 {
		l.seen[user] = l.seen[user][:n-1]
	}
}
