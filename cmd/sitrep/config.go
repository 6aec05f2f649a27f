package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/intake/route"
	pdnotify "github.com/sitrep-dev/sitrep/notify/pagerduty"
	"github.com/sitrep-dev/sitrep/oncall"
	"github.com/sitrep-dev/sitrep/templates"
)

// settings are everything Sitrep reads at start-up.
type settings struct {
	BotToken        string
	SigningSecret   string
	AppToken        string
	APIURL          string
	DB              string
	Addr            string
	AnnounceChannel string
	ConfigFile      string
	LogLevel        slog.Level

	Incident       incident.Config
	CommandName    string
	ChannelPrefix  string
	Responders     []string
	AnnounceDrills bool
	TimeZone       *time.Location
	TimelineEmoji  string
	ArchiveOnClose bool
	TemplatesDir   string // "" uses the embedded templates

	// Alerts are the alert routes of the config file; HookSecrets the
	// SITREP_HOOK_SECRET_<SOURCE> settings, by source, of the alert
	// sources that are on.
	Alerts      route.Config
	HookSecrets map[string]string

	// Trackers are the issue trackers follow-ups are exported to.
	Trackers trackerSettings
	// OnCall is the oncall section of the config file as written, and
	// Paging what it compiles to: schedules, policies and page_at.
	OnCall oncall.Config
	Paging *oncall.Plan
	// PagerDutyRoutingKey and PagerDutyEventsURL send pages to PagerDuty
	// too (notify/pagerduty); PagerDutyHookSecret turns on POST
	// /hooks/pagerduty.
	PagerDutyRoutingKey string
	PagerDutyEventsURL  string
	PagerDutyHookSecret string
	// Twilio texts and calls for steps with sms or call; PublicURL is
	// Sitrep's base URL as Twilio reaches it, for a call's key press.
	TwilioAccountSID, TwilioAuthToken, TwilioFrom, TwilioAPIURL string
	PublicURL                                                   string
	// StatusAddr is SITREP_STATUS_ADDR, the public status page's own
	// listener; "" means the page is off. StatusPage is the config file's
	// status_page section (its components and approval are also in
	// Incident.Public, which the domain enforces).
	StatusAddr string
	StatusPage statusPageFile
	// ThirdPartyPoll is how often third parties' summaries are polled.
	ThirdPartyPoll time.Duration
	// CustomerSuccess is the customer-success brief's channel and
	// severity; Channel "" for none.
	CustomerSuccess customerSuccessFile
	// Statuspage is the Atlassian Statuspage mirror, on when its key and
	// page ID are set.
	Statuspage statuspageSettings
}

// statuspageSettings are the STATUSPAGE_* settings of the Atlassian
// Statuspage mirror.
type statuspageSettings struct {
	APIKey, PageID, APIURL string
}

// statusPageFile is the config file's status_page section.
type statusPageFile struct {
	// Name heads the page ("Acme"); URL is where customers reach it,
	// used in links from Slack, the feed and the API.
	Name       string               `yaml:"name"`
	URL        string               `yaml:"url"`
	Approval   bool                 `yaml:"approval"`
	Components []incident.Component `yaml:"components"`
}

// e164RE is a phone number as Twilio takes it.
var e164RE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// TwilioOn reports whether Twilio's settings are all set.
func (s *settings) TwilioOn() bool {
	return s.TwilioAccountSID != "" && s.TwilioAuthToken != "" && s.TwilioFrom != ""
}

// pdDefaultURL is PagerDuty's Events API v2.
const pdDefaultURL = pdnotify.DefaultURL

// PagerDutyOn reports whether pages go to PagerDuty: a routing key is set,
// or a policy has its own.
func (s *settings) PagerDutyOn() bool {
	if s.PagerDutyRoutingKey != "" {
		return true
	}
	for _, p := range s.Paging.Policies {
		if p.RoutingKey != "" {
			return true
		}
	}
	return false
}

