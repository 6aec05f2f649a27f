package incident

import "context"

// Stats are the figures that monitoring watches.
type Stats struct {
	// Counts holds how many incidents there are of each status and
	// severity; combinations with none are left out.
	Counts []Count
}

// Count is the number of incidents of one status and severity.
type Count struct {
	Status   Status
	Severity string
	N        int
}

// Stats returns the figures that monitoring watches.
func (s *Service) Stats(ctx context.Context) (Stats, error) {
	return s.store.Stats(ctx)
}
