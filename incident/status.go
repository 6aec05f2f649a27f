package incident

import "slices"

// Status is where an incident stands in its lifecycle.
type Status string

// The statuses, in their usual order. Moving backwards is allowed and is
// recorded as a regression.
const (
	Investigating Status = "investigating"
	Identified    Status = "identified"
	Monitoring    Status = "monitoring"
	Resolved      Status = "resolved"
	Closed        Status = "closed"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{Investigating, Identified, Monitoring, Resolved, Closed}

// settable are the statuses a person may set with "status <x>". Resolved and
// closed have their own commands because they carry more meaning (a summary,
// a postmortem).
var settable = []Status{Investigating, Identified, Monitoring}

// Open reports whether the incident is still being worked on.
func (s Status) Open() bool { return s != Resolved && s != Closed }

func (s Status) rank() int { return slices.Index(Statuses, s) }

// ParseStatus returns the status named s.
func ParseStatus(s string) (Status, error) {
	st := Status(s)
	if !slices.Contains(Statuses, st) {
		return "", hintErrorf(EINVALID, "resolve", "%q is not a status. Use one of: investigating, identified, monitoring (or {cmd} to resolve).", s)
	}
	return st, nil
}