// alertSources are the senders POST /hooks/<source> takes, each on once
// SITREP_HOOK_SECRET_<SOURCE> is set.
var alertSources = []string{"alertmanager", "grafana", "sentry", "datadog", "pingdom", "statuscake", "generic", "zendesk"}

// hookSecretVar is the setting that turns an alert source on.
func hookSecretVar(source string) string { return "SITREP_HOOK_SECRET_" + strings.ToUpper(source) }

// configFile is the optional YAML file named by SITREP_CONFIG. Every key is
// optional; what is left out keeps its default.
type configFile struct {
	Severities      []severityFile `yaml:"severities"`
	DefaultSeverity string         `yaml:"default_severity"`
	Roles           *[]string      `yaml:"roles"`
	Command         string         `yaml:"command"`
	ChannelPrefix   string         `yaml:"channel_prefix"`
	Responders      []string       `yaml:"responders"`
	AnnounceDrills  bool           `yaml:"announce_drills"`
	TimeZone        string         `yaml:"time_zone"`
	TimelineEmoji   string         `yaml:"timeline_emoji"`
	ArchiveOnClose  bool           `yaml:"archive_on_close"`
	TemplatesDir    string         `yaml:"templates_dir"`
	// Checklist replaces the default checklist (templates/checklist.yaml)
	// as a whole; an empty list turns the checklist off.
	Checklist   *[]incident.ChecklistItem `yaml:"checklist"`
	StatusPages []incident.Link           `yaml:"status_pages"`
	// StatusPagesPoll is how often the status pages with a summary are
	// polled (default 5m).
	StatusPagesPoll string `yaml:"status_pages_poll,omitempty"`
	// ChangesBy and Admins say who may steer an incident (see
	// incident.Config.ChangesBy).
	ChangesBy string   `yaml:"changes_by"`
	Admins    []string `yaml:"admins"`
	// Alerts routes alerts from monitoring systems (intake/route).
	Alerts *route.Config `yaml:"alerts,omitempty"`
	// Trackers are where follow-ups' issues are made (trackers.go).
	Trackers *trackersFile `yaml:"trackers,omitempty"`
	// OnCall holds the on-call schedules and escalation policies (oncall).
	OnCall *oncall.Config `yaml:"oncall,omitempty"`
	// StatusPage shapes the public status page and publishing to it.
	StatusPage *statusPageFile `yaml:"status_page,omitempty"`
	// CustomerSuccess is where customer-visible incidents get a brief.
	CustomerSuccess *customerSuccessFile `yaml:"customer_success,omitempty"`
}

// customerSuccessFile is the config file's customer_success section.
type customerSuccessFile struct {
	Channel string `yaml:"channel"`
	At      string `yaml:"at"` // the least severe severity briefed; default sev2
}

// severityFile is a severity as the config file writes it: the domain's
// incident.Severity, with a cadence that may be "none".
type severityFile struct {
	Name        string  `yaml:"name"`
	Description string  `yaml:"description"`
	Cadence     cadence `yaml:"cadence"`
}

// cadence is how often status updates are expected: a duration such as 30m,
// or none (0 and 0s mean the same) for a severity that is never prompted.
// It is written back as none, the word the README and config check use, so
// that config check does not print sev3's default as "0s".
type cadence time.Duration

func (c *cadence) UnmarshalYAML(n *yaml.Node) error {
	var v string
	if err := n.Decode(&v); err != nil {
		return err
	}
	v = strings.TrimSpace(v)
	if v == "none" {
		*c = 0
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("line %d: cadence %q: use a duration such as 30m, or none", n.Line, v)
	}
	*c = cadence(d)
	return nil
}

func (c cadence) MarshalYAML() (any, error) {
	if c == 0 {
		return "none", nil
	}
	return time.Duration(c).String(), nil
}

func severitiesFromFile(in []severityFile) []incident.Severity {
	out := make([]incident.Severity, len(in))
	for i, s := range in {
		out[i] = incident.Severity{Name: s.Name, Description: s.Description, Cadence: time.Duration(s.Cadence)}
	}
	return out
}

