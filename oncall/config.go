package oncall

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the oncall section of the config file, as written.
type Config struct {
	// PageAt is the severity at or above which declaring an incident
	// pages (default sev1, when the scale has it).
	PageAt    string           `yaml:"page_at,omitempty"`
	Schedules []ScheduleConfig `yaml:"schedules,omitempty"`
	Policies  []PolicyConfig   `yaml:"policies,omitempty"`
	// Phones are people's phone numbers (E.164, +4915112345678), by
	// Slack user ID, for steps that send an SMS or call.
	Phones map[string]string `yaml:"phones,omitempty"`
}

// ScheduleConfig is one entry of oncall.schedules.
type ScheduleConfig struct {
	Name        string   `yaml:"name"`
	TimeZone    string   `yaml:"time_zone"`
	Start       string   `yaml:"start"`   // 2026-01-05
	Handoff     string   `yaml:"handoff"` // "monday 09:00", or "09:00" for daily shifts
	Shift       string   `yaml:"shift,omitempty"`
	Rotation    []string `yaml:"rotation"`
	Provisional []string `yaml:"provisional,omitempty"`
	Backup      []string `yaml:"backup,omitempty"`
}

// PolicyConfig is one entry of oncall.policies.
type PolicyConfig struct {
	Name  string       `yaml:"name"`
	Steps []StepConfig `yaml:"steps"`
	// Repeat is how many times the steps run again from the first when
	// nobody acknowledged by the end of the last.
	Repeat int `yaml:"repeat,omitempty"`
	// RoutingKey is the PagerDuty Events API routing key this policy's
	// pages go to, in place of PAGERDUTY_ROUTING_KEY.
	RoutingKey string `yaml:"routing_key,omitempty"`
}

// StepConfig is one step of a policy.
type StepConfig struct {
	Notify string `yaml:"notify"` // schedule:<name>, backup:<name>, user:<id>, channel:<id>, policy:<name>
	After  string `yaml:"after"`  // how long before the next step: 5m
	// SMS and Call also text or ring the people the step pages (Twilio),
	// besides their direct message.
	SMS  bool `yaml:"sms,omitempty"`
	Call bool `yaml:"call,omitempty"`
}

// Plan is the compiled oncall configuration.
type Plan struct {
	PageAt    string
	Schedules []*Schedule
	Policies  []Policy
	Phones    map[string]string
}

// UsesPhones reports whether any step texts or calls.
func (p *Plan) UsesPhones() bool {
	if p == nil {
		return false
	}
	for _, pol := range p.Policies {
		for _, st := range pol.Steps {
			if st.SMS || st.Call {
				return true
			}
		}
	}
	return false
}

// Policy is a compiled escalation policy: its steps with other policies'
// steps they name inlined.
type Policy struct {
	Name       string
	Steps      []Step
	Repeat     int
	RoutingKey string
}

// Step is one step of a policy.
type Step struct {
	Target    Target
	After     time.Duration
	SMS, Call bool
}

// Target is whom a step notifies.
type Target struct {
	Kind string // schedule, backup, user, channel
	Name string // the schedule's name, or the user's or channel's ID
}

func (t Target) String() string { return t.Kind + ":" + t.Name }

// The kinds of Target.
const (
	TargetSchedule = "schedule"
	TargetBackup   = "backup"
	TargetUser     = "user"
	TargetChannel  = "channel"
)

// Limits on policies, so that a typo cannot page people every ten seconds
// for a day.
const (
	MinAfter  = 10 * time.Second
	MaxAfter  = 24 * time.Hour
	MaxRepeat = 10
	MaxSteps  = 20
)

