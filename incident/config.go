package incident

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Severity is one level of the configurable severity scale. The first
// severity in Config.Severities is the most severe.
type Severity struct {
	Name        string        `yaml:"name"`
	Description string        `yaml:"description"`
	Cadence     time.Duration `yaml:"cadence"` // how often status updates are expected; 0 means never
}

// MaxSeverities caps the severity scale, which forms offer as a list.
const MaxSeverities = 20

// MaxRoles caps the roles besides the commander.
const MaxRoles = 20

// CommanderRole is the role that is always held: the incident commander.
const CommanderRole = "commander"

// Config is the part of Sitrep's configuration that shapes incidents.
type Config struct {
	Severities      []Severity
	DefaultSeverity string
	// Roles are the roles besides the commander, which always exists.
	Roles []string
	// Checklist is the triage checklist template.
	Checklist []ChecklistItem
	// StatusPages are third parties' status pages, offered with the
	// checklist items that ask for them.
	StatusPages []Link
	// ChangesBy says who may steer an incident: change its severity, name
	// its roles, resolve, reopen or close it. "" means ChangesByChannel.
	ChangesBy string
	// Admins (Slack user IDs) may steer any incident when ChangesBy is
	// ChangesByCommander.
	Admins []string
	// Export says which tracker follow-ups get issues in without anyone
	// asking, and when; the zero value exports only when asked.
	Export Export
	// Public shapes publishing to the status page (public.go).
	Public PublicConfig
}

// Export is the automatic export of follow-ups to a tracker.
type Export struct {
	Tracker string // the tracker's name; "" for none
	On      string // ExportOnCreate, ExportOnPostmortem, or "" for only when asked
}

// When follow-ups are exported without anyone asking (Export.On).
const (
	ExportOnCreate     = "on_create"
	ExportOnPostmortem = "on_postmortem"
)

// Who may steer an incident (Config.ChangesBy).
const (
	// ChangesByChannel lets anyone who can use the incident's channel
	// steer it: the commands and the card live there.
	ChangesByChannel = "channel"
	// ChangesByCommander lets only the incident's commander and the
	// admins steer it.
	ChangesByCommander = "commander"
)

// mayChange refuses actor a change that only the commander and the admins
// may make, when the configuration says so. what completes "may … incident
// #N", as in "change the severity of".
func (c Config) mayChange(inc *Incident, actor, what string) error {
	commander := inc.Roles[CommanderRole]
	// Nobody commands an incident Sitrep declared for a source until
	// someone takes command: until then there is nobody to defer to.
	if c.ChangesBy != ChangesByCommander || commander == "" || actor == commander || slices.Contains(c.Admins, actor) {
		return nil
	}
	who := "its commander ({commander})"
	if len(c.Admins) > 0 {
		who += " or an admin ({admins})"
	}
	e := hintErrorf(EFORBIDDEN, "lead @you", "Only %s may %s incident #%d. Ask one of them to do it, or the commander to hand over with {cmd}.", who, what, inc.Number)
	e.People = map[string][]string{"commander": {commander}, "admins": c.Admins}
	return e
}

// MayChange is mayChange for adapters that ask before opening a form
// (the resolve form), so that nobody fills in a form they may not send.
func (c Config) MayChange(inc *Incident, actor, what string) error {
	return c.mayChange(inc, actor, what)
}

// CustomerSuccessRole is the customer success lead (seed 000: customer
// success tells affected users). It is a default role so the customer
// success brief, which names its holder, works without a config file.
const CustomerSuccessRole = "cs"

