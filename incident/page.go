package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/oncall"
)

// PageState says where a page is.
type PageState string

// The states of a page.
const (
	PageOpen         PageState = "open"         // notifying, step by step, until someone acknowledges
	PageAcknowledged PageState = "acknowledged" // someone acknowledged: escalation stopped
	PageCancelled    PageState = "cancelled"    // the incident was resolved first
	PageExhausted    PageState = "exhausted"    // every step (and repeat) went unanswered
)

// Page is one attempt to wake people for an incident: an escalation
// policy's steps, or one person or schedule paged by hand. It lives in the
// incident, so that starting it, each step and its acknowledgement are
// recorded in the same transaction as the events that say so; Due is when
// its next step falls due, from which the Store finds due pages after any
// restart.
type Page struct {
	ID      int       `json:"id"`
	Policy  string    `json:"policy,omitempty"` // the escalation policy; "" for a page by hand
	Target  string    `json:"target,omitempty"` // a page by hand's target: user:<id> or schedule:<name>
	Message string    `json:"message,omitempty"`
	By      string    `json:"by,omitempty"`     // who paged; "" when Sitrep did
	Reason  string    `json:"reason,omitempty"` // severity, route:<name>, command
	At      time.Time `json:"at"`               // when it started
	State   PageState `json:"state"`
	// Step is the index of the policy step last notified, -1 before the
	// first; Round counts the policy's repeats so far.
	Step  int `json:"step"`
	Round int `json:"round,omitempty"`
	// Due is when the next step (the first, for a new page) is due; zero
	// when none will be.
	Due time.Time `json:"due,omitzero"`
	// Notified are the people paged so far, who may acknowledge.
	Notified []string  `json:"notified,omitempty"`
	AckBy    string    `json:"ack_by,omitempty"`  // user ID, or a PagerDuty responder's name
	AckVia   string    `json:"ack_via,omitempty"` // slack, pagerduty
	AckAt    time.Time `json:"ack_at,omitzero"`
}

// Events of paging (Data keys as listed).
const (
	// KindPage records a step of a page: page, step (1-based), round,
	// notify (the target), users (space-separated), channel, late
	// ("true" when Sitrep was down when it fell due), escalated ("true"
	// for steps after the first); Text the page's message.
	KindPage EventKind = "page"
	// KindPageAck records an acknowledgement: page, via (slack,
	// pagerduty), by (a PagerDuty responder's name), tta (seconds since
	// the page started).
	KindPageAck EventKind = "page_ack"
	// KindPageCancelled records pages cancelled by resolving: pages.
	KindPageCancelled EventKind = "page_cancelled"
	// KindPageExhausted records a page nobody acknowledged: page, commander.
	KindPageExhausted EventKind = "page_exhausted"
	// KindPagerDuty records what PagerDuty said of the incident: status
	// (acknowledged, escalated, reassigned, resolved), by (the
	// responder's name), pd (PagerDuty's incident number).
	KindPagerDuty EventKind = "pagerduty"
	// KindPageProblem records a paging provider's refusal, told to the
	// commander: Text the problem; Data commander.
	KindPageProblem EventKind = "page_problem"
)

// LateAfter is how far past due a step must be sent to be marked late: it
// fell due while Sitrep was down.
const LateAfter = time.Minute

// PageRequest is a page started by hand (/incident page).
type PageRequest struct {
	Target  string // user:<id> or schedule:<name>
	Message string
}

// defaultPolicy is the policy paged when an incident is declared at or
// above page_at: the policy called default, else the first configured.
func (s *Service) defaultPolicy() (oncall.Policy, bool) {
	if s.paging == nil || len(s.paging.Policies) == 0 {
		return oncall.Policy{}, false
	}
	if p, ok := s.paging.Policy("default"); ok {
		return p, true
	}
	return s.paging.Policies[0], true
}

// pagesAt reports whether severity sev is at or above page_at.
func (s *Service) pagesAt(sev string) bool {
	if s.paging == nil || s.paging.PageAt == "" {
		return false
	}
	r := s.cfg.severityRank(s.paging.PageAt)
	return r >= 0 && s.cfg.severityRank(sev) <= r
}

// startPage adds a page to inc: its first step is due now, sent by the
// escalator (SendPageSteps), which resolves who is on call then.
func startPage(inc *Incident, p Page, now time.Time) {
	p.ID = len(inc.Pages) + 1
	p.At, p.Due, p.Step, p.State = now, now, -1, PageOpen
	inc.Pages = append(inc.Pages, p)
}