func severitiesToFile(in []incident.Severity) []severityFile {
	out := make([]severityFile, len(in))
	for i, s := range in {
		out[i] = severityFile{Name: s.Name, Description: s.Description, Cadence: cadence(s.Cadence)}
	}
	return out
}

var (
	channelIDRE = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)
	userIDRE    = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	prefixRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,19}$`)
	commandRE   = regexp.MustCompile(`^/[a-z0-9_-]{1,31}$`)
	emojiRE     = regexp.MustCompile(`^[a-z0-9_+'-]{1,100}$`)
)

// settingError names the setting that stopped start-up.
type settingError struct {
	name, problem string
}

func (e *settingError) Error() string { return e.name + ": " + e.problem }

// missingSettings are the required settings that are not set, all of them,
// so that a first run names everything it needs at once instead of one
// setting per run.
type missingSettings []*settingError

// tryPlayground points someone without a Slack app yet at the way to try
// Sitrep without one.
const tryPlayground = "To try Sitrep without Slack, run: sitrep playground"

// Error is one line, like every start-up error: the names first, then what
// each one is.
func (m missingSettings) Error() string {
	names := make([]string, len(m))
	parts := make([]string, len(m))
	for i, e := range m {
		names[i] = e.name
		parts[i] = e.Error()
	}
	if len(m) == 1 {
		return parts[0] + ". " + tryPlayground
	}
	return strings.Join(names, ", ") + " are not set. " + strings.Join(parts, ". ") + ". " + tryPlayground
}

// defaultIncidentConfig is the incident configuration without a config
// file: incident.DefaultConfig with the embedded default checklist.
func defaultIncidentConfig() (incident.Config, error) {
	cfg := incident.DefaultConfig()
	checklist, err := templates.Checklist()
	if err != nil {
		// Only a broken build gets here: the file is embedded and tested.
		return cfg, fmt.Errorf("default checklist: %w", err)
	}
	cfg.Checklist = checklist
	return cfg, nil
}