// DefaultConfig returns the defaults of PRODUCT.md, which come from the seed
// documents: sev0 and sev1 are the "Sev-0/Sev-1" of the production-monitoring
// write-up, and the cadences follow the error-handling policy's urgency.
func DefaultConfig() Config {
	return Config{
		Severities: []Severity{
			{Name: "sev0", Description: "Critical: the product is down or unusable for many customers", Cadence: 15 * time.Minute},
			{Name: "sev1", Description: "Major: a core feature is broken or many customers are affected", Cadence: 30 * time.Minute},
			{Name: "sev2", Description: "Moderate: degraded service or a workaround exists", Cadence: 60 * time.Minute},
			{Name: "sev3", Description: "Minor: little customer impact", Cadence: 0},
		},
		DefaultSeverity: "sev2",
		Roles:           []string{"comms", "scribe", CustomerSuccessRole},
		ChangesBy:       ChangesByChannel,
	}
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,29}$`)

// Validate reports the first problem with c, naming the offending setting.
func (c Config) Validate() error {
	if len(c.Severities) == 0 {
		return fmt.Errorf("severities: at least one severity is required")
	}
	if len(c.Severities) > MaxSeverities {
		return fmt.Errorf("severities: at most %d", MaxSeverities)
	}
	seen := map[string]bool{}
	for i, s := range c.Severities {
		if !nameRE.MatchString(s.Name) {
			return fmt.Errorf("severities[%d].name %q: use lowercase letters, digits, - or _ (at most 30), starting with a letter", i, s.Name)
		}
		if seen[s.Name] {
			return fmt.Errorf("severities[%d].name %q: listed twice", i, s.Name)
		}
		if s.Cadence < 0 {
			return fmt.Errorf("severities[%d].cadence: must not be negative", i)
		}
		seen[s.Name] = true
	}
	if c.ChangesBy != "" && c.ChangesBy != ChangesByChannel && c.ChangesBy != ChangesByCommander {
		return fmt.Errorf("changes_by %q: use %s (anyone in the incident's channel) or %s (only its commander and the admins)", c.ChangesBy, ChangesByChannel, ChangesByCommander)
	}
	if !seen[c.DefaultSeverity] {
		return fmt.Errorf("default_severity %q: not one of the severities (%s)", c.DefaultSeverity, strings.Join(c.SeverityNames(), ", "))
	}
	if len(c.Roles) > MaxRoles {
		return fmt.Errorf("roles: at most %d besides the commander, so that the incident card stays readable (and within Slack's limits)", MaxRoles)
	}
	roles := map[string]bool{CommanderRole: true}
	for i, r := range c.Roles {
		if !nameRE.MatchString(r) {
			return fmt.Errorf("roles[%d] %q: use lowercase letters, digits, - or _ (at most 30), starting with a letter", i, r)
		}
		if slices.Contains(commanderAliases, r) {
			return fmt.Errorf("roles[%d] %q: the commander role always exists; do not list it", i, r)
		}
		if roles[r] {
			return fmt.Errorf("roles[%d] %q: listed twice", i, r)
		}
		roles[r] = true
	}
	if err := c.Public.validate(); err != nil {
		return err
	}
	return c.validateChecklist()
}

// SeverityNames lists the severity names, most severe first.
func (c Config) SeverityNames() []string {
	names := make([]string, len(c.Severities))
	for i, s := range c.Severities {
		names[i] = s.Name
	}
	return names
}

// Severity returns the severity called name.
func (c Config) Severity(name string) (Severity, error) {
	for _, s := range c.Severities {
		if s.Name == name {
			return s, nil
		}
	}
	return Severity{}, fieldErrorf("severity", "%q is not a severity. Use one of: %s.", name, strings.Join(c.SeverityNames(), ", "))
}

// severityRank is the position of a severity in the scale; lower is worse.
func (c Config) severityRank(name string) int {
	return slices.IndexFunc(c.Severities, func(s Severity) bool { return s.Name == name })
}

// commanderAliases are the names people use for the commander role.
var commanderAliases = []string{CommanderRole, "lead", "ic"}

// AllRoles lists every role, the commander first.
func (c Config) AllRoles() []string {
	return append([]string{CommanderRole}, c.Roles...)
}

// Role resolves a role name typed by a person, accepting the commander's
// aliases.
func (c Config) Role(name string) (string, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if slices.Contains(commanderAliases, name) {
		return CommanderRole, nil
	}
	if slices.Contains(c.Roles, name) {
		return name, nil
	}
	return "", Errorf(EINVALID, "%q is not a role. Use one of: %s.", name, strings.Join(c.AllRoles(), ", "))
}
