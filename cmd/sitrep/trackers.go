package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/bot"
	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/tracker"
	"github.com/sitrep-dev/sitrep/tracker/asana"
	"github.com/sitrep-dev/sitrep/tracker/github"
	"github.com/sitrep-dev/sitrep/tracker/jira"
	"github.com/sitrep-dev/sitrep/tracker/linear"
)

// trackersFile is the config file's trackers section: where follow-ups'
// issues are made (INTEGRATIONS.md, "Follow-ups in a tracker").
type trackersFile struct {
	// Default names the tracker the Create issue button and export use
	// when more than one is configured.
	Default string `yaml:"default,omitempty"`
	// Export makes issues without anyone pressing the button: on_create
	// for every follow-up as it is recorded, on_postmortem for every
	// follow-up without one when the postmortem is published.
	Export string `yaml:"export,omitempty"`
	// Check is how often open follow-ups' issues are looked at, for
	// webhooks that never came; "off" for never.
	Check  string      `yaml:"check,omitempty"`
	GitHub *githubFile `yaml:"github,omitempty"`
	Jira   *jiraFile   `yaml:"jira,omitempty"`
	Asana  *asanaFile  `yaml:"asana,omitempty"`
	Linear *linearFile `yaml:"linear,omitempty"`
}

// jiraFile is trackers.jira.
type jiraFile struct {
	Site      string   `yaml:"site"`    // https://acme.atlassian.net
	Project   string   `yaml:"project"` // the project key
	IssueType string   `yaml:"issue_type,omitempty"`
	Labels    []string `yaml:"labels,omitempty"`
	// Users maps Slack user IDs to Jira account IDs; without an entry the
	// owner is looked up by their Slack email.
	Users       map[string]string `yaml:"users,omitempty"`
	CloseOnDone bool              `yaml:"close_on_done,omitempty"`
}

// asanaFile is trackers.asana. Owners are assigned by their Slack email.
type asanaFile struct {
	Project     string `yaml:"project"` // the project's gid
	CloseOnDone bool   `yaml:"close_on_done,omitempty"`
}

// linearFile is trackers.linear.
type linearFile struct {
	Team     string   `yaml:"team"` // the team's UUID
	LabelIDs []string `yaml:"label_ids,omitempty"`
	// Users maps Slack user IDs to Linear user IDs; without an entry the
	// owner is looked up by their Slack email.
	Users       map[string]string `yaml:"users,omitempty"`
	CloseOnDone bool              `yaml:"close_on_done,omitempty"`
}

// githubFile is trackers.github.
type githubFile struct {
	Repo   string   `yaml:"repo"`
	Labels []string `yaml:"labels,omitempty"`
	// Users maps Slack user IDs to GitHub logins, to assign the owner.
	// GitHub cannot find people by email.
	Users map[string]string `yaml:"users,omitempty"`
	// CloseOnDone closes the issue when the follow-up is marked done in
	// Slack; by default the issue gets a comment and stays open for the
	// people who track the work there.
	CloseOnDone bool `yaml:"close_on_done,omitempty"`
}

// trackerSettings are the trackers as start-up reads them: the config
// file's section and the tokens and URLs from the environment.
type trackerSettings struct {
	File        trackersFile
	Names       []string // configured, in a fixed order
	Default     string
	Check       time.Duration // 0: off
	GitHubToken string
	GitHubURL   string
	JiraEmail   string
	JiraToken   string
	JiraURL     string // "" uses the site
	AsanaToken  string
	AsanaURL    string
	LinearToken string
	LinearURL   string
	HookSecrets map[string]string // SITREP_HOOK_SECRET_<TRACKER>, by tracker
}