// loadSettings reads the settings of PRODUCT.md from getenv and the config
// file it names. The first problem found is returned, naming its setting.
// Secret values are never quoted in errors.
func loadSettings(getenv func(string) string) (*settings, error) {
	s, err := fileDefaults()
	if err != nil {
		return nil, err
	}
	s.BotToken = strings.TrimSpace(getenv("SLACK_BOT_TOKEN"))
	s.SigningSecret = strings.TrimSpace(getenv("SLACK_SIGNING_SECRET"))
	s.AppToken = strings.TrimSpace(getenv("SLACK_APP_TOKEN"))
	s.APIURL = orDefault(getenv("SLACK_API_URL"), "https://slack.com/api/")
	s.DB = orDefault(getenv("SITREP_DB"), "sitrep.db")
	s.Addr = orDefault(getenv("SITREP_ADDR"), ":8080")
	s.AnnounceChannel = strings.TrimSpace(getenv("SITREP_ANNOUNCE_CHANNEL"))
	s.ConfigFile = strings.TrimSpace(getenv("SITREP_CONFIG"))
	var missing missingSettings
	if s.BotToken == "" {
		missing = append(missing, &settingError{"SLACK_BOT_TOKEN", "required; the bot token (xoxb-…) from your Slack app's OAuth & Permissions page"})
	}
	if s.AppToken == "" && s.SigningSecret == "" {
		missing = append(missing, &settingError{"SLACK_SIGNING_SECRET", "required unless SLACK_APP_TOKEN is set for Socket Mode; the signing secret from your Slack app's Basic Information page"})
	}
	if len(missing) > 0 {
		return nil, missing
	}
	switch {
	case !strings.HasPrefix(s.BotToken, "xoxb-"):
		return nil, &settingError{"SLACK_BOT_TOKEN", "not a bot token: it must start with xoxb-"}
	case s.AppToken != "" && !strings.HasPrefix(s.AppToken, "xapp-"):
		return nil, &settingError{"SLACK_APP_TOKEN", "not an app-level token: it must start with xapp- (Basic Information → App-Level Tokens, scope connections:write)"}
	}
	u, err := url.Parse(s.APIURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, &settingError{"SLACK_API_URL", fmt.Sprintf("%q is not an http(s) URL", s.APIURL)}
	}
	if !strings.HasSuffix(s.APIURL, "/") {
		s.APIURL += "/"
	}
	if v := strings.TrimSpace(getenv("SITREP_LOG_LEVEL")); v != "" {
		if err := s.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return nil, &settingError{"SITREP_LOG_LEVEL", fmt.Sprintf("%q is not a log level; use debug, info, warn or error", v)}
		}
	}
	if s.AnnounceChannel != "" && !channelIDRE.MatchString(s.AnnounceChannel) {
		return nil, &settingError{"SITREP_ANNOUNCE_CHANNEL", fmt.Sprintf("%q is not a channel ID; use the ID (C…) shown at the bottom of the channel's details", s.AnnounceChannel)}
	}
	s.StatusAddr = strings.TrimSpace(getenv("SITREP_STATUS_ADDR"))
	if s.StatusAddr != "" && s.StatusAddr == s.Addr && !strings.HasSuffix(s.Addr, ":0") { // :0 picks a free port each
		return nil, &settingError{"SITREP_STATUS_ADDR", fmt.Sprintf("%q is SITREP_ADDR too; the public status page needs its own listener, apart from Slack's and the hooks' (for example :8081)", s.StatusAddr)}
	}
	s.Statuspage = statuspageSettings{
		APIKey: strings.TrimSpace(getenv("STATUSPAGE_API_KEY")),
		PageID: strings.TrimSpace(getenv("STATUSPAGE_PAGE_ID")),
		APIURL: orDefault(getenv("STATUSPAGE_API_URL"), "https://api.statuspage.io/v1/"),
	}
	switch sp := s.Statuspage; {
	case sp.APIKey != "" && sp.PageID == "":
		return nil, &settingError{"STATUSPAGE_PAGE_ID", "required with STATUSPAGE_API_KEY: the page's ID, from the URL of the page's admin (manage.statuspage.io/pages/<ID>)"}
	case sp.APIKey == "" && sp.PageID != "":
		return nil, &settingError{"STATUSPAGE_API_KEY", "required with STATUSPAGE_PAGE_ID: an API key from Statuspage's API info page, of a user with the incident manager role"}
	}
	if u, err := url.Parse(s.Statuspage.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, &settingError{"STATUSPAGE_API_URL", fmt.Sprintf("%q is not an http(s) URL", s.Statuspage.APIURL)}
	}
	if !strings.HasSuffix(s.Statuspage.APIURL, "/") {
		s.Statuspage.APIURL += "/"
	}
	s.HookSecrets = map[string]string{}
	for _, src := range alertSources {
		if v := strings.TrimSpace(getenv(hookSecretVar(src))); v != "" {
			s.HookSecrets[src] = v
		}
	}
	s.PagerDutyRoutingKey = strings.TrimSpace(getenv("PAGERDUTY_ROUTING_KEY"))
	s.PagerDutyHookSecret = strings.TrimSpace(getenv(hookSecretVar("pagerduty")))
	s.PagerDutyEventsURL = orDefault(getenv("PAGERDUTY_EVENTS_URL"), pdDefaultURL)
	if u, err := url.Parse(s.PagerDutyEventsURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, &settingError{"PAGERDUTY_EVENTS_URL", fmt.Sprintf("%q is not an http(s) URL", s.PagerDutyEventsURL)}
	}
	s.TwilioAccountSID = strings.TrimSpace(getenv("TWILIO_ACCOUNT_SID"))
	s.TwilioAuthToken = strings.TrimSpace(getenv("TWILIO_AUTH_TOKEN"))
	s.TwilioFrom = strings.TrimSpace(getenv("TWILIO_FROM"))
	s.TwilioAPIURL = orDefault(getenv("TWILIO_API_URL"), "https://api.twilio.com/")
	s.PublicURL = strings.TrimSuffix(strings.TrimSpace(getenv("SITREP_PUBLIC_URL")), "/")
	if u, err := url.Parse(s.TwilioAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, &settingError{"TWILIO_API_URL", fmt.Sprintf("%q is not an http(s) URL", s.TwilioAPIURL)}
	}
	if s.PublicURL != "" {
		if u, err := url.Parse(s.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			return nil, &settingError{"SITREP_PUBLIC_URL", fmt.Sprintf("%q is not an http(s) base URL such as https://sitrep.example.com", s.PublicURL)}
		}
	}
	if s.TwilioFrom != "" && !e164RE.MatchString(s.TwilioFrom) {
		return nil, &settingError{"TWILIO_FROM", fmt.Sprintf("%q is not a phone number in E.164 form, such as +15017122661", s.TwilioFrom)}
	}
	if s.ConfigFile != "" {
		if err := s.readConfigFile(); err != nil {
			return nil, &settingError{"SITREP_CONFIG", err.Error()}
		}
	}
	if err := s.Trackers.readEnv(getenv); err != nil {
		return nil, err
	}
	if s.Alerts.TriageChannel == "" {
		// INTEGRATIONS.md: triage messages go to the announce channel
		// unless alerts.triage_channel names another.
		s.Alerts.TriageChannel = s.AnnounceChannel
	}
	if s.Paging.UsesPhones() && !s.TwilioOn() {
		return nil, &settingError{"TWILIO_ACCOUNT_SID", "a policy step texts or calls (sms or call in oncall.policies), so TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM must all be set"}
	}
	// Publishing is offered only where it goes somewhere.
	s.Incident.Public.On = s.StatusAddr != "" || s.Statuspage.APIKey != ""
	s.Incident.Public.URL = s.StatusPage.URL
	return s, nil
}