var (
	nameRE    = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,29}$`)
	userRE    = regexp.MustCompile(`^[UW][A-Z0-9]+$`)
	channelRE = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)
	handoffRE = regexp.MustCompile(`^(?:([a-z]+) +)?(\d{1,2}):(\d{2})$`)
	phoneRE   = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// IsUserID reports whether s looks like a Slack user ID.
func IsUserID(s string) bool { return userRE.MatchString(s) }

// Compile checks c and returns the plan it describes. severities are the
// configured severity names, most severe first. The first problem found is
// returned in one line naming the setting.
func (c Config) Compile(severities []string) (*Plan, error) {
	p := &Plan{PageAt: c.PageAt, Phones: c.Phones}
	for u, n := range c.Phones {
		if !userRE.MatchString(u) {
			return nil, fmt.Errorf("oncall.phones: %q is not a Slack user ID (U…)", u)
		}
		if !phoneRE.MatchString(n) {
			return nil, fmt.Errorf("oncall.phones.%s: %q is not a phone number in E.164 form, such as +4915112345678", u, n)
		}
	}
	if p.PageAt == "" && slices.Contains(severities, "sev1") {
		p.PageAt = "sev1"
	}
	if c.PageAt != "" && !slices.Contains(severities, c.PageAt) {
		return nil, fmt.Errorf("oncall.page_at %q: not one of the severities (%s)", c.PageAt, strings.Join(severities, ", "))
	}
	for i, sc := range c.Schedules {
		s, err := sc.compile()
		if err != nil {
			return nil, fmt.Errorf("oncall.schedules[%d] %q: %w", i, sc.Name, err)
		}
		if p.Schedule(s.Name) != nil {
			return nil, fmt.Errorf("oncall.schedules[%d] %q: listed twice", i, sc.Name)
		}
		p.Schedules = append(p.Schedules, s)
	}
	byName := map[string]PolicyConfig{}
	for i, pc := range c.Policies {
		if !nameRE.MatchString(pc.Name) {
			return nil, fmt.Errorf("oncall.policies[%d].name %q: use lowercase letters, digits, - or _ (at most 30), starting with a letter", i, pc.Name)
		}
		if _, ok := byName[pc.Name]; ok {
			return nil, fmt.Errorf("oncall.policies[%d] %q: listed twice", i, pc.Name)
		}
		byName[pc.Name] = pc
	}
	for i, pc := range c.Policies {
		steps, err := p.steps(pc, byName, []string{pc.Name})
		if err != nil {
			return nil, fmt.Errorf("oncall.policies[%d] %q: %w", i, pc.Name, err)
		}
		if len(steps) > MaxSteps {
			return nil, fmt.Errorf("oncall.policies[%d] %q: %d steps with those it includes; at most %d", i, pc.Name, len(steps), MaxSteps)
		}
		if pc.Repeat < 0 || pc.Repeat > MaxRepeat {
			return nil, fmt.Errorf("oncall.policies[%d] %q: repeat %d: between 0 and %d", i, pc.Name, pc.Repeat, MaxRepeat)
		}
		p.Policies = append(p.Policies, Policy{Name: pc.Name, Steps: steps, Repeat: pc.Repeat, RoutingKey: strings.TrimSpace(pc.RoutingKey)})
	}
	return p, nil
}

// steps compiles pc's steps, inlining the policies its policy: steps
// name; path is the chain of policies being inlined, to refuse a loop.
func (p *Plan) steps(pc PolicyConfig, byName map[string]PolicyConfig, path []string) ([]Step, error) {
	if len(pc.Steps) == 0 {
		return nil, fmt.Errorf("no steps; add at least one, such as {notify: \"schedule:primary\", after: 5m}")
	}
	var out []Step
	for j, sc := range pc.Steps {
		kind, name, ok := strings.Cut(strings.TrimSpace(sc.Notify), ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("steps[%d].notify %q: use schedule:<name>, backup:<name>, user:<U…>, channel:<C…> or policy:<name>", j, sc.Notify)
		}
		if kind == "policy" {
			if slices.Contains(path, name) {
				return nil, fmt.Errorf("steps[%d].notify %q: loops back to policy %q (%s)", j, sc.Notify, name, strings.Join(append(path, name), " → "))
			}
			inner, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("steps[%d].notify %q: no policy is called %q", j, sc.Notify, name)
			}
			steps, err := p.steps(inner, byName, append(slices.Clone(path), name))
			if err != nil {
				return nil, err
			}
			out = append(out, steps...)
			continue
		}
		t := Target{Kind: kind, Name: name}
		switch kind {
		case TargetSchedule, TargetBackup:
			s := p.Schedule(name)
			if s == nil {
				return nil, fmt.Errorf("steps[%d].notify %q: no schedule is called %q", j, sc.Notify, name)
			}
			if kind == TargetBackup && len(s.Backup) == 0 {
				return nil, fmt.Errorf("steps[%d].notify %q: schedule %q has no backup rotation", j, sc.Notify, name)
			}
		case TargetUser:
			if !userRE.MatchString(name) {
				return nil, fmt.Errorf("steps[%d].notify %q: %q is not a Slack user ID (U…)", j, sc.Notify, name)
			}
		case TargetChannel:
			if !channelRE.MatchString(name) {
				return nil, fmt.Errorf("steps[%d].notify %q: %q is not a channel ID (C…)", j, sc.Notify, name)
			}
		default:
			return nil, fmt.Errorf("steps[%d].notify %q: use schedule:<name>, backup:<name>, user:<U…>, channel:<C…> or policy:<name>", j, sc.Notify)
		}
		after, err := time.ParseDuration(strings.TrimSpace(sc.After))
		if err != nil || after < MinAfter || after > MaxAfter {
			return nil, fmt.Errorf("steps[%d].after %q: a duration from %s to %s, such as 5m", j, sc.After, MinAfter, MaxAfter)
		}
		if sc.SMS || sc.Call {
			if who := p.withoutPhone(t); who != "" {
				return nil, fmt.Errorf("steps[%d] texts or calls, but %s has no number in oncall.phones", j, who)
			}
		}
		out = append(out, Step{Target: t, After: after, SMS: sc.SMS, Call: sc.Call})
	}
	return out, nil
}

func (sc ScheduleConfig) compile() (*Schedule, error) {
	if !nameRE.MatchString(sc.Name) {
		return nil, fmt.Errorf("name: use lowercase letters, digits, - or _ (at most 30), starting with a letter")
	}
	s := &Schedule{Name: sc.Name}
	if sc.TimeZone == "" {
		return nil, fmt.Errorf("time_zone: required, an IANA time zone such as Europe/Berlin")
	}
	loc, err := time.LoadLocation(sc.TimeZone)
	if err != nil || sc.TimeZone == "Local" {
		return nil, fmt.Errorf("time_zone %q: not a known IANA time zone such as Europe/Berlin", sc.TimeZone)
	}
	s.Location = loc
	start, err := time.Parse("2006-01-02", strings.TrimSpace(sc.Start))
	if err != nil {
		return nil, fmt.Errorf("start %q: the first shift's date, as 2026-01-05", sc.Start)
	}
	s.Start = Date{start.Year(), start.Month(), start.Day()}
	s.ShiftDays = 7
	if sc.Shift != "" {
		if s.ShiftDays, err = parseShift(sc.Shift); err != nil {
			return nil, err
		}
	}
	m := handoffRE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(sc.Handoff)))
	bad := fmt.Errorf("handoff %q: a weekday and a 24-hour time, such as monday 09:00 (or only the time for shifts of days)", sc.Handoff)
	if m == nil {
		return nil, bad
	}
	s.HandoffHour, _ = strconv.Atoi(m[2])
	s.HandoffMinute, _ = strconv.Atoi(m[3])
	if s.HandoffHour > 23 || s.HandoffMinute > 59 {
		return nil, bad
	}
	if m[1] != "" {
		wd, ok := weekday(m[1])
		if !ok {
			return nil, bad
		}
		if s.ShiftDays%7 != 0 {
			return nil, fmt.Errorf("handoff %q: a weekday needs a shift of whole weeks (shift is %s); give only the time", sc.Handoff, sc.Shift)
		}
		s.HandoffDay, s.HasDay = wd, true
	} else if sc.Handoff == "" {
		return nil, bad
	}
	if len(sc.Rotation) == 0 {
		return nil, fmt.Errorf("rotation is empty; list the Slack user IDs (U…) who take turns")
	}
	for _, l := range []struct {
		name  string
		users []string
	}{{"rotation", sc.Rotation}, {"provisional", sc.Provisional}, {"backup", sc.Backup}} {
		for k, u := range l.users {
			if !userRE.MatchString(u) {
				return nil, fmt.Errorf("%s[%d] %q: not a Slack user ID (U…, from the person's profile → Copy member ID)", l.name, k, u)
			}
		}
	}
	for k, u := range sc.Provisional {
		if !slices.Contains(sc.Rotation, u) {
			return nil, fmt.Errorf("provisional[%d] %q: not in the rotation", k, u)
		}
	}
	if len(sc.Provisional) > 0 && len(sc.Backup) == 0 {
		return nil, fmt.Errorf("provisional people need a backup rotation to be paged with them; add backup")
	}
	s.Rotation, s.Provisional, s.Backup = sc.Rotation, sc.Provisional, sc.Backup
	return s, nil
}

// parseShift reads a shift length in whole days: 1w, 2w, 1d, 3d.
func parseShift(v string) (int, error) {
	v = strings.TrimSpace(v)
	bad := fmt.Errorf("shift %q: a whole number of days or weeks, such as 1w, 2w or 1d", v)
	if len(v) < 2 {
		return 0, bad
	}
	n, err := strconv.Atoi(v[:len(v)-1])
	if err != nil || n < 1 || n > 52 {
		return 0, bad
	}
	switch v[len(v)-1] {
	case 'w':
		return n * 7, nil
	case 'd':
		return n, nil
	}
	return 0, bad
}

func weekday(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if s == name || s == name[:3] {
			return d, true
		}
	}
	return 0, false
}

// Schedule returns the schedule called name, or nil.
func (p *Plan) Schedule(name string) *Schedule {
	if p == nil {
		return nil
	}
	for _, s := range p.Schedules {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Policy returns the policy called name.
func (p *Plan) Policy(name string) (Policy, bool) {
	if p == nil {
		return Policy{}, false
	}
	for _, pol := range p.Policies {
		if pol.Name == name {
			return pol, true
		}
	}
	return Policy{}, false
}

// Recipients are whom a target reaches at a time.
type Recipients struct {
	Users   []string
	Channel string
}

// Resolve returns whom target reaches at t: a schedule's on-call person
// (with their backup when they are provisional), a schedule's backup, a
// person, or a channel.
func (p *Plan) Resolve(target Target, t time.Time, overrides []Override) Recipients {
	switch target.Kind {
	case TargetUser:
		return Recipients{Users: []string{target.Name}}
	case TargetChannel:
		return Recipients{Channel: target.Name}
	case TargetSchedule, TargetBackup:
		s := p.Schedule(target.Name)
		if s == nil {
			return Recipients{}
		}
		sh := s.At(t, overrides)
		if target.Kind == TargetBackup {
			if len(s.Backup) == 0 {
				return Recipients{}
			}
			return Recipients{Users: []string{s.Backup[mod(s.shiftAt(t), len(s.Backup))]}}
		}
		r := Recipients{Users: []string{sh.User}}
		if sh.Provisional && sh.Backup != sh.User {
			r.Users = append(r.Users, sh.Backup)
		}
		return r
	}
	return Recipients{}
}

// withoutPhone returns someone target may page who has no phone number,
// or "" when everyone has one (a channel has none to need).
func (p *Plan) withoutPhone(t Target) string {
	var people []string
	switch t.Kind {
	case TargetUser:
		people = []string{t.Name}
	case TargetSchedule:
		s := p.Schedule(t.Name)
		people = append(slices.Clone(s.Rotation), s.Backup...)
	case TargetBackup:
		people = p.Schedule(t.Name).Backup
	}
	for _, u := range people {
		if p.Phones[u] == "" {
			return u
		}
	}
	return ""
}
