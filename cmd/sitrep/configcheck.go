package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/sitrep-dev/sitrep/incident"
)

func runConfig(p program, ctx context.Context, fl *flag.FlagSet, args []string) error {
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 1 || fl.Arg(0) != "check" {
		return fmt.Errorf("config: the one subcommand is check: sitrep config check")
	}
	s, err := loadSettings(p.getenv)
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
		{"SITREP_DB", s.DB},
		{"SITREP_ADDR", s.Addr},
		{"SITREP_ANNOUNCE_CHANNEL", orDefault(s.AnnounceChannel, "(none: nothing is announced)")},
		{"SITREP_CONFIG", orDefault(s.ConfigFile, "(none: the defaults below)")},
		{"SITREP_LOG_LEVEL", strings.ToLower(s.LogLevel.String())},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
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
		ChangesBy:       orDefault(inc.ChangesBy, incident.ChangesByChannel),
		Admins:          inc.Admins,
	}
}
