package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sitrep-dev/sitrep/storage/postgres"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// version is Sitrep's release, set at build time with
// -ldflags "-X main.version=v1.2.3"; builds from a checkout say "dev".
var version = "dev"

// command is one of sitrep's subcommands. The usage text and the dispatch
// both come from the commands table.
type command struct {
	name    string
	args    string // what follows the name in the usage line
	summary string
	// about is the longer help shown by "sitrep <name> -h".
	about string
	run   func(p program, ctx context.Context, fl *flag.FlagSet, args []string) error
	// flags declares the command's flags on fl before parsing.
	flags func(fl *flag.FlagSet)
}

// commands lists the subcommands in the order help shows them.
var commands []command

func init() {
	// Assigned in init: the run functions refer back to the table (help).
	commands = []command{
		{name: "serve", summary: "run the bot (the default)", run: runServe,
			about: "Runs Sitrep: the HTTP endpoints (or Socket Mode), the Slack worker and the\nprompt scheduler. It stops cleanly on SIGTERM or Ctrl-C."},
		{name: "playground", summary: "try Sitrep in a local web page that plays Slack (no Slack needed)", run: runPlayground,
			flags: playgroundFlags, about: playgroundAbout},
		{name: "migrate", args: "[--from file]", summary: "bring the database's schema up to date and exit, or copy a SQLite installation into PostgreSQL", run: runMigrate,
			flags: func(fl *flag.FlagSet) {
				fl.String("from", "", "copy the SQLite installation in this `file` into the PostgreSQL database SITREP_DB names")
			},
			about: "Opens SITREP_DB, creating it if needed, applies the migrations it lacks, and\nlists the schema's migrations. serve does the same at start; run migrate on\nits own to upgrade ahead of a deploy.\n\nWith --from, copies a whole SQLite installation (incidents, timelines,\nchecklists, follow-ups with their tracker issues, prompt, paging and\ndelivery state, claims, alerts and their groups, trackers' hook secrets,\non-call overrides) into the empty PostgreSQL database SITREP_DB names, in\none transaction, and checks every table's row count on both sides. Stop\nSitrep first."},
		{name: "backup", args: "<file>", summary: "copy the database to file, consistently, while Sitrep runs", run: runBackup,
			flags: func(fl *flag.FlagSet) { fl.Bool("f", false, "replace file if it exists") },
			about: "Copies a SQLite SITREP_DB to file with SQLite's online backup API: the copy\nis one consistent moment of the database, taken without stopping Sitrep. The\ncopy is written beside file and renamed into place once checked, so file is\nnever half-written. A PostgreSQL database is backed up with its own tools\n(pg_dump), which backup explains."},
		{name: "postmortem", args: "<n> [-db file] [--html] [-o file]", summary: "print incident n's postmortem (no Slack)", run: withDBFlag(runPostmortemCommand),
			flags: func(fl *flag.FlagSet) { postmortemFlags(fl); dbFlag(fl) },
			about: postmortemAbout + "\n-db reads another database file, such as the one sitrep playground -db kept."},
		{name: "alerts", args: "replay --config new.yaml [-db file]", summary: "show what a new alert routing would have made of the alerts recorded", run: withDBFlag(runAlerts),
			flags: alertsFlags, about: alertsAbout},
		{name: "oncall", args: "import --from pagerduty|grafana-oncall [--users file] export.json", summary: "turn a PagerDuty or Grafana OnCall schedule export into oncall.schedules", run: runOncall,
			flags: oncallFlags, about: oncallAbout},
		{name: "config", args: "check [-file sitrep.yaml]", summary: "check the settings (or a config file alone) and print them, secrets masked", run: runConfig,
			flags: configFlags, about: configAbout},
		{name: "healthcheck", summary: "ask a running Sitrep's /healthz; exit 0 if it answers", run: runHealthcheck,
			flags: func(fl *flag.FlagSet) { fl.String("url", "", "ask this `URL` instead of /healthz at SITREP_ADDR") },
			about: "Asks http://127.0.0.1:<port>/healthz, the port taken from SITREP_ADDR, and\nexits 0 if it answers 200. For container health checks, where there is no\ncurl."},
		{name: "version", summary: "print the version", run: runVersion},
		{name: "help", summary: "show this help", run: runHelp},
	}
}

// usage is the top-level help, made from the commands table.
func usage() string {
	var b strings.Builder
	b.WriteString("Usage: sitrep [command] [flags]\n\nCommands:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s %s\t%s\n", c.name, c.args, c.summary)
	}
	tw.Flush()
	b.WriteString(`
Settings come from the environment and from a .env file in the working
directory (the environment wins). See README.md. "sitrep <command> -h" tells
more about a command.
`)
	return b.String()
}

