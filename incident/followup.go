package incident

import (
	"context"
	"slices"
	"strconv"
	"time"
)

// MaxFollowUps caps an incident's follow-ups: each takes a block of the
// follow-ups message, which holds 50. More than that belongs in a tracker.
const MaxFollowUps = 45

// FollowUp is an action item that comes out of an incident.
type FollowUp struct {
	ID        int // 1, 2, … within the incident
	Text      string
	Owner     string // user ID; "" when nobody owns it yet
	CreatedBy string
	CreatedAt time.Time
	DoneBy    string    // "" when the follow-up was done in its tracker
	DoneAt    time.Time // zero while open
	// ExportTo names the tracker someone asked for an issue in (or the
	// configuration did, Config.Export), until Issue is set: the request
	// is recorded first and the issue made after, so that a crash or a
	// lost answer neither drops it nor makes a second issue.
	ExportTo string
	// Issue is where the follow-up is tracked, once its issue exists.
	Issue IssueRef
}

// IssueRef names an issue in a tracker.
type IssueRef struct {
	Tracker string // "github", "jira", "asana", "linear"
	Key     string // what people type: "acme/ops#12", "OPS-7", a task gid
	URL     string // the issue's page
}

// Tracked reports whether the follow-up has its issue.
func (f FollowUp) Tracked() bool { return f.Issue.Key != "" }

// Done reports whether the follow-up is done.
func (f FollowUp) Done() bool { return !f.DoneAt.IsZero() }

// AddFollowUp records a follow-up with an optional owner. Follow-ups can be
// added until the incident is closed, which is when they are most often
// found: while writing the postmortem.
func (s *Service) AddFollowUp(ctx context.Context, number int64, actor, text, owner string) (*Incident, error) {
	text, err := cleanText("follow-up", text, false)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		if len(inc.FollowUps) >= MaxFollowUps {
			return nil, Errorf(ECONFLICT, "Incident #%d already has %d follow-ups; track more in your issue tracker and note the link.", inc.Number, MaxFollowUps)
		}
		id := 1
		if n := len(inc.FollowUps); n > 0 {
			id = inc.FollowUps[n-1].ID + 1
		}
		f := FollowUp{ID: id, Text: text, Owner: owner, CreatedBy: actor, CreatedAt: now}
		data := map[string]string{"id": strconv.Itoa(id), "owner": owner}
		if s.cfg.Export.On == ExportOnCreate && s.cfg.Export.Tracker != "" {
			f.ExportTo = s.cfg.Export.Tracker
			data["export"] = f.ExportTo
		}
		inc.FollowUps = append(inc.FollowUps, f)
		return []Event{{Kind: KindFollowUp, Actor: actor, Text: text, Data: data}}, nil
	})
}

// CompleteFollowUp marks follow-up id done.
func (s *Service) CompleteFollowUp(ctx context.Context, number int64, actor string, id int) (*Incident, error) {
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		i := slices.IndexFunc(inc.FollowUps, func(f FollowUp) bool { return f.ID == id })
		if i < 0 {
			return nil, Errorf(ENOTFOUND, "Incident #%d has no follow-up %d.", inc.Number, id)
		}
		f := &inc.FollowUps[i]
		if f.Done() {
			return nil, Errorf(ECONFLICT, "Follow-up %d of incident #%d is already done.", id, inc.Number)
		}
		f.DoneBy, f.DoneAt = actor, now
		return []Event{{Kind: KindFollowUpDone, Actor: actor, Text: f.Text, Data: map[string]string{"id": strconv.Itoa(id)}}}, nil
	})
}