// autoPage starts the default policy's page on inc when its severity is
// at or above page_at and no policy has paged for it yet. Drills do not
// wake anyone unless asked to with /incident page.
func (s *Service) autoPage(inc *Incident, policy, reason string, now time.Time) {
	if inc.Drill || !inc.Status.Open() {
		return
	}
	for _, p := range inc.Pages {
		if p.Policy != "" {
			return
		}
	}
	if policy == "" {
		if !s.pagesAt(inc.Severity) {
			return
		}
		pol, ok := s.defaultPolicy()
		if !ok {
			return
		}
		policy = pol.Name
	}
	if _, ok := s.paging.Policy(policy); !ok {
		return
	}
	startPage(inc, Page{Policy: policy, Reason: reason}, now)
}

// PageBy starts a page by hand: a person, or whoever is on call for a
// schedule (with their backup when they are provisional).
func (s *Service) PageBy(ctx context.Context, number int64, actor string, req PageRequest) (*Incident, error) {
	kind, name, _ := strings.Cut(req.Target, ":")
	switch kind {
	case oncall.TargetUser:
		if !oncall.IsUserID(name) {
			return nil, Errorf(EINVALID, "Say whom to page: @someone or a schedule's name.")
		}
	case oncall.TargetSchedule:
		if _, err := s.onCallSchedule(name); err != nil {
			return nil, err
		}
	default:
		return nil, Errorf(EINVALID, "Say whom to page: @someone or a schedule's name.")
	}
	msg, err := cleanText("message", req.Message, true)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		if !inc.Status.Open() {
			return nil, Errorf(ECONFLICT, "Incident #%d is %s; reopen it before paging anyone.", inc.Number, inc.Status)
		}
		if len(inc.Pages) >= MaxPages {
			return nil, Errorf(ECONFLICT, "Incident #%d has been paged %d times; that is the most one incident may.", inc.Number, MaxPages)
		}
		startPage(inc, Page{Target: req.Target, Message: msg, By: actor, Reason: "command"}, now)
		return nil, nil
	})
}

// MaxPages caps the pages of one incident, so that a stuck button cannot
// page people without end.
const MaxPages = 50

// pageSteps returns the steps of page p: its policy's, or the one step of
// a page by hand.
func (s *Service) pageSteps(p Page) ([]oncall.Step, int) {
	if p.Policy != "" {
		pol, ok := s.paging.Policy(p.Policy)
		if !ok {
			return nil, 0
		}
		return pol.Steps, pol.Repeat
	}
	kind, name, _ := strings.Cut(p.Target, ":")
	return []oncall.Step{{Target: oncall.Target{Kind: kind, Name: name}}}, 0
}

// NextStep returns the step and round that follow (step, round) in a
// policy of n steps repeated repeat times, and false after the last.
func NextStep(step, round, n, repeat int) (int, int, bool) {
	switch {
	case step+1 < n:
		return step + 1, round, true
	case round < repeat:
		return 0, round + 1, true
	}
	return 0, 0, false
}

// schedulePages stores when inc's next page step is due, for the Store to
// find (DuePages).
func schedulePages(inc *Incident) {
	inc.NextPageAt = time.Time{}
	for _, p := range inc.Pages {
		if p.State == PageOpen && !p.Due.IsZero() && (inc.NextPageAt.IsZero() || p.Due.Before(inc.NextPageAt)) {
			inc.NextPageAt = p.Due
		}
	}
}

// DuePages returns the incidents with a page step due at now, and when the
// next one after now is due (zero if none is).
func (s *Service) DuePages(ctx context.Context, now time.Time) ([]int64, time.Time, error) {
	return s.store.DuePages(ctx, now)
}

var errNoPageDue = errors.New("no page step due")