func (p program) run(ctx context.Context, args []string) error {
	name := "serve"
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		fl := flag.NewFlagSet("sitrep "+c.name, flag.ContinueOnError)
		fl.SetOutput(p.stderr)
		if c.flags != nil {
			c.flags(fl)
		}
		fl.Usage = func() {
			fmt.Fprintf(fl.Output(), "Usage: sitrep %s %s\n\n", c.name, c.args)
			if c.about != "" {
				fmt.Fprintf(fl.Output(), "%s\n", c.about)
			} else {
				fmt.Fprintf(fl.Output(), "%s.\n", strings.ToUpper(c.summary[:1])+c.summary[1:])
			}
			hasFlags := false
			fl.VisitAll(func(*flag.Flag) { hasFlags = true })
			if hasFlags {
				fmt.Fprint(fl.Output(), "\nFlags:\n")
				fl.PrintDefaults()
			}
		}
		err := c.run(p, ctx, fl, args)
		if errors.Is(err, flag.ErrHelp) {
			return nil // the flag package has shown the usage
		}
		return err
	}
	fmt.Fprint(p.stderr, usage())
	return fmt.Errorf("unknown command %q", name)
}

// dbFlag declares -db, as playground has it, for a command that reads the
// database: the file a playground run kept can be read without setting
// SITREP_DB.
func dbFlag(fl *flag.FlagSet) {
	fl.String("db", "", "read this SQLite `file` instead of SITREP_DB")
}

// withDBFlag runs a command that reads SITREP_DB (and declares dbFlag) with
// the -db file in its place when one is given. The command reads its
// settings after parsing its flags, so the lookup sees -db. Its errors then
// name -db, which is what the user typed, rather than SITREP_DB.
func withDBFlag(run func(program, context.Context, *flag.FlagSet, []string) error) func(program, context.Context, *flag.FlagSet, []string) error {
	return func(p program, ctx context.Context, fl *flag.FlagSet, args []string) error {
		db := func() string { return strings.TrimSpace(fl.Lookup("db").Value.String()) }
		getenv := p.getenv
		p.getenv = func(k string) string {
			if v := db(); k == "SITREP_DB" && v != "" {
				return v
			}
			return getenv(k)
		}
		err := run(p, ctx, fl, args)
		var se *settingError
		if db() != "" && errors.As(err, &se) && se.name == "SITREP_DB" {
			se.name = "-db"
		}
		return err
	}
}

// noArgs parses a command that takes flags only.
func noArgs(fl *flag.FlagSet, args []string) error {
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("%s takes no arguments, not %q; see %s -h", fl.Name(), strings.Join(fl.Args(), " "), fl.Name())
	}
	return nil
}

func runServe(p program, ctx context.Context, fl *flag.FlagSet, args []string) error {
	if err := noArgs(fl, args); err != nil {
		return err
	}
	return p.serve(ctx)
}

func runHelp(p program, ctx context.Context, fl *flag.FlagSet, args []string) error {
	fmt.Fprint(p.stdout, usage())
	return nil
}

func runVersion(p program, ctx context.Context, fl *flag.FlagSet, args []string) error {
	if err := noArgs(fl, args); err != nil {
		return err
	}
	fmt.Fprintln(p.stdout, versionLine())
	return nil
}

// versionLine says which build this is: the release, and the commit and Go
// version it was built from when the build recorded them.
func versionLine() string {
	s := "sitrep " + version
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return s
	}
	var details []string
	settings := map[string]string{}
	for _, kv := range info.Settings {
		settings[kv.Key] = kv.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if settings["vcs.modified"] == "true" {
			rev += "-dirty"
		}
		details = append(details, "commit "+rev)
	}
	details = append(details, info.GoVersion)
	return s + " (" + strings.Join(details, ", ") + ")"
}

// healthTimeout bounds a health check: a container runtime kills the check
// after its own timeout, and a hung server must count as unhealthy.
const healthTimeout = 3 * time.Second

func runHealthcheck(p program, ctx context.Context, fl *flag.FlagSet, args []string) error {
	if err := noArgs(fl, args); err != nil {
		return err
	}
	target := fl.Lookup("url").Value.String()
	if target == "" {
		addr := orDefault(p.getenv("SITREP_ADDR"), ":8080")
		var err error
		if target, err = healthURL(addr); err != nil {
			return &settingError{"SITREP_ADDR", err.Error()}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %s did not answer: %w", target, errors.Unwrap(err))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", target, resp.Status)
	}
	fmt.Fprintf(p.stdout, "ok: %s\n", target)
	return nil
}

// healthURL is the /healthz URL of a Sitrep listening on addr, asked from
// the same host: a wildcard listen address is reached on loopback.
func healthURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		return "", fmt.Errorf("%q is not a listen address with a port, such as :8080", addr)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}