// fileDefaults are the settings a config file may change, as they are
// without one.
func fileDefaults() (*settings, error) {
	defaults, err := defaultIncidentConfig()
	if err != nil {
		return nil, err
	}
	paging, err := oncall.Config{}.Compile(defaults.SeverityNames())
	if err != nil {
		return nil, err
	}
	return &settings{
		Paging:        paging,
		Incident:      defaults,
		CommandName:   "/incident",
		ChannelPrefix: "inc",
		TimeZone:      time.UTC,
		TimelineEmoji: "pushpin",
	}, nil
}

// loadConfigFile reads a config file alone, by the same code as start-up
// reads SITREP_CONFIG, and nothing from the environment: a config file for
// the playground, which needs no Slack settings, can be checked too.
func loadConfigFile(path string) (*settings, error) {
	s, err := fileDefaults()
	if err != nil {
		return nil, err
	}
	s.ConfigFile = path
	if err := s.readConfigFile(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *settings) readConfigFile() error {
	data, err := os.ReadFile(s.ConfigFile)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", s.ConfigFile, errors.Unwrap(err))
	}
	var f configFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		// Keep start-up errors to one line: yaml lists each problem on its own.
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%s: %s", s.ConfigFile, strings.Join(te.Errors, "; "))
		}
		return fmt.Errorf("%s: %w", s.ConfigFile, err)
	}
	if len(f.Severities) > 0 {
		s.Incident.Severities = severitiesFromFile(f.Severities)
		if f.DefaultSeverity == "" {
			f.DefaultSeverity = f.Severities[len(f.Severities)/2].Name
		}
	}
	if f.DefaultSeverity != "" {
		s.Incident.DefaultSeverity = f.DefaultSeverity
	}
	if f.Roles != nil {
		s.Incident.Roles = *f.Roles
	}
	switch {
	case f.Checklist != nil:
		s.Incident.Checklist = *f.Checklist
	case len(f.Severities) > 0:
		s.Incident.Checklist = fitChecklist(s.Incident.Checklist, incident.DefaultConfig().SeverityNames(), s.Incident.SeverityNames())
	}
	s.Incident.StatusPages = f.StatusPages
	if f.StatusPagesPoll != "" {
		d, err := time.ParseDuration(f.StatusPagesPoll)
		if err != nil || d < 30*time.Second || d > 24*time.Hour {
			return fmt.Errorf("%s: status_pages_poll %q: a duration between 30s and 24h, such as 5m", s.ConfigFile, f.StatusPagesPoll)
		}
		s.ThirdPartyPoll = d
	}
	if f.ChangesBy != "" {
		s.Incident.ChangesBy = f.ChangesBy
	}
	for i, u := range f.Admins {
		if !userIDRE.MatchString(u) {
			return fmt.Errorf("%s: admins[%d] %q: not a Slack user ID (U…)", s.ConfigFile, i, u)
		}
	}
	if len(f.Admins) > 0 {
		s.Incident.Admins = f.Admins
	}
	for i, l := range f.StatusPages {
		if err := checkStatusPage(l); err != nil {
			return fmt.Errorf("%s: status_pages[%d]: %w", s.ConfigFile, i, err)
		}
	}
	if err := s.Incident.Validate(); err != nil {
		return fmt.Errorf("%s: %w", s.ConfigFile, err)
	}
	if f.Command != "" {
		if !commandRE.MatchString(f.Command) {
			return fmt.Errorf("%s: command %q: must look like /incident", s.ConfigFile, f.Command)
		}
		s.CommandName = f.Command
	}
	if f.ChannelPrefix != "" {
		if !prefixRE.MatchString(f.ChannelPrefix) {
			return fmt.Errorf("%s: channel_prefix %q: use lowercase letters, digits, - or _ (at most 20)", s.ConfigFile, f.ChannelPrefix)
		}
		s.ChannelPrefix = f.ChannelPrefix
	}
	for i, u := range f.Responders {
		if !userIDRE.MatchString(u) {
			return fmt.Errorf("%s: responders[%d] %q: not a Slack user ID (U…)", s.ConfigFile, i, u)
		}
	}
	if f.TimelineEmoji != "" {
		if !emojiRE.MatchString(f.TimelineEmoji) {
			return fmt.Errorf("%s: timeline_emoji %q: an emoji name as Slack writes it, without colons, such as pushpin", s.ConfigFile, f.TimelineEmoji)
		}
		s.TimelineEmoji = f.TimelineEmoji
	}
	if f.TemplatesDir != "" {
		dir := f.TemplatesDir
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(filepath.Dir(s.ConfigFile), dir) // relative to the config file
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("%s: templates_dir %q: not a directory", s.ConfigFile, f.TemplatesDir)
		}
		s.TemplatesDir = dir
	}
	if f.StatusPage != nil {
		sp := *f.StatusPage
		sp.Name = strings.TrimSpace(sp.Name)
		sp.URL = strings.TrimRight(strings.TrimSpace(sp.URL), "/")
		if sp.URL != "" {
			if u, err := url.Parse(sp.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return fmt.Errorf("%s: status_page.url %q: the page's public address, such as https://status.example.com", s.ConfigFile, sp.URL)
			}
		}
		s.StatusPage = sp
		s.Incident.Public = incident.PublicConfig{Components: sp.Components, Approval: sp.Approval}
		if err := s.Incident.Validate(); err != nil {
			return fmt.Errorf("%s: %w", s.ConfigFile, err)
		}
	}
	if cs := f.CustomerSuccess; cs != nil {
		if !channelIDRE.MatchString(cs.Channel) {
			return fmt.Errorf("%s: customer_success.channel %q: the channel's ID (C…), shown at the bottom of the channel's details", s.ConfigFile, cs.Channel)
		}
		if cs.At == "" {
			cs.At = "sev2"
			if _, err := s.Incident.Severity("sev2"); err != nil {
				cs.At = s.Incident.DefaultSeverity
			}
		}
		if _, err := s.Incident.Severity(cs.At); err != nil {
			return fmt.Errorf("%s: customer_success.at %q: not one of the severities (%s)", s.ConfigFile, cs.At, strings.Join(s.Incident.SeverityNames(), ", "))
		}
		s.CustomerSuccess = *cs
	}
	if f.Alerts != nil {
		if err := f.Alerts.Check(s.Incident.SeverityNames()); err != nil {
			return fmt.Errorf("%s: %w", s.ConfigFile, err)
		}
		for i, r := range f.Alerts.Routes {
			if r.Source != "" && !slices.Contains(alertSources, strings.TrimSpace(r.Source)) {
				return fmt.Errorf("%s: alerts.routes[%d]: source %q is not one of %s", s.ConfigFile, i, r.Source, strings.Join(alertSources, ", "))
			}
		}
		s.Alerts = *f.Alerts
	}
	if f.Trackers != nil {
		s.Trackers.File = *f.Trackers
		if err := s.Trackers.check(); err != nil {
			return fmt.Errorf("%s: %w", s.ConfigFile, err)
		}
		s.Incident.Export = incident.Export{Tracker: s.Trackers.Default, On: f.Trackers.Export}
	}
	if f.OnCall != nil {
		s.OnCall = *f.OnCall
	}
	plan, err := s.OnCall.Compile(s.Incident.SeverityNames())
	if err != nil {
		return fmt.Errorf("%s: %w", s.ConfigFile, err)
	}
	s.Paging = plan
	for i, r := range s.Alerts.Routes {
		if _, ok := plan.Policy(r.Page); r.Page != "" && !ok {
			return fmt.Errorf("%s: alerts.routes[%d].page %q: no policy in oncall.policies is called that", s.ConfigFile, i, r.Page)
		}
	}
	s.ArchiveOnClose = f.ArchiveOnClose
	s.Responders = f.Responders
	s.AnnounceDrills = f.AnnounceDrills
	if f.TimeZone != "" {
		loc, err := time.LoadLocation(f.TimeZone)
		if err != nil {
			return fmt.Errorf("%s: time_zone %q: not a known IANA time zone such as Europe/Berlin", s.ConfigFile, f.TimeZone)
		}
		s.TimeZone = loc
	}
	return nil
}

