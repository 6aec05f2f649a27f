package incident

import "context"

// ExclusiveStore is offered by a store that processes on several machines
// share (PostgreSQL): it lets work that must be done by one process at a
// time, such as an integration's pass over an incident, be claimed by
// whichever process asks first, and taken over by another when the holder
// dies. It is not part of Store: a store on one machine's disk (SQLite)
// has one process doing the work and does without.
type ExclusiveStore interface {
	// TryExclusive claims key for this process if no other process holds
	// it, and reports whether it did. The claim lasts until release is
	// called, or until lost is closed: the store lost the means of holding
	// it (its connection to the database failed, or the process died),
	// after which another process may claim key, so the work must stop.
	// A key this process already holds is not claimed twice.
	TryExclusive(ctx context.Context, key string) (release func(), lost <-chan struct{}, ok bool, err error)
}

// Exclusive returns the store's ExclusiveStore, or nil when the store is
// only ever used by one process at a time.
func (s *Service) Exclusive() ExclusiveStore {
	e, _ := s.store.(ExclusiveStore)
	return e
}