func runMigrate(p program, ctx context.Context, fl *flag.FlagSet, args []string) error {
	if err := noArgs(fl, args); err != nil {
		return err
	}
	setting := orDefault(p.getenv("SITREP_DB"), "sitrep.db")
	if from := strings.TrimSpace(fl.Lookup("from").Value.String()); from != "" {
		return migrateFrom(p, ctx, setting, sqlitePath(from))
	}
	started := time.Now()
	type applied struct {
		version   int64
		name      string
		appliedAt time.Time
	}
	var ms []applied
	if isPostgres(setting) {
		db, err := postgres.Open(ctx, setting)
		if err != nil {
			return fmt.Errorf("SITREP_DB: open %s: %w", describeDB(setting), err)
		}
		defer db.Close()
		list, err := db.Migrations(ctx)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		for _, m := range list {
			ms = append(ms, applied{m.Version, m.Name, m.AppliedAt})
		}
	} else {
		db, err := sqlite.Open(ctx, sqlitePath(setting))
		if err != nil {
			return fmt.Errorf("SITREP_DB: open %s: %w", sqlitePath(setting), err)
		}
		defer db.Close()
		list, err := db.Migrations(ctx)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		for _, m := range list {
			ms = append(ms, applied{m.Version, m.Name, m.AppliedAt})
		}
	}
	fmt.Fprintf(p.stdout, "%s: schema up to date\n", describeDB(setting))
	tw := tabwriter.NewWriter(p.stdout, 0, 0, 2, ' ', 0)
	for _, m := range ms {
		when := m.appliedAt.UTC().Format(time.RFC3339)
		if !m.appliedAt.Before(started) {
			when += " (now)"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\n", m.version, m.name, when)
	}
	return tw.Flush()
}

// migrateFrom copies the SQLite installation at from into the PostgreSQL
// database SITREP_DB names, and prints each table's rows, checked on both
// sides.
func migrateFrom(p program, ctx context.Context, setting, from string) error {
	if !isPostgres(setting) {
		return &settingError{"SITREP_DB", "migrate --from copies a SQLite file into PostgreSQL: set SITREP_DB to the postgres:// URL of the database to fill"}
	}
	if err := existingDB(from); err != nil {
		var se *settingError
		if errors.As(err, &se) {
			se.name = "--from"
		}
		return err
	}
	db, err := postgres.Open(ctx, setting)
	if err != nil {
		return fmt.Errorf("SITREP_DB: open %s: %w", describeDB(setting), err)
	}
	defer db.Close()
	started := time.Now()
	counts, err := db.ImportSQLite(ctx, from)
	if err != nil {
		return fmt.Errorf("migrate --from %s: %w", from, err)
	}
	fmt.Fprintf(p.stdout, "copied %s into %s in %s; rows in each table, the same on both sides:\n",
		from, describeDB(setting), time.Since(started).Round(time.Millisecond))
	tw := tabwriter.NewWriter(p.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, c := range counts {
		fmt.Fprintf(tw, "  %s\t%d\t\n", c.Table, c.Rows)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(p.stdout, "Point every replica's SITREP_DB at the PostgreSQL URL; keep the SQLite file as it is until you are satisfied.")
	return nil
}

func runBackup(p program, ctx context.Context, fl *flag.FlagSet, args []string) error {
	pos, err := parseInterspersed(fl, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("backup: name the file to write, e.g. sitrep backup sitrep-backup.db")
	}
	dest := pos[0]
	force := fl.Lookup("f").Value.String() == "true"
	setting := orDefault(p.getenv("SITREP_DB"), "sitrep.db")
	if isPostgres(setting) {
		return fmt.Errorf("backup: SITREP_DB is a PostgreSQL database (%s), which is backed up with PostgreSQL's own tools, not by Sitrep: "+
			"pg_dump --format=custom --file=%s \"$SITREP_DB\" takes a consistent copy while Sitrep runs (pg_restore puts it back), "+
			"and a managed database's snapshots or point-in-time recovery do the same. See README.md, \"PostgreSQL\"", describeDB(setting), dest)
	}
	path := sqlitePath(setting)
	if err := existingDB(path); err != nil {
		return err
	}
	if same, _ := sameFile(path, dest); same {
		return fmt.Errorf("backup: %s is the database itself; write the copy somewhere else", dest)
	}
	if _, err := os.Stat(dest); err == nil && !force {
		return fmt.Errorf("backup: %s exists; choose another name, or add -f to replace it", dest)
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("SITREP_DB: open %s: %w", path, err)
	}
	defer db.Close()
	started := time.Now()
	st, err := db.Backup(ctx, dest)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(p.stdout, "backed up %s to %s: %d incidents, %d timeline events, %d bytes, in %s\n",
		path, dest, st.Incidents, st.Events, st.Bytes, time.Since(started).Round(time.Millisecond))
	return nil
}

// existingDB checks that path is a database file, for commands that must
// not create one by mistake (sqlite.Open creates a missing file).
func existingDB(path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return &settingError{"SITREP_DB", "no database at " + path}
	case err != nil:
		return &settingError{"SITREP_DB", fmt.Sprintf("cannot read %s: %v", path, errors.Unwrap(err))}
	case !st.Mode().IsRegular():
		return &settingError{"SITREP_DB", path + " is not a database file"}
	}
	return nil
}

// sameFile reports whether a and b name the same existing file.
func sameFile(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil {
		// A new file in the database's directory under another name is
		// not the database; compare the cleaned paths for the rest.
		aa, _ := filepath.Abs(a)
		bb, _ := filepath.Abs(b)
		return aa == bb, nil
	}
	return os.SameFile(sa, sb), nil
}