// SendPageSteps records the page steps of incident number that are due
// now: whom each notifies, resolved from the schedules and overrides now,
// as KindPage events for the adapters to deliver, in the same transaction
// that advances the page. So a step is sent once, and a step that fell due
// while Sitrep was down is sent at once on start, marked late. A page whose
// last step went unanswered is marked exhausted and the commander told.
// It reports how many steps it recorded.
func (s *Service) SendPageSteps(ctx context.Context, number int64) (int, error) {
	now := s.now().UTC()
	ovs, err := s.store.Overrides(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("read overrides: %w", err)
	}
	sent := 0
	_, err = s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		var evs []Event
		for i := range inc.Pages {
			p := &inc.Pages[i]
			if p.State != PageOpen || p.Due.IsZero() || p.Due.After(now) {
				continue
			}
			steps, repeat := s.pageSteps(*p)
			late := now.Sub(p.Due) > LateAfter
			step, round, ok := 0, 0, true
			if p.Step >= 0 {
				step, round, ok = NextStep(p.Step, p.Round, len(steps), repeat)
			}
			if !ok || len(steps) == 0 {
				p.State, p.Due = PageExhausted, time.Time{}
				evs = append(evs, Event{Kind: KindPageExhausted, Data: map[string]string{"page": strconv.Itoa(p.ID), "commander": inc.Commander()}})
				continue
			}
			st := steps[step]
			r := s.paging.Resolve(st.Target, now, ovs)
			p.Step, p.Round = step, round
			p.Due = time.Time{}
			if st.After > 0 {
				// A late step gives people its whole wait, from now.
				p.Due = now.Add(st.After)
			}
			for _, u := range r.Users {
				if !slices.Contains(p.Notified, u) {
					p.Notified = append(p.Notified, u)
				}
			}
			data := map[string]string{"page": strconv.Itoa(p.ID), "step": strconv.Itoa(step + 1), "round": strconv.Itoa(round),
				"notify": st.Target.String(), "users": strings.Join(r.Users, " "), "channel": r.Channel}
			if p.Policy != "" {
				data["policy"] = p.Policy
			}
			if late {
				data["late"] = "true"
			}
			if step > 0 || round > 0 {
				data["escalated"] = "true"
			}
			if st.SMS {
				data["sms"] = "true"
			}
			if st.Call {
				data["call"] = "true"
			}
			evs = append(evs, Event{Kind: KindPage, Actor: p.By, Text: p.Message, Data: data})
			sent++
		}
		if len(evs) == 0 {
			was := inc.NextPageAt
			if schedulePages(inc); inc.NextPageAt.Equal(was) {
				return nil, errNoPageDue
			}
		}
		return evs, nil
	})
	switch {
	case errors.Is(err, errNoPageDue):
		return 0, nil
	case ErrorCode(err) == ECONFLICT && sent == 0:
		return 0, nil // closed meanwhile
	case err != nil:
		return 0, err
	}
	return sent, nil
}

// AcknowledgePage records that actor acknowledged page id of incident
// number in Slack: its escalation stops. Only the people it paged may.
func (s *Service) AcknowledgePage(ctx context.Context, number int64, id int, actor string) (*Incident, error) {
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		if id < 1 || id > len(inc.Pages) {
			return nil, Errorf(ENOTFOUND, "Incident #%d has no page %d.", inc.Number, id)
		}
		p := &inc.Pages[id-1]
		switch p.State {
		case PageAcknowledged:
			e := Errorf(ECONFLICT, "This page was already acknowledged by {by} at %s UTC.", p.AckAt.UTC().Format("15:04"))
			if p.AckVia == "slack" {
				e.People = map[string][]string{"by": {p.AckBy}}
			} else {
				e.Message = fmt.Sprintf("This page was already acknowledged in PagerDuty by %s at %s UTC.", p.AckBy, p.AckAt.UTC().Format("15:04"))
			}
			return nil, e
		case PageCancelled:
			return nil, Errorf(ECONFLICT, "This page was cancelled: incident #%d was resolved. Nothing to acknowledge.", inc.Number)
		}
		if !slices.Contains(p.Notified, actor) {
			return nil, Errorf(EFORBIDDEN, "This page was meant for someone else; only the people it paged can acknowledge it. To help, join the incident's channel.")
		}
		return []Event{ack(inc, p, now, actor, "slack", "")}, nil
	})
}

// ack marks page p acknowledged and returns the event that records it.
func ack(inc *Incident, p *Page, now time.Time, actor, via, name string) Event {
	p.State, p.Due, p.AckAt, p.AckVia = PageAcknowledged, time.Time{}, now, via
	p.AckBy = actor
	if name != "" {
		p.AckBy = name
	}
	data := map[string]string{"page": strconv.Itoa(p.ID), "via": via, "tta": strconv.Itoa(int(now.Sub(p.At).Seconds()))}
	if name != "" {
		data["by"] = name
	}
	return Event{Kind: KindPageAck, Actor: actor, Data: data}
}

// PagerDutyStatus is what a PagerDuty webhook said of an incident.
type PagerDutyStatus struct {
	Status string // acknowledged, escalated, reassigned, resolved
	By     string // the responder's name
	Number string // PagerDuty's incident number, for the timeline
	Key    string // the webhook's id, so that a repeated delivery records nothing
}

