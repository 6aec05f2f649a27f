package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/postmortem"
	"github.com/sitrep-dev/sitrep/templates"
)

const postmortemAbout = `Renders incident n's postmortem from the database (SITREP_DB) as Markdown,
without Slack. Times are in the config file's time_zone (SITREP_CONFIG), and its
templates_dir may hold a postmortem.md.tmpl override.
People are shown by their Slack user IDs: names need Slack.`

func postmortemFlags(fl *flag.FlagSet) {
	fl.Bool("html", false, "write an HTML page instead of Markdown")
	fl.String("o", "", "write to `file` (created or truncated) instead of standard output")
}

// errNoNumber is the one-line answer to a missing or malformed number.
var errNoNumber = errors.New("postmortem: give the incident number, e.g. sitrep postmortem 42")

// runPostmortemCommand renders an incident's postmortem offline: to stdout,
// or to the file named by -o, as Markdown or (--html) as a standalone HTML
// page.
func runPostmortemCommand(p program, ctx context.Context, fl *flag.FlagSet, args []string) error {
	pos, err := parseInterspersed(fl, args)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return fmt.Errorf("postmortem: %w", err)
	}
	if len(pos) == 0 {
		return errNoNumber
	}
	if len(pos) > 1 {
		return fmt.Errorf("postmortem: one incident number only, not %q", strings.Join(pos, " "))
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(pos[0], "#"), 10, 64)
	if err != nil || n <= 0 {
		return errNoNumber
	}
	asHTML := fl.Lookup("html").Value.String() == "true"
	out := fl.Lookup("o").Value.String()

	cfg, err := loadOfflineSettings(p.getenv)
	if err != nil {
		return err
	}
	// sqlite.Open creates a missing file; a mistyped path must not leave an
	// empty database behind and report "no incident #n" from it.
	if !isPostgres(cfg.DB) {
		if err := existingDB(sqlitePath(cfg.DB)); err != nil {
			return err
		}
	}
	db, err := openDB(ctx, cfg.DB, time.Now)
	if err != nil {
		return err
	}
	defer db.Close()

	tmpl, err := templates.Postmortem(cfg.TemplatesDir)
	if err != nil {
		return fmt.Errorf("postmortem: %w", err)
	}
	// The Service only reads here; its config and clock are not used.
	// Offline there is no users.info to ask, so every user is shown by
	// their ID (or the label of a <@U…|label> mention): Options.Name is
	// nil. The Slack command resolves real names.
	svc := incident.NewService(db, cfg.Incident, time.Now)
	doc, err := postmortem.Write(ctx, svc, n, postmortem.Options{Template: tmpl, TimeZone: cfg.TimeZone})
	var te *postmortem.TemplateError
	switch {
	case errors.As(err, &te):
		return fmt.Errorf("postmortem: %w", err)
	case incident.ErrorCode(err) == incident.ENOTFOUND:
		return fmt.Errorf("postmortem: %s", incident.ErrorMessage(err))
	case err != nil:
		return fmt.Errorf("postmortem: read incident #%d: %w", n, err)
	}
	data := doc.Markdown
	if asHTML {
		if data, err = doc.HTMLPage(); err != nil {
			return fmt.Errorf("postmortem: %w", err)
		}
	}

	if out != "" {
		// Written only once the document is complete, so a failure above
		// never truncates an earlier version of the file.
		if err := os.WriteFile(out, data, 0o644); err != nil {
			return fmt.Errorf("postmortem: -o: %w", err)
		}
		return nil
	}
	if _, err := p.stdout.Write(data); err != nil {
		return fmt.Errorf("postmortem: write: %w", err)
	}
	return nil
}

// parseInterspersed parses fl's flags wherever they stand among args, so
// that both "42 --html" and "--html 42" work, and returns the other
// arguments in order. Everything after "--" is an argument.
func parseInterspersed(fl *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fl.Parse(args); err != nil {
			return nil, err
		}
		rest := fl.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// loadOfflineSettings reads what the postmortem command needs and nothing
// else: unlike loadSettings it wants no Slack tokens. The config file is read
// by the same code as at start-up, so it is checked in the same way.
func loadOfflineSettings(getenv func(string) string) (*settings, error) {
	defaults, err := defaultIncidentConfig()
	if err != nil {
		return nil, err
	}
	s := &settings{
		DB:         orDefault(getenv("SITREP_DB"), "sitrep.db"),
		ConfigFile: strings.TrimSpace(getenv("SITREP_CONFIG")),
		Incident:   defaults,
		TimeZone:   time.UTC,
	}
	if s.ConfigFile != "" {
		if err := s.readConfigFile(); err != nil {
			return nil, &settingError{"SITREP_CONFIG", err.Error()}
		}
	}
	return s, nil
}
