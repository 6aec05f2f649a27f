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
	ID         string // a UUID, assigned by the Store; stable across exports
	Number     int64  // #42; assigned by the Store when the incident is created
	Title      string
	Severity   string
	Status     Status
	Summary    string
	Impact     string
	RootCause  string
	Services   []string // affected services
	Private    bool
	Drill      bool
	DeclaredBy string            // user ID
	Roles      map[string]string // role → user ID; the commander is always present
	DeclaredAt time.Time
	ResolvedAt time.Time // zero while open
	ClosedAt   time.Time // zero until closed
	UpdatedAt  time.Time
	// Checklist is the triage checklist, in the order it is asked.
	Checklist []CheckItem
	// FollowUps are the action items recorded, in the order recorded.
	FollowUps []FollowUp

	// Prompt state (see NextPrompt). LastUpdateAt is when the status-update
	// clock last started: the declaration, the last status update, or a
	// reopen. UpdatePrompts counts the update prompts sent since then, and
	// PostmortemPrompts the postmortem prompts since the last resolution.
	LastUpdateAt  time.Time
	UpdatePrompts int
	// PostmortemAt is when a postmortem was published since the incident
	// was last resolved; zero if none was (resolving and reopening clear
	// it, since the postmortem must cover the whole incident).
	PostmortemAt      time.Time
	PostmortemPrompts int
	// NextPromptAt is when NextPrompt is next due, zero for never. It is
	// derived, kept current by the Service so that a Store can find the
	// incidents with prompts due without reading the others.
	NextPromptAt time.Time

	// Version counts changes; the Store increments it on every Update so that
	// adapters can tell whether what they show is current.
	Version int64
	Chat    Chat
}

// Commander returns the user ID of the incident commander.
func (inc *Incident) Commander() string { return inc.Roles[CommanderRole] }

// Chat records what the chat adapter has done for an incident, so that its
// work resumes after a restart without repeating itself. The domain never
// reads or changes it; only Store.SaveChat writes it.
type Chat struct {
	ChannelID   string
	ChannelName string
	CardTS      string // the pinned incident card
	CardPinned  bool
	CardVersion int64  // the Incident.Version the card shows
	Topic       string // the channel topic last set
	// Cursor is the Seq of the last timeline event whose invitations and
	// incident-channel message were delivered; AnnounceCursor the same for
	// announcements. They are separate so that a failed announcement is
	// retried without posting the channel message again.
	Cursor         int64
	AnnounceCursor int64
	Problem        string // the last delivery failure, "" when all is delivered
	// The checklist and follow-ups messages, each updated in place, and a
	// fingerprint of what each shows so that an unchanged one is not sent
	// again.
	ChecklistTS    string
	ChecklistShown string
	FollowUpsTS    string
	FollowUpsShown string
	// Posting names the message being posted ("card", "event:12", ...),
	// saved before Slack is asked and cleared with the result. Found set
	// at the start of a pass, it means an earlier pass may have posted the
	// message without recording it: the adapter looks for it before
	// posting again.
	Posting string
}

// ListFilter narrows List.
type ListFilter struct {
	OpenOnly bool // only incidents that are not resolved or closed
	Limit    int  // 0 means no limit
}

// Store persists incidents and their timelines. Implementations must make
// Create and Update atomic: an incident change and the events recording it
// are stored together or not at all.
type Store interface {
	// Create stores a new incident with its first events, assigning
	// inc.ID (a UUID) when it is empty, inc.Number (the next in sequence, with no gaps or duplicates under
	// concurrent calls), inc.Version and each event's Seq and IncidentID.
	Create(ctx context.Context, inc *Incident, events []Event) error
	// Update loads incident number, passes it to fn, and stores the changed
	// incident and the events fn returns in one transaction, incrementing
	// Version. If fn returns an error nothing is stored. Update does not
	// store Chat; use SaveChat. fn must not call the Store: it runs inside
	// the write transaction. An event whose Key the incident already has
	// fails the whole update with ECONFLICT.
	Update(ctx context.Context, number int64, fn func(*Incident) ([]Event, error)) (*Incident, error)
	// Get returns incident number, or an ENOTFOUND error.
	Get(ctx context.Context, number int64) (*Incident, error)
	// GetByChannel returns the incident whose Chat.ChannelID is channelID,
	// or an ENOTFOUND error.
	GetByChannel(ctx context.Context, channelID string) (*Incident, error)
	// List returns incidents, newest first.
	List(ctx context.Context, f ListFilter) ([]*Incident, error)
	// Events returns the incident's events with Seq > afterSeq, by Seq.
	Events(ctx context.Context, incidentID string, afterSeq int64) ([]Event, error)
	// SaveChat stores the chat adapter's state for the incident.
	SaveChat(ctx context.Context, incidentID string, c Chat) error
	// Unsynced returns the numbers of incidents whose chat state lags:
	// events past Chat.Cursor or Chat.AnnounceCursor, or a card older than
	// Version. Oldest first.
	Unsynced(ctx context.Context) ([]int64, error)
	// DuePrompts returns the numbers of incidents whose NextPromptAt is at
	// or before now, and the earliest NextPromptAt after now (zero if
	// none). It reads only those incidents, not every open one.
	DuePrompts(ctx context.Context, now time.Time) ([]int64, time.Time, error)
	// Claim records key (for example a delivery ID) at time at and reports
	// whether this is its first claim, so that work offered twice is done
	// once, across restarts.
	Claim(ctx context.Context, key string, at time.Time) (bool, error)
	// Stats counts incidents by status and severity, and those the chat
	// adapter has not caught up with (see Unsynced) with the time the
	// oldest change it has not delivered was recorded.
	Stats(ctx context.Context) (Stats, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
}