// RecordPagerDuty puts what PagerDuty said on the timeline. An
// acknowledgement there acknowledges Sitrep's open pages too, so that its
// own escalation stops. A repeated webhook (same Key) changes nothing.
func (s *Service) RecordPagerDuty(ctx context.Context, number int64, st PagerDutyStatus) (*Incident, error) {
	switch st.Status {
	case "acknowledged", "escalated", "reassigned", "resolved":
	default:
		return nil, Errorf(EINVALID, "PagerDuty status %q is not recorded.", st.Status)
	}
	inc, err := s.store.Get(ctx, number)
	if err != nil {
		return nil, err
	}
	if inc.Status == Closed {
		return inc, nil // its record is final; PagerDuty is told nothing back
	}
	return s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		evs := []Event{{Kind: KindPagerDuty, Key: "pagerduty:" + st.Key, Data: map[string]string{"status": st.Status, "by": st.By, "pd": st.Number}}}
		if st.Status == "acknowledged" {
			for i := range inc.Pages {
				if p := &inc.Pages[i]; p.State == PageOpen || p.State == PageExhausted {
					evs = append(evs, ack(inc, p, now, "", "pagerduty", orText(st.By, "someone")))
				}
			}
		}
		return evs, nil
	})
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// cancelPages cancels inc's open pages, for Resolve.
func cancelPages(inc *Incident) []Event {
	var ids []string
	for i := range inc.Pages {
		if p := &inc.Pages[i]; p.State == PageOpen {
			p.State, p.Due = PageCancelled, time.Time{}
			ids = append(ids, strconv.Itoa(p.ID))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return []Event{{Kind: KindPageCancelled, Data: map[string]string{"pages": strings.Join(ids, " ")}}}
}

// TimeToAcknowledge is how long the incident's first page waited for its
// first acknowledgement; false when nobody has acknowledged any.
func TimeToAcknowledge(inc *Incident) (time.Duration, bool) {
	var first, acked time.Time
	for _, p := range inc.Pages {
		if first.IsZero() || p.At.Before(first) {
			first = p.At
		}
		if p.State == PageAcknowledged && (acked.IsZero() || p.AckAt.Before(acked)) {
			acked = p.AckAt
		}
	}
	if acked.IsZero() {
		return 0, false
	}
	return acked.Sub(first), true
}

// describePage renders a paging event as one line.
func describePage(e Event, mention func(string) string) string {
	d := e.Data
	switch e.Kind {
	case KindPage:
		var who []string
		for _, u := range strings.Fields(d["users"]) {
			who = append(who, mention(u))
		}
		if d["channel"] != "" {
			who = append(who, "<#"+d["channel"]+">")
		}
		if len(who) == 0 {
			who = []string{"nobody (no one is on call for " + d["notify"] + ")"}
		}
		s := "Paged " + strings.Join(who, " and ")
		if d["policy"] != "" {
			s += fmt.Sprintf(" (%s, step %s)", d["policy"], d["step"])
		}
		if d["escalated"] == "true" {
			s = "Escalated: " + s
		}
		if d["late"] == "true" {
			s += ", late: Sitrep was down when it fell due"
		}
		if e.Text != "" {
			s += ": " + e.Text
		}
		return s
	case KindPageAck:
		who := mention(e.Actor)
		if d["by"] != "" {
			who = d["by"]
		}
		s := "Page acknowledged by " + who
		if d["via"] == "pagerduty" {
			s += " in PagerDuty"
		}
		if n, err := strconv.Atoi(d["tta"]); err == nil {
			s += " after " + FormatDuration(time.Duration(n)*time.Second)
		}
		return s
	case KindPageCancelled:
		return "Open pages cancelled: the incident is resolved"
	case KindPageExhausted:
		return "Nobody acknowledged the page; its escalation policy has run out"
	case KindPageProblem:
		s := e.Text
		if d["commander"] != "" {
			s = mention(d["commander"]) + ": " + s
		}
		return s
	case KindPagerDuty:
		s := "PagerDuty: " + d["status"]
		if d["by"] != "" {
			s += " by " + d["by"]
		}
		return s
	}
	return string(e.Kind)
}

// RecordPageProblem puts on the timeline, once per refusal, that a paging
// provider refused what Sitrep sent for the incident (PagerDuty a wrong
// routing key, Twilio a wrong number), so that the commander hears of it;
// what was refused is not sent again.
func (s *Service) RecordPageProblem(ctx context.Context, number int64, problem string) error {
	_, err := s.change(ctx, number, func(inc *Incident, now time.Time) ([]Event, error) {
		return []Event{{Kind: KindPageProblem, Text: cut(problem, MaxText), Data: map[string]string{"commander": inc.Commander()}}}, nil
	})
	if ErrorCode(err) == ECONFLICT {
		return nil // closed: its record is final, and nobody is waiting on a page
	}
	return err
}