// fitChecklist moves the default checklist onto a severity scale that
// replaces the default one, by position: an item from the default scale's
// second severity (from: sev1, "major or worse") applies from the new
// scale's second, or from its least severe when it is shorter. A team that
// renames its severities keeps the default checklist's meaning without
// having to copy it. A checklist from the config file is never moved: its
// from must name one of the configured severities.
func fitChecklist(items []incident.ChecklistItem, from, to []string) []incident.ChecklistItem {
	items = slices.Clone(items)
	for i, it := range items {
		if it.From == "" {
			continue
		}
		if r := slices.Index(from, it.From); r >= 0 {
			items[i].From = to[min(r, len(to)-1)]
		}
	}
	return items
}

// checkStatusPage checks what Slack needs of a status page's link, which is
// posted as <url|name>: a name, a whole http(s) URL, and neither holding the
// characters that would end the link early.
func checkStatusPage(l incident.Link) error {
	if strings.TrimSpace(l.Name) == "" {
		return errors.New("name is required")
	}
	if strings.ContainsAny(l.Name, "<>|\n\r") {
		return fmt.Errorf("name %q: one line, without <, > or |", l.Name)
	}
	if l.URL == "" {
		return errors.New("url is required")
	}
	u, err := url.Parse(l.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(l.URL, "<>| ") {
		return fmt.Errorf("url %q is not an http(s) URL such as https://status.example.com/", l.URL)
	}
	if l.Summary != "" {
		u, err := url.Parse(l.Summary)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("summary %q is not an http(s) URL; a Statuspage page's is https://<page>/api/v2/summary.json", l.Summary)
		}
	}
	return nil
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v != "" {
		return v
	}
	return def
}

// statusPageName is the page's heading: the configured name, else a
// plain default that a company replaces.
func statusPageName(sp statusPageFile) string { return orDefault(sp.Name, "Service") }
