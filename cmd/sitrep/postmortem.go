package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"html"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/postmortem"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
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
	if err := existingDB(cfg.DB); err != nil {
		return err
	}
	db, err := sqlite.Open(ctx, cfg.DB)
	if err != nil {
		return fmt.Errorf("SITREP_DB: open %s: %w", cfg.DB, err)
	}
	defer db.Close()

	// The Service only reads here; its config and clock are not used.
	svc := incident.NewService(db, cfg.Incident, time.Now)
	inc, events, err := svc.Timeline(ctx, n)
	if incident.ErrorCode(err) == incident.ENOTFOUND {
		return fmt.Errorf("postmortem: %s", incident.ErrorMessage(err))
	}
	if err != nil {
		return fmt.Errorf("postmortem: read incident #%d: %w", n, err)
	}
	tmpl, err := templates.Postmortem(cfg.TemplatesDir)
	if err != nil {
		return fmt.Errorf("postmortem: %w", err)
	}
	// Offline there is no users.info to ask, so every user is shown by their
	// ID: returning "" makes Build fall back to the ID (or to the label of a
	// <@U…|label> mention). The Slack command resolves real names.
	noNames := func(userID string) string { return "" }
	view := postmortem.Build(inc, events, cfg.TimeZone, noNames)
	var doc bytes.Buffer
	if err := postmortem.Render(&doc, tmpl, view); err != nil {
		return fmt.Errorf("postmortem: %w", err)
	}
	data := doc.Bytes()
	if asHTML {
		frag, err := postmortem.HTML(data)
		if err != nil {
			return fmt.Errorf("postmortem: %w", err)
		}
		data = htmlPage(pageTitle(inc), frag)
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

// slackEntities decodes the entities Slack uses in stored text.
var slackEntities = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

// pageTitle is the plain-text title of an incident's postmortem page.
func pageTitle(inc *incident.Incident) string {
	t := fmt.Sprintf("Postmortem: #%d %s", inc.Number, slackEntities.Replace(strings.Join(strings.Fields(inc.Title), " ")))
	if inc.Drill {
		t = "[DRILL] " + t
	}
	return t
}

// htmlPage wraps an HTML fragment, used as it is, in a minimal HTML5 page.
func htmlPage(title string, fragment []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(fragment) + 256)
	b.WriteString("<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<title>" + html.EscapeString(title) + "</title>\n</head>\n<body>\n")
	b.Write(fragment)
	if len(fragment) > 0 && fragment[len(fragment)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.WriteString("</body>\n</html>\n")
	return b.Bytes()
}
