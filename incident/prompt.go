package incident

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// PromptKind says what a prompt asks for.
type PromptKind string

// The kinds of prompt.
const (
	PromptUpdate     PromptKind = "update"     // a status update is due
	PromptPostmortem PromptKind = "postmortem" // a resolved incident has no postmortem yet
)

// CommsRole is the role named, besides the commander, when a status update
// is overdue. Nobody is named when the configuration has no such role.
const CommsRole = "comms"

// postmortemEvery is how often a resolved incident is reminded of its
// missing postmortem.
const postmortemEvery = 24 * time.Hour

// Prompt is a reminder Sitrep owes an incident.
type Prompt struct {
	Kind PromptKind
	// Level counts the prompts of this kind since the clock last started:
	// for updates 1 is "due" and 2 "overdue" (which names the comms role
	// too); for postmortems, the day since resolution.
	Level int
	At    time.Time // when it is due
}

// NextPrompt returns the next prompt incident inc is owed, and false when
// none will be. It is a pure function of stored state: a status update is
// due a cadence after the clock started (declaration, the last update, or
// a reopen), or when the last update said the next would come, and
// overdue at twice that, when it is prompted a second
// and last time until the next update; a resolved incident without a
// postmortem is prompted daily; a closed one never.
func NextPrompt(inc *Incident, cfg Config) (Prompt, bool) {
	switch {
	case inc.Status == Closed:
		return Prompt{}, false
	case inc.Status == Resolved:
		if !inc.PostmortemAt.IsZero() {
			return Prompt{}, false
		}
		n := inc.PostmortemPrompts + 1
		return Prompt{Kind: PromptPostmortem, Level: n, At: inc.ResolvedAt.Add(time.Duration(n) * postmortemEvery)}, true
	}
	every := cfg.UpdateEvery(inc)
	if every <= 0 || inc.UpdatePrompts >= 2 {
		return Prompt{}, false
	}
	n := inc.UpdatePrompts + 1
	return Prompt{Kind: PromptUpdate, Level: n, At: inc.LastUpdateAt.Add(time.Duration(n) * every)}, true
}

// UpdateEvery returns how long after the last status update (or the
// declaration, or a reopen) the next one is due: what the last update
// promised, or else the severity's cadence. Zero means none is expected.
func (c Config) UpdateEvery(inc *Incident) time.Duration {
	if inc.UpdateEvery > 0 {
		return inc.UpdateEvery
	}
	sev, err := c.Severity(inc.Severity)
	if err != nil {
		return 0
	}
	return sev.Cadence
}

// UpdateDue returns when incident inc's next status update is due, and
// false when none is expected (it is not open, or its severity has no
// cadence and no update promised one).
func (c Config) UpdateDue(inc *Incident) (time.Time, bool) {
	every := c.UpdateEvery(inc)
	if !inc.Status.Open() || every <= 0 {
		return time.Time{}, false
	}
	return inc.LastUpdateAt.Add(every), true
}

// schedule stores when inc's next prompt is due, for the Store to find.
func (c Config) schedule(inc *Incident) {
	inc.NextPromptAt = time.Time{}
	if p, ok := NextPrompt(inc, c); ok {
		inc.NextPromptAt = p.At
	}
}

// DuePrompts returns the incidents with a prompt due at now, and when the
// next one after now is due (zero if none is).
func (s *Service) DuePrompts(ctx context.Context, now time.Time) ([]int64, time.Time, error) {
	return s.store.DuePrompts(ctx, now)
}

// errNothingDue makes SendPrompt's change write nothing when no prompt is
// due and the stored schedule is already right.
var errNothingDue = errors.New("no prompt due")

// SendPrompt records the prompt incident number is owed now, as a timeline
// event for the chat adapter to deliver, and advances the incident's prompt
// state in the same transaction: a prompt is recorded once, and delivered
// from the record after any crash. When prompts were missed (Sitrep was
// down), one prompt at the latest level due stands for them all. It
// reports false when no prompt is due after all (an update came in
// meanwhile), having brought the incident's schedule up to date.
func (s *Service) SendPrompt(ctx context.Context, number int64) (bool, error) {
	sent := false
	_, err := s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		p, ok := NextPrompt(inc, s.cfg)
		if !ok || p.At.After(now) {
			// Store the schedule only if it was stale, so that the store
			// stops offering the incident. Otherwise write nothing: a new
			// Version and UpdatedAt would tell the chat adapter that the
			// incident changed when it did not.
			was := inc.NextPromptAt
			if s.cfg.schedule(inc); inc.NextPromptAt.Equal(was) {
				return nil, errNothingDue
			}
			return nil, nil
		}
		for {
			switch p.Kind {
			case PromptUpdate:
				inc.UpdatePrompts = p.Level
			case PromptPostmortem:
				inc.PostmortemPrompts = p.Level
			}
			next, ok := NextPrompt(inc, s.cfg)
			if !ok || next.Kind != p.Kind || next.At.After(now) {
				break
			}
			p = next
		}
		data := map[string]string{"prompt": string(p.Kind), "level": strconv.Itoa(p.Level), "commander": inc.Commander()}
		if p.Kind == PromptUpdate && p.Level >= 2 && inc.Roles[CommsRole] != "" {
			data["comms"] = inc.Roles[CommsRole]
		}
		sent = true
		return []Event{{Kind: KindPrompt, Data: data}}, nil
	})
	switch {
	case errors.Is(err, errNothingDue):
		return false, nil
	case ErrorCode(err) == ECONFLICT && !sent:
		return false, nil // closed meanwhile: nothing is owed
	case err != nil:
		return false, err // fn may have run, but nothing was stored
	}
	return sent, nil
}

// Reschedule recomputes every unfinished incident's next prompt, for when
// the configured cadences have changed since it was stored.
func (s *Service) Reschedule(ctx context.Context) error {
	incs, err := s.store.List(ctx, ListFilter{})
	if err != nil {
		return err
	}
	for _, inc := range incs {
		if inc.Status == Closed {
			continue
		}
		was := inc.NextPromptAt
		if s.cfg.schedule(inc); inc.NextPromptAt.Equal(was) {
			continue
		}
		changed, err := s.store.Update(ctx, inc.Number, func(inc *Incident) ([]Event, error) {
			s.cfg.schedule(inc)
			return nil, nil
		})
		if err != nil {
			return err
		}
		s.committed(changed)
	}
	return nil
}
