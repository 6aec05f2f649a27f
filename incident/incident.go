// Package incident is Sitrep's domain: incidents, their timeline, and the
// rules for changing them. It knows nothing of Slack or SQL; adapters reach it
// through Service and implement Store.
package incident

import (
	"context"
	"time"
)

// Incident is one incident, numbered sequentially per installation.
type Incident struct {
	ID        string // a UUID, assigned by the Store; stable across exports
	Number    int64  // #42; assigned by the Store when the incident is created
	Title     string
	Severity  string
	Status    Status
	Summary   string
	Impact    string
	RootCause string
	// What people recorded for the postmortem (see Field), besides the
	// summary, the impact and the root cause: the latest value of each.
	Mitigation          string
	ContributingFactors string
	WentWell            string
	WentBadly           string
	Learnings           string   // one per line
	Remediations        string   // one per line
	Services            []string // affected services
	Private             bool
	Drill               bool
	DeclaredBy          string            // user ID; "" when Sitrep declared it for Source
	Source              string            // what Sitrep declared it for ("alertmanager"); "" for a person
	Roles               map[string]string // role → user ID; the commander is always present
	DeclaredAt          time.Time
	ResolvedAt          time.Time // zero while open
	ClosedAt            time.Time // zero until closed
	UpdatedAt           time.Time
	// Checklist is the triage checklist, in the order it is asked.
	Checklist []CheckItem
	// FollowUps are the action items recorded, in the order recorded.
	FollowUps []FollowUp
	// Public is what has been published to the status page (public.go).
	Public PublicPage

	// Prompt state (see NextPrompt). LastUpdateAt is when the status-update
	// clock last started: the declaration, the last status update, or a
	// reopen. UpdatePrompts counts the update prompts sent since then, and
	// PostmortemPrompts the postmortem prompts since the last resolution.
	LastUpdateAt  time.Time
	UpdatePrompts int
	// UpdateEvery is when the last status update said the next would come
	// (its "next update in"), counted from LastUpdateAt; zero means the
	// severity's cadence. A severity change or a reopen sets it back to
	// zero: the promise was made for the incident as it was.
	UpdateEvery time.Duration
	// PostmortemAt is when a postmortem was published since the incident
	// was last resolved; zero if none was (resolving and reopening clear
	// it, since the postmortem must cover the whole incident).
	PostmortemAt      time.Time
	PostmortemPrompts int
	// NextPromptAt is when NextPrompt is next due, zero for never. It is
	// derived, kept current by the Service so that a Store can find the
	// incidents with prompts due without reading the others.
	NextPromptAt time.Time

	// Pages are the attempts to wake people for the incident (page.go),
	// in the order they started. NextPageAt is when the earliest open
	// page's next step is due, zero for never: derived, like
	// NextPromptAt, so that a Store finds due pages without reading
	// every incident.
	Pages      []Page
	NextPageAt time.Time

	// Version counts changes; the Store increments it on every Update so that
	// adapters can tell whether what they show is current.
	Version int64
}

// Commander returns the user ID of the incident commander, "" while nobody
// has taken command (an incident declared by Sitrep for a source).
func (inc *Incident) Commander() string { return inc.Roles[CommanderRole] }

// ListFilter narrows List.
type ListFilter struct {
	OpenOnly bool // only incidents that are not resolved or closed
	Limit    int  // 0 means no limit
}

// Store persists incidents, their timelines, and what integrations have
// delivered of them. It is split by concern so that each part can be read
// (and faked) alone; one conformance suite (incident/storetest) states the
// contract every implementation must meet.
type Store interface {
	IncidentStore
	DeliveryStore
	ClaimStore
	AlertStore
	OnCallStore
	PublicStore
	// Stats counts incidents by status and severity.
	Stats(ctx context.Context) (Stats, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
}

// IncidentStore holds incidents and their timelines. Implementations must
// make Create and Update atomic: an incident change and the events
// recording it are stored together or not at all.
type IncidentStore interface {
	// Create stores a new incident with its first events, assigning
	// inc.ID (a UUID) when it is empty, inc.Number (the next in sequence,
	// with no gaps or duplicates under concurrent calls, from any number of
	// processes), inc.Version and each event's Seq and IncidentID.
	Create(ctx context.Context, inc *Incident, events []Event) error
	// Update loads incident number, passes it to fn, and stores the changed
	// incident and the events fn returns in one transaction, incrementing
	// Version. If fn returns an error nothing is stored. fn must not call
	// the Store: it runs inside the write transaction. An event whose Key
	// the incident already has fails the whole update with ECONFLICT.
	// fn may be called more than once (a store that commits writes
	// together runs a write again when its batch failed for another's
	// sake), each time with the incident as stored: only the run that
	// commits counts, so fn must not keep effects of an earlier run.
	Update(ctx context.Context, number int64, fn func(*Incident) ([]Event, error)) (*Incident, error)
	// Get returns incident number, or an ENOTFOUND error.
	Get(ctx context.Context, number int64) (*Incident, error)
	// List returns incidents, newest first.
	List(ctx context.Context, f ListFilter) ([]*Incident, error)
	// Events returns the incident's events with Seq > afterSeq, by Seq.
	Events(ctx context.Context, incidentID string, afterSeq int64) ([]Event, error)
	// Changes returns the incidents created or changed after the change
	// numbered after, in the order they last changed, with the number of
	// the latest change (after itself when there is none). Every Create
	// and Update, by any process sharing the store, takes a new, higher
	// change number, so polling Changes finds every change exactly once.
	Changes(ctx context.Context, after int64) ([]Change, int64, error)
	// DuePages returns the numbers of incidents whose NextPageAt is at or
	// before now, and the earliest NextPageAt after now (zero if none),
	// reading only those incidents.
	DuePages(ctx context.Context, now time.Time) ([]int64, time.Time, error)
	// DuePrompts returns the numbers of incidents whose NextPromptAt is at
	// or before now, and the earliest NextPromptAt after now (zero if
	// none). It reads only those incidents, not every open one.
	DuePrompts(ctx context.Context, now time.Time) ([]int64, time.Time, error)
}

// Change says that an incident was created or changed, and its Version
// after the change.
type Change struct {
	Number  int64
	Version int64
}

// ClaimStore remembers work that must be done once.
type ClaimStore interface {
	// Claim records key (for example a delivery ID) at time at and reports
	// whether this is its first claim, so that work offered twice is done
	// once, across restarts.
	Claim(ctx context.Context, key string, at time.Time) (bool, error)
}
