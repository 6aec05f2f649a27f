package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// trackerTitles are the names of the trackers follow-ups can be exported
// to, as people write them.
var trackerTitles = map[string]string{"github": "GitHub", "jira": "Jira", "asana": "Asana", "linear": "Linear"}

// TrackerTitle is a tracker's name as people write it ("GitHub").
func TrackerTitle(name string) string {
	if t, ok := trackerTitles[name]; ok {
		return t
	}
	return name
}

// errUnchanged ends a change that finds nothing to do, so that nothing is
// written: a tracker's webhook delivered twice changes nothing.
var errUnchanged = errors.New("nothing to change")

// changeTracked is change for what a follow-up's tracker reports and for
// the export's own progress. Unlike other changes it is allowed on a closed
// incident: follow-ups are mostly done after the incident is closed, and
// their issues live on.
func (s *Service) changeTracked(ctx context.Context, number int64, fn func(inc *Incident, now time.Time) ([]Event, error)) (*Incident, bool, error) {
	inc, err := s.store.Update(ctx, number, func(inc *Incident) ([]Event, error) {
		now := s.now().UTC()
		evs, err := fn(inc, now)
		if err != nil {
			return nil, err
		}
		inc.UpdatedAt = now
		for i := range evs {
			evs[i].At = now
			nameEvent(ctx, &evs[i])
		}
		return evs, nil
	})
	if errors.Is(err, errUnchanged) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	s.committed(inc)
	return inc, true, nil
}

// followUp finds follow-up id of inc.
func followUp(inc *Incident, id int) (*FollowUp, error) {
	i := slices.IndexFunc(inc.FollowUps, func(f FollowUp) bool { return f.ID == id })
	if i < 0 {
		return nil, Errorf(ENOTFOUND, "Incident #%d has no follow-up %d.", inc.Number, id)
	}
	return &inc.FollowUps[i], nil
}

// ExportFollowUp asks for an issue for follow-up id in tracker. The
// request is recorded; the tracker integration makes the issue.
func (s *Service) ExportFollowUp(ctx context.Context, number int64, actor string, id int, tracker string) (*Incident, error) {
	if tracker == "" {
		return nil, Errorf(EINVALID, "No issue tracker is configured; add one under trackers in the config file.")
	}
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		f, err := followUp(inc, id)
		if err != nil {
			return nil, err
		}
		switch {
		case f.Tracked():
			return nil, Errorf(ECONFLICT, "Follow-up %d is already tracked in %s as %s: %s", id, TrackerTitle(f.Issue.Tracker), f.Issue.Key, f.Issue.URL)
		case f.ExportTo != "":
			return nil, Errorf(ECONFLICT, "An issue for follow-up %d is already being created in %s.", id, TrackerTitle(f.ExportTo))
		}
		f.ExportTo = tracker
		return []Event{{Kind: KindFollowUpExport, Actor: actor, Text: f.Text, Data: map[string]string{"id": strconv.Itoa(id), "tracker": tracker}}}, nil
	})
}

// exportAll asks for issues for every follow-up not yet tracked, when the
// configuration exports them once the postmortem is published.
func (s *Service) exportAll(inc *Incident) []Event {
	if s.cfg.Export.On != ExportOnPostmortem || s.cfg.Export.Tracker == "" {
		return nil
	}
	var evs []Event
	for i := range inc.FollowUps {
		f := &inc.FollowUps[i]
		if f.Tracked() || f.ExportTo != "" {
			continue
		}
		f.ExportTo = s.cfg.Export.Tracker
		evs = append(evs, Event{Kind: KindFollowUpExport, Text: f.Text, Data: map[string]string{"id": strconv.Itoa(f.ID), "tracker": f.ExportTo}})
	}
	return evs
}

// LinkIssue records the issue made for follow-up id. A second report of
// the same issue changes nothing.
func (s *Service) LinkIssue(ctx context.Context, number int64, id int, ref IssueRef) (*Incident, error) {
	if ref.Tracker == "" || ref.Key == "" {
		return nil, Errorf(EINVALID, "An issue needs its tracker and key.")
	}
	inc, _, err := s.changeTracked(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		f, err := followUp(inc, id)
		if err != nil {
			return nil, err
		}
		if f.Issue == ref {
			return nil, errUnchanged
		}
		f.Issue, f.ExportTo = ref, ""
		return []Event{{Kind: KindFollowUpIssue, Text: f.Text, Data: map[string]string{"id": strconv.Itoa(id), "tracker": ref.Tracker, "key": ref.Key, "url": ref.URL}}}, nil
	})
	if err == nil && inc == nil {
		return s.Get(ctx, number)
	}
	return inc, err
}

// RefuseExport records that tracker refused to make follow-up id's issue,
// for a reason a person has to fix (a token, a scope, a project), in
// words: the people in the incident are told once, and the request is
// dropped until someone asks again, rather than retried forever.
func (s *Service) RefuseExport(ctx context.Context, number int64, id int, tracker, problem string) error {
	_, _, err := s.changeTracked(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		f, err := followUp(inc, id)
		if err != nil {
			return nil, err
		}
		if f.ExportTo != tracker || f.Tracked() {
			return nil, errUnchanged
		}
		f.ExportTo = ""
		return []Event{{Kind: KindFollowUpRefused, Text: problem, Data: map[string]string{"id": strconv.Itoa(id), "tracker": tracker, "commander": inc.Roles[CommanderRole]}}}, nil
	})
	return err
}

// IssueState records what tracker says of issue key: done (closed as
// completed) or open. The follow-up it tracks is marked done or open
// again. It reports whether anything changed: a repeated report, or one
// for an issue no follow-up of the incident has, changes nothing.
func (s *Service) IssueState(ctx context.Context, number int64, tracker, key string, done bool) (bool, error) {
	_, changed, err := s.changeTracked(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		i := slices.IndexFunc(inc.FollowUps, func(f FollowUp) bool { return f.Issue.Tracker == tracker && f.Issue.Key == key })
		if i < 0 {
			return nil, errUnchanged
		}
		f := &inc.FollowUps[i]
		if f.Done() == done {
			return nil, errUnchanged
		}
		data := map[string]string{"id": strconv.Itoa(f.ID), "tracker": tracker, "key": key}
		if done {
			f.DoneBy, f.DoneAt = "", now
			return []Event{{Kind: KindFollowUpDone, Text: f.Text, Data: data}}, nil
		}
		f.DoneBy, f.DoneAt = "", time.Time{}
		return []Event{{Kind: KindFollowUpReopened, Text: f.Text, Data: data}}, nil
	})
	if err != nil {
		return false, fmt.Errorf("record %s issue %s: %w", tracker, key, err)
	}
	return changed, nil
}
