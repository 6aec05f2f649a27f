package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/bot"
	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/tracker"
	"github.com/sitrep-dev/sitrep/tracker/github"
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
	HookSecrets map[string]string // SITREP_HOOK_SECRET_<TRACKER>, by tracker
}

var (
	repoRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
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

// readTrackerEnv reads the trackers' tokens, API URLs and webhook secrets.
func (t *trackerSettings) readEnv(getenv func(string) string) error {
	t.GitHubToken = strings.TrimSpace(getenv("SITREP_GITHUB_TOKEN"))
	t.GitHubURL = orDefault(getenv("GITHUB_API_URL"), github.DefaultURL)
	if err := checkURL(t.GitHubURL); err != nil {
		return &settingError{"GITHUB_API_URL", err.Error()}
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
func wireTrackers(cfg *settings, svc *incident.Service, late *lateBot, now func() time.Time, log *slog.Logger) *trackerWiring {
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
	if g := ts.File.GitHub; g != nil {
		opts.Trackers["github"] = github.New(github.Config{Repo: g.Repo, Labels: g.Labels, Token: ts.GitHubToken, URL: ts.GitHubURL}, client, now)
		opts.CloseOnDone["github"] = g.CloseOnDone
		opts.Users["github"] = g.Users
		if sec := ts.HookSecrets["github"]; sec != "" {
			w.hooks["github"] = tracker.HookHandler(github.Hook{Secret: sec}, opts.Trackers["github"], svc, log.With("in", "trackers"))
		}
	}
	w.export = tracker.NewExport(svc, opts, log)
	return w
}