var (
	repoRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	// jiraProjectRE is Jira's rule for project keys.
	jiraProjectRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]{1,9}$`)
	gidRE         = regexp.MustCompile(`^[0-9]{1,30}$`)
	uuidRE        = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	// githubLoginRE is GitHub's rule for user names.
	githubLoginRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
)

// check validates the trackers section and fills in the defaults.
func (t *trackerSettings) check() error {
	f := &t.File
	if g := f.GitHub; g != nil {
		if !repoRE.MatchString(g.Repo) {
			return fmt.Errorf("trackers.github.repo %q: use owner/name, such as acme/ops", g.Repo)
		}
		for u, login := range g.Users {
			if !userIDRE.MatchString(u) {
				return fmt.Errorf("trackers.github.users: %q is not a Slack user ID (U…)", u)
			}
			if !githubLoginRE.MatchString(login) {
				return fmt.Errorf("trackers.github.users.%s: %q is not a GitHub login", u, login)
			}
		}
		for i, l := range g.Labels {
			if strings.TrimSpace(l) == "" || len(l) > 50 {
				return fmt.Errorf("trackers.github.labels[%d] %q: a label name of 1 to 50 characters", i, l)
			}
		}
		t.Names = append(t.Names, "github")
	}
	if j := f.Jira; j != nil {
		if u, err := url.Parse(j.Site); err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("trackers.jira.site %q: your Jira Cloud site, such as https://acme.atlassian.net", j.Site)
		}
		if !jiraProjectRE.MatchString(j.Project) {
			return fmt.Errorf("trackers.jira.project %q: the project key, such as OPS (capital letters and digits)", j.Project)
		}
		if err := checkUsers("jira", j.Users); err != nil {
			return err
		}
		for i, l := range j.Labels {
			if l == "" || strings.ContainsAny(l, " \t") {
				return fmt.Errorf("trackers.jira.labels[%d] %q: Jira labels have no spaces", i, l)
			}
		}
		t.Names = append(t.Names, "jira")
	}
	if a := f.Asana; a != nil {
		if !gidRE.MatchString(a.Project) {
			return fmt.Errorf("trackers.asana.project %q: the project's gid, the long number in its URL (quote it in YAML)", a.Project)
		}
		t.Names = append(t.Names, "asana")
	}
	if l := f.Linear; l != nil {
		if !uuidRE.MatchString(l.Team) {
			return fmt.Errorf("trackers.linear.team %q: the team's UUID, not its key; find it with query { teams { nodes { id key } } }", l.Team)
		}
		for i, id := range l.LabelIDs {
			if !uuidRE.MatchString(id) {
				return fmt.Errorf("trackers.linear.label_ids[%d] %q: a label's UUID", i, id)
			}
		}
		if err := checkUsers("linear", l.Users); err != nil {
			return err
		}
		t.Names = append(t.Names, "linear")
	}
	switch f.Export {
	case "", incident.ExportOnCreate, incident.ExportOnPostmortem:
	default:
		return fmt.Errorf("trackers.export %q: use on_create, on_postmortem, or leave it out to export only when asked", f.Export)
	}
	switch {
	case f.Default != "" && !slices.Contains(t.Names, f.Default):
		return fmt.Errorf("trackers.default %q: not a configured tracker (configured: %s)", f.Default, orDefault(strings.Join(t.Names, ", "), "none"))
	case f.Default != "":
		t.Default = f.Default
	case len(t.Names) > 0:
		t.Default = t.Names[0]
	}
	if f.Export != "" && t.Default == "" {
		return fmt.Errorf("trackers.export is set but no tracker is configured")
	}
	t.Check = tracker.DefaultCheck
	switch v := strings.TrimSpace(f.Check); v {
	case "":
	case "off":
		t.Check = 0
	default:
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			return fmt.Errorf("trackers.check %q: a duration of at least 1m, such as 15m, or off", f.Check)
		}
		t.Check = d
	}
	return nil
}

// checkUsers checks a tracker's map of Slack users to its own.
func checkUsers(tracker string, users map[string]string) error {
	for u, id := range users {
		if !userIDRE.MatchString(u) {
			return fmt.Errorf("trackers.%s.users: %q is not a Slack user ID (U…)", tracker, u)
		}
		if strings.TrimSpace(id) == "" {
			return fmt.Errorf("trackers.%s.users.%s is empty", tracker, u)
		}
	}
	return nil
}

// readTrackerEnv reads the trackers' tokens, API URLs and webhook secrets.
func (t *trackerSettings) readEnv(getenv func(string) string) error {
	t.GitHubToken = strings.TrimSpace(getenv("SITREP_GITHUB_TOKEN"))
	t.GitHubURL = orDefault(getenv("GITHUB_API_URL"), github.DefaultURL)
	if err := checkURL(t.GitHubURL); err != nil {
		return &settingError{"GITHUB_API_URL", err.Error()}
	}
	t.JiraEmail = strings.TrimSpace(getenv("SITREP_JIRA_EMAIL"))
	t.JiraToken = strings.TrimSpace(getenv("SITREP_JIRA_TOKEN"))
	t.JiraURL = strings.TrimSpace(getenv("JIRA_API_URL"))
	t.AsanaToken = strings.TrimSpace(getenv("SITREP_ASANA_TOKEN"))
	t.AsanaURL = orDefault(getenv("ASANA_API_URL"), asana.DefaultURL)
	t.LinearToken = strings.TrimSpace(getenv("SITREP_LINEAR_TOKEN"))
	t.LinearURL = orDefault(getenv("LINEAR_API_URL"), linear.DefaultURL)
	for _, u := range []struct{ name, v string }{{"JIRA_API_URL", t.JiraURL}, {"ASANA_API_URL", t.AsanaURL}, {"LINEAR_API_URL", t.LinearURL}} {
		if u.v == "" {
			continue
		}
		if err := checkURL(u.v); err != nil {
			return &settingError{u.name, err.Error()}
		}
	}
	t.HookSecrets = map[string]string{}
	for _, name := range t.Names {
		if v := strings.TrimSpace(getenv(hookSecretVar(name))); v != "" {
			t.HookSecrets[name] = v
		}
	}
	return nil
}

func checkURL(v string) error {
	if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
		return fmt.Errorf("%q is not an http(s) URL", v)
	}
	return nil
}

// trackerToken is the setting holding a tracker's token, and its value.
func (t *trackerSettings) token(name string) (setting, value string) {
	switch name {
	case "github":
		return "SITREP_GITHUB_TOKEN", t.GitHubToken
	case "jira":
		if t.JiraEmail == "" {
			return "SITREP_JIRA_TOKEN", "" // both are needed
		}
		return "SITREP_JIRA_TOKEN", t.JiraToken
	case "asana":
		return "SITREP_ASANA_TOKEN", t.AsanaToken
	case "linear":
		return "SITREP_LINEAR_TOKEN", t.LinearToken
	}
	return "", ""
}

// trackerWiring is what serve runs for the trackers.
type trackerWiring struct {
	export *tracker.Export
	hooks  map[string]http.Handler // by tracker: POST /hooks/<tracker>
}

// lateBot lets the trackers reach the bot, which is made after them
// because it runs their deliveries.
type lateBot struct{ b *bot.Bot }

func (l *lateBot) Person(ctx context.Context, id string) (string, string) { return l.b.Person(ctx, id) }

// wireTrackers makes the configured trackers, their export and their
// webhooks; nil when none is configured.
func wireTrackers(cfg *settings, svc *incident.Service, secrets asana.Secrets, late *lateBot, now func() time.Time, log *slog.Logger) *trackerWiring {
	ts := cfg.Trackers
	if len(ts.Names) == 0 {
		return nil
	}
	client := &http.Client{Timeout: 20 * time.Second}
	w := &trackerWiring{hooks: map[string]http.Handler{}}
	opts := tracker.Options{
		Trackers:    map[string]tracker.Tracker{},
		CloseOnDone: map[string]bool{},
		Users:       map[string]map[string]string{},
		People:      late,
		Link:        func(ctx context.Context, inc *incident.Incident) string { return late.b.IncidentLink(ctx, inc) },
	}
	for _, name := range ts.Names {
		if setting, v := ts.token(name); v == "" {
			// The tracker stays on: pressing Create issue says what to
			// set, in the channel, once.
			log.Warn("a tracker is configured without its token; its issues cannot be made until it is set", "tracker", name, "setting", setting)
		}
	}
	hookLog := log.With("in", "trackers")
	if g := ts.File.GitHub; g != nil {
		opts.Trackers["github"] = github.New(github.Config{Repo: g.Repo, Labels: g.Labels, Token: ts.GitHubToken, URL: ts.GitHubURL}, client, now)
		opts.CloseOnDone["github"] = g.CloseOnDone
		opts.Users["github"] = g.Users
		if sec := ts.HookSecrets["github"]; sec != "" {
			w.hooks["github"] = tracker.HookHandler(github.Hook{Secret: sec}, opts.Trackers["github"], svc, hookLog)
		}
	}
	if j := ts.File.Jira; j != nil {
		opts.Trackers["jira"] = jira.New(jira.Config{Site: j.Site, Project: j.Project, IssueType: j.IssueType, Labels: j.Labels,
			Email: ts.JiraEmail, Token: ts.JiraToken, URL: ts.JiraURL}, client, now)
		opts.CloseOnDone["jira"] = j.CloseOnDone
		opts.Users["jira"] = j.Users
		if sec := ts.HookSecrets["jira"]; sec != "" {
			w.hooks["jira"] = tracker.HookHandler(jira.Hook{Secret: sec}, opts.Trackers["jira"], svc, hookLog)
		}
	}
	if a := ts.File.Asana; a != nil {
		opts.Trackers["asana"] = asana.New(asana.Config{Project: a.Project, Token: ts.AsanaToken, URL: ts.AsanaURL}, client, now)
		opts.CloseOnDone["asana"] = a.CloseOnDone
		if sec := ts.HookSecrets["asana"]; sec != "" {
			w.hooks["asana"] = tracker.HookHandler(asana.Hook{Token: sec, Secrets: secrets, Now: now}, opts.Trackers["asana"], svc, hookLog)
		}
	}
	if l := ts.File.Linear; l != nil {
		opts.Trackers["linear"] = linear.New(linear.Config{Team: l.Team, LabelIDs: l.LabelIDs, Token: ts.LinearToken, URL: ts.LinearURL}, client, now)
		opts.CloseOnDone["linear"] = l.CloseOnDone
		opts.Users["linear"] = l.Users
		if sec := ts.HookSecrets["linear"]; sec != "" {
			w.hooks["linear"] = tracker.HookHandler(linear.Hook{Secret: sec, Now: now}, opts.Trackers["linear"], svc, hookLog)
		}
	}
	w.export = tracker.NewExport(svc, opts, log)
	return w
}
