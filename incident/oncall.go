package incident

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/oncall"
)

// OnCallStore holds the on-call overrides people record.
type OnCallStore interface {
	// AddOverride stores o, assigning its ID, and returns it as stored.
	AddOverride(ctx context.Context, o oncall.Override) (oncall.Override, error)
	// Overrides returns the overrides that end after t (in force or to
	// come), in the order they were set.
	Overrides(ctx context.Context, t time.Time) ([]oncall.Override, error)
}

// Limits on an override: a typo must not put someone on call for a year.
const (
	MinOverride = time.Minute
	MaxOverride = 14 * 24 * time.Hour
)

// UsePaging gives the Service the on-call schedules and escalation
// policies. Without it nothing pages and no schedule exists.
func (s *Service) UsePaging(p *oncall.Plan) { s.paging = p }

// Paging returns the on-call plan in use (nil when none is).
func (s *Service) Paging() *oncall.Plan { return s.paging }

// onCallSchedule returns the schedule called name, or an error listing those
// there are.
func (s *Service) onCallSchedule(name string) (*oncall.Schedule, error) {
	if sch := s.paging.Schedule(name); sch != nil {
		return sch, nil
	}
	if s.paging == nil || len(s.paging.Schedules) == 0 {
		return nil, Errorf(ENOTFOUND, "No on-call schedules are configured; add them under oncall.schedules in the config file.")
	}
	names := make([]string, len(s.paging.Schedules))
	for i, sch := range s.paging.Schedules {
		names[i] = sch.Name
	}
	return nil, Errorf(ENOTFOUND, "There is no on-call schedule called %q. Schedules: %s.", name, strings.Join(names, ", "))
}

// SetOverride puts user on call for schedule from now for d, recorded as
// set by actor.
func (s *Service) SetOverride(ctx context.Context, actor, schedule, user string, d time.Duration) (oncall.Override, error) {
	if _, err := s.onCallSchedule(schedule); err != nil {
		return oncall.Override{}, err
	}
	if !oncall.IsUserID(user) {
		return oncall.Override{}, Errorf(EINVALID, "Say who goes on call: type @ and pick the person.")
	}
	if d < MinOverride || d > MaxOverride {
		return oncall.Override{}, Errorf(EINVALID, "An override lasts from %s to %d days, such as 8h or 3d; %s is not that.", MinOverride, MaxOverride/(24*time.Hour), FormatDuration(d))
	}
	now := s.now().UTC()
	o, err := s.store.AddOverride(ctx, oncall.Override{Schedule: schedule, User: user, Start: now, End: now.Add(d), SetBy: actor, SetAt: now})
	if err != nil {
		return oncall.Override{}, fmt.Errorf("record override: %w", err)
	}
	return o, nil
}

// OnCallNow is who is on call for one schedule now, and next.
type OnCallNow struct {
	Schedule string
	Now      oncall.Shift
	Next     oncall.Shift
}

// OnCall returns who is on call now and next for the schedule called name,
// or for every schedule when name is "".
func (s *Service) OnCall(ctx context.Context, name string) ([]OnCallNow, error) {
	var schedules []*oncall.Schedule
	if name != "" {
		sch, err := s.onCallSchedule(name)
		if err != nil {
			return nil, err
		}
		schedules = []*oncall.Schedule{sch}
	} else if s.paging != nil {
		schedules = s.paging.Schedules
	}
	if len(schedules) == 0 {
		return nil, nil
	}
	now := s.now().UTC()
	ovs, err := s.store.Overrides(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("read overrides: %w", err)
	}
	out := make([]OnCallNow, len(schedules))
	for i, sch := range schedules {
		cur, next := sch.NowAndNext(now, ovs)
		out[i] = OnCallNow{Schedule: sch.Name, Now: cur, Next: next}
	}
	return out, nil
}

// FormatDuration writes d as people write it: 90m is 1h30m, 48h is 2d.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		return "-" + FormatDuration(-d)
	}
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	d = d.Round(time.Minute)
	days, rest := d/(24*time.Hour), d%(24*time.Hour)
	h, m := rest/time.Hour, (rest%time.Hour)/time.Minute
	var b strings.Builder
	if days > 0 {
		fmt.Fprintf(&b, "%dd", days)
	}
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	return b.String()
}
