package incident

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// changeFeed tells subscribers of every incident change: at once for the
// changes made through this Service, and by polling the Store for those
// made elsewhere (another process sharing the database, the command line).
// A subscriber so never depends on who made a change.
type changeFeed struct {
	mu   sync.Mutex
	subs []func(number int64)
	// dues are told, with each change, when the incident's next prompt
	// and page step fall due (SubscribeDue).
	dues []func(number int64, due Due)
	// local holds the Version of each incident as this Service last
	// committed it, so that polling does not announce a change twice.
	// An entry is forgotten once polling has seen that change.
	local  map[int64]int64
	after  int64 // the last change number polling has seen
	marked bool  // after is set: changes since are news
}

// Subscribe registers fn to be called with the number of every incident
// created or changed. fn is called on the goroutine that made the change,
// after it is committed, so it must return quickly (schedule work, do not
// do it). Changes made outside this Service reach fn once Watch has
// polled for them.
func (s *Service) Subscribe(fn func(number int64)) {
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	s.feed.subs = append(s.feed.subs, fn)
}

// Due is when a changed incident's next prompt and next page step fall
// due as stored (zero: none), as SubscribeDue tells of it. Known is false
// for a change made elsewhere, which is not read: it may have made
// anything due.
type Due struct {
	Prompt, Page time.Time
	Known        bool
}

// SubscribeDue is Subscribe for the loops that send what falls due: fn is
// also told when the changed incident's next prompt and page step are
// due, so that a change that brings neither forward (most of them: a
// note, a role) need not send them to the database to ask.
func (s *Service) SubscribeDue(fn func(number int64, due Due)) {
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	s.feed.dues = append(s.feed.dues, fn)
}

// committed tells the subscribers that inc was stored as it is now.
func (s *Service) committed(inc *Incident) {
	s.feed.mu.Lock()
	if s.feed.local == nil {
		s.feed.local = map[int64]int64{}
	}
	s.feed.local[inc.Number] = max(s.feed.local[inc.Number], inc.Version)
	subs, dues := s.feed.subs, s.feed.dues
	s.feed.mu.Unlock()
	for _, fn := range subs {
		fn(inc.Number)
	}
	due := Due{Prompt: inc.NextPromptAt, Page: inc.NextPageAt, Known: true}
	for _, fn := range dues {
		fn(inc.Number, due)
	}
}

// DefaultPoll is how often Watch looks for changes made elsewhere: short
// enough that an incident changed from the command line or by another
// replica shows in Slack within seconds, long enough to cost nothing (one
// indexed query that finds nothing).
const DefaultPoll = 2 * time.Second

// MarkChanges notes where the Store's changes are up to: those made after
// it are news for Watch, those before are not. Call it before the
// subscribers read the Store to start (what they read then covers the
// changes before the mark), so that no change falls between the two.
func (s *Service) MarkChanges(ctx context.Context) error {
	if _, err := s.poll(ctx, true); err != nil {
		return fmt.Errorf("mark changes: %w", err)
	}
	return nil
}

// Watch polls the Store every interval for changes made outside this
// Service and tells the subscribers of them, until ctx ends. Changes
// before MarkChanges (or, without it, before Watch starts) are not news.
func (s *Service) Watch(ctx context.Context, interval time.Duration) error {
	s.feed.mu.Lock()
	marked := s.feed.marked
	s.feed.mu.Unlock()
	if !marked {
		if err := s.MarkChanges(ctx); err != nil && ctx.Err() == nil {
			return fmt.Errorf("watch for changes: %w", err)
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if _, err := s.poll(ctx, false); err != nil && ctx.Err() == nil {
			// A database that does not answer now may later; what was
			// missed is found then, since polling resumes where it was.
			continue
		}
	}
}

// poll tells the subscribers of the changes made elsewhere since the last
// poll, and returns their numbers. A first poll (start) only finds where
// changes are up to.
func (s *Service) poll(ctx context.Context, start bool) ([]int64, error) {
	s.feed.mu.Lock()
	after := s.feed.after
	s.feed.mu.Unlock()
	changes, latest, err := s.store.Changes(ctx, after)
	if err != nil {
		return nil, err
	}
	s.feed.mu.Lock()
	s.feed.after, s.feed.marked = latest, true
	var news []int64
	for _, c := range changes {
		if v, ok := s.feed.local[c.Number]; ok {
			if v == c.Version || v < c.Version {
				// Seen, or overtaken by a change made elsewhere: a later
				// change made here has a higher Version either way.
				delete(s.feed.local, c.Number)
			}
			if v >= c.Version {
				continue
			}
		}
		if !start {
			news = append(news, c.Number)
		}
	}
	subs, dues := s.feed.subs, s.feed.dues
	s.feed.mu.Unlock()
	for _, n := range news {
		for _, fn := range subs {
			fn(n)
		}
		for _, fn := range dues {
			fn(n, Due{})
		}
	}
	return news, nil
}
