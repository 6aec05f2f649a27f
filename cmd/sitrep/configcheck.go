package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/intake/route"
	"github.com/sitrep-dev/sitrep/oncall"
)

const configAbout = `config check reads the settings as serve would (the environment, .env, and
the SITREP_CONFIG file), reports the first problem, or prints the effective
settings with secrets masked. It does not call Slack.

config check -file FILE checks that config file alone and prints the
configuration it gives. It reads nothing from the environment, so it needs
no Slack settings: use it for a config file meant for sitrep playground, or
before the tokens are at hand. serve still checks the tokens at start.`

func configFlags(fl *flag.FlagSet) {
	fl.String("file", "", "check this config `file` alone, without the environment's settings")
}

func runConfig(p program, ctx context.Context, fl *flag.FlagSet, args []string) error {
	// "check -file x" and "-file x check" both work.
	pos, err := parseInterspersed(fl, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "check" {
		return fmt.Errorf("config: the one subcommand is check: sitrep config check [-file sitrep.yaml]")
	}
	if file := strings.TrimSpace(fl.Lookup("file").Value.String()); file != "" {
		s, err := loadConfigFile(file)
		if err != nil {
			return fmt.Errorf("config check -file: %w", err)
		}
		fmt.Fprintf(p.stdout, "The config file %s is valid. Only the file was checked: the Slack tokens and other settings from the environment were not (sitrep config check without -file checks them as serve would).\n", file)
		return printConfig(p.stdout, s)
	}
	s, err := loadSettings(p.getenv)
	var missing missingSettings
	if errors.As(err, &missing) {
		return fmt.Errorf("config check: %w. To check a config file alone, without Slack settings: sitrep config check -file sitrep.yaml", err)
	}
	if err != nil {
		return fmt.Errorf("config check: %w", err)
	}
	return printSettings(p.stdout, s)
}

// printSettings writes the effective settings: the environment's, then the
// config file's as a config file that would give the same result. Secrets
// are masked.
func printSettings(w io.Writer, s *settings) error {
	mode := "HTTP (signed requests at /slack/commands, /slack/interactions, /slack/events)"
	if s.AppToken != "" {
		mode = "Socket Mode"
		if s.SigningSecret != "" {
			mode += ", and signed HTTP requests too"
		}
	}
	fmt.Fprintf(w, "Settings are valid. Sitrep would take Slack's requests over %s.\n\n", mode)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"SLACK_BOT_TOKEN", maskSecret(s.BotToken)},
		{"SLACK_SIGNING_SECRET", maskSecret(s.SigningSecret)},
		{"SLACK_APP_TOKEN", maskSecret(s.AppToken)},
		{"SLACK_API_URL", s.APIURL},
		{"SITREP_DB", describeDB(s.DB)},
		{"SITREP_ADDR", s.Addr},
		{"SITREP_ANNOUNCE_CHANNEL", orDefault(s.AnnounceChannel, "(none: nothing is announced)")},
		{"SITREP_CONFIG", orDefault(s.ConfigFile, "(none: the defaults below)")},
		{"SITREP_LOG_LEVEL", strings.ToLower(s.LogLevel.String())},
		{"SITREP_STATUS_ADDR", orDefault(s.StatusAddr, "(none: the public status page is off)")},
		{"STATUSPAGE_API_KEY", maskSecret(s.Statuspage.APIKey)},
		{"STATUSPAGE_PAGE_ID", orDefault(s.Statuspage.PageID, "(none: publishes are not mirrored to Atlassian Statuspage)")},
		{"STATUSPAGE_API_URL", s.Statuspage.APIURL},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
	}
	for _, src := range alertSources {
		v := "(not set: POST /hooks/" + src + " is off)"
		if sec := s.HookSecrets[src]; sec != "" {
			v = maskSecret(sec) + ": POST /hooks/" + src + " is on"
		}
		fmt.Fprintf(tw, "%s\t%s\n", hookSecretVar(src), v)
	}
	for _, name := range s.Trackers.Names {
		setting, token := s.Trackers.token(name)
		v := maskSecret(token)
		if token == "" {
			v += ": no issue can be made in " + incident.TrackerTitle(name) + " until it is set"
		}
		fmt.Fprintf(tw, "%s\t%s\n", setting, v)
		hook := "(not set: POST /hooks/" + name + " is off; issues closed there are found by the periodic check only)"
		if sec := s.Trackers.HookSecrets[name]; sec != "" {
			hook = maskSecret(sec) + ": POST /hooks/" + name + " is on"
			if name == "asana" {
				// Asana's handshake is taken only at the URL with the token.
				hook = maskSecret(sec) + ": POST /hooks/asana?token=<this secret> is on"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\n", hookSecretVar(name), hook)
	}
	t := s.Trackers
	for _, u := range []struct {
		on        bool
		name, url string
	}{
		{t.File.GitHub != nil, "GITHUB_API_URL", t.GitHubURL},
		{t.File.Jira != nil, "JIRA_API_URL", orDefault(t.JiraURL, "(the site)")},
		{t.File.Jira != nil, "SITREP_JIRA_EMAIL", orDefault(t.JiraEmail, "(not set: needed with SITREP_JIRA_TOKEN)")},
		{t.File.Asana != nil, "ASANA_API_URL", t.AsanaURL},
		{t.File.Linear != nil, "LINEAR_API_URL", t.LinearURL},
	} {
		if u.on {
			fmt.Fprintf(tw, "%s\t%s\n", u.name, u.url)
		}
	}
	pd := "(not set: pages go to PagerDuty only for policies with a routing_key)"
	if s.PagerDutyRoutingKey != "" {
		pd = maskSecret(s.PagerDutyRoutingKey) + ": pages also go to PagerDuty"
	}
	fmt.Fprintf(tw, "%s\t%s\n", "PAGERDUTY_ROUTING_KEY", pd)
	fmt.Fprintf(tw, "%s\t%s\n", "PAGERDUTY_EVENTS_URL", s.PagerDutyEventsURL)
	hook := "(not set: POST /hooks/pagerduty is off)"
	if s.PagerDutyHookSecret != "" {
		hook = maskSecret(s.PagerDutyHookSecret) + ": POST /hooks/pagerduty is on"
	}
	fmt.Fprintf(tw, "%s\t%s\n", hookSecretVar("pagerduty"), hook)
	fmt.Fprintf(tw, "%s\t%s\n", "TWILIO_ACCOUNT_SID", orDefault(s.TwilioAccountSID, "(not set: no SMS or calls)"))
	fmt.Fprintf(tw, "%s\t%s\n", "TWILIO_AUTH_TOKEN", maskSecret(s.TwilioAuthToken))
	fmt.Fprintf(tw, "%s\t%s\n", "TWILIO_FROM", orDefault(s.TwilioFrom, "(not set)"))
	fmt.Fprintf(tw, "%s\t%s\n", "TWILIO_API_URL", s.TwilioAPIURL)
	fmt.Fprintf(tw, "%s\t%s\n", "SITREP_PUBLIC_URL", orDefault(s.PublicURL, "(not set: calls read the incident but take no key press; POST /hooks/twilio/* is off)"))
	if err := tw.Flush(); err != nil {
		return err
	}
	return printConfig(w, s)
}

// printConfig writes s's configuration as a config file that would give
// it, after a blank line.
func printConfig(w io.Writer, s *settings) error {
	fmt.Fprint(w, "\n# The effective configuration, as a SITREP_CONFIG file:\n")
	data, err := yaml.Marshal(effectiveConfig(s))
	if err != nil {
		return fmt.Errorf("config check: %w", err)
	}
	_, err = w.Write(data)
	return err
}

// maskSecret shows enough of a secret to tell which one is set, never
// enough to use it: the kind of token and its length.
func maskSecret(v string) string {
	if v == "" {
		return "(not set)"
	}
	shown := ""
	for _, prefix := range []string{"xoxb-", "xapp-"} {
		if strings.HasPrefix(v, prefix) {
			shown = prefix
		}
	}
	return fmt.Sprintf("%s… (set, %d characters, masked)", shown, utf8.RuneCountInString(v))
}

// effectiveConfig is the config file that would give s's settings.
func effectiveConfig(s *settings) configFile {
	inc := s.Incident
	roles := inc.Roles
	checklist := inc.Checklist
	if checklist == nil {
		checklist = []incident.ChecklistItem{}
	}
	return configFile{
		Severities:      severitiesToFile(inc.Severities),
		DefaultSeverity: inc.DefaultSeverity,
		Roles:           &roles,
		Command:         s.CommandName,
		ChannelPrefix:   s.ChannelPrefix,
		Responders:      s.Responders,
		AnnounceDrills:  s.AnnounceDrills,
		TimeZone:        s.TimeZone.String(),
		TimelineEmoji:   s.TimelineEmoji,
		ArchiveOnClose:  s.ArchiveOnClose,
		TemplatesDir:    s.TemplatesDir,
		Checklist:       &checklist,
		StatusPages:     inc.StatusPages,
		StatusPagesPoll: thirdPartyPoll(s).String(),
		ChangesBy:       orDefault(inc.ChangesBy, incident.ChangesByChannel),
		Admins:          inc.Admins,
		Alerts:          effectiveAlerts(s.Alerts),
		Trackers:        effectiveTrackers(s.Trackers),
		OnCall:          effectiveOnCall(s.OnCall, s.Paging),
		StatusPage:      effectiveStatusPage(s),
		CustomerSuccess: effectiveCustomerSuccess(s),
	}
}

// effectiveTrackers is the trackers section with its defaults written
// out; nil when no tracker is configured.
func effectiveTrackers(t trackerSettings) *trackersFile {
	if len(t.Names) == 0 {
		return nil
	}
	f := t.File
	f.Default = t.Default
	f.Check = "off"
	if t.Check > 0 {
		f.Check = t.Check.String()
	}
	return &f
}

// effectiveOnCall is the oncall section with page_at filled in and the
// policies' PagerDuty routing keys masked: they are credentials.
func effectiveOnCall(c oncall.Config, p *oncall.Plan) *oncall.Config {
	c.PageAt = p.PageAt
	c.Policies = slices.Clone(c.Policies)
	for i := range c.Policies {
		if c.Policies[i].RoutingKey != "" {
			c.Policies[i].RoutingKey = maskSecret(c.Policies[i].RoutingKey)
		}
	}
	return &c
}

// effectiveStatusPage is the status_page section in force, its name
// defaulted, with an empty component list written out.
func effectiveStatusPage(s *settings) *statusPageFile {
	sp := s.StatusPage
	sp.Name = statusPageName(sp)
	sp.Components = s.Incident.Public.Components
	if sp.Components == nil {
		sp.Components = []incident.Component{}
	}
	sp.Approval = s.Incident.Public.Approval
	return &sp
}

// effectiveAlerts is the alerts section with its defaults written out, so
// that config check shows every route and limit in force.
func effectiveAlerts(c route.Config) *route.Config {
	rules := c.Rules()
	c.MaxDeclaresPerMinute = rules.MaxDeclaresPerMinute
	c.ReopenWithin = rules.ReopenWithin.String()
	routes := make([]route.Route, len(c.Routes))
	for i, r := range c.Routes {
		if r.Name == "" {
			r.Name = fmt.Sprintf("route %d", i+1)
		}
		if r.Action == "" {
			r.Action = string(incident.ActionTriage)
		}
		routes[i] = r
	}
	c.Routes = routes
	return &c
}

// effectiveCustomerSuccess is the customer_success section in force, nil
// when there is none.
func effectiveCustomerSuccess(s *settings) *customerSuccessFile {
	if s.CustomerSuccess.Channel == "" {
		return nil
	}
	cs := s.CustomerSuccess
	return &cs
}
