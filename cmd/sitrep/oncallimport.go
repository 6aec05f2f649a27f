package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sitrep-dev/sitrep/oncall"
)

const oncallAbout = `oncall import --from pagerduty|grafana-oncall [--users file] export.json...
reads another tool's on-call schedule, as its API exports it, and prints the
schedules as an oncall: section of Sitrep's config file: paste its
schedules under oncall: (or the whole section, if the file has none). Nothing is changed and nothing is sent anywhere.

PagerDuty: the answer of GET /schedules/{id} (or GET
/schedules?include[]=schedule_layers), fetched in the schedule's own time zone;
the answer of GET /schedules/{id}/overrides may be added, to have its
overrides listed.
Grafana OnCall: the answers of GET /api/v1/schedules/{id} and GET
/api/v1/on_call_shifts/?schedule_id={id}, as two files (the schedule gives the
name and the time zone of shifts that have none).

Each person must be mapped to their Slack member ID (U…): in a YAML file
given with --users, one line each ("PANA001: U01ABCDEF", where the key is the
vendor's user ID, email or, for PagerDuty, the name it shows), or with
--user ID=U… (repeatable). Those missing are all named at once.

A Sitrep schedule is one rotation of whole days or weeks, with no hours of the
day. Whatever the export holds that it cannot express (layers or shifts for
office hours, one-off shifts and overrides, people on call together, layers
that have ended) is said on stderr, one line each, so nothing is dropped
unseen. The output is compiled like the config file before it is printed.`

func oncallFlags(fl *flag.FlagSet) {
	fl.String("from", "", "the tool the export comes from: pagerduty or grafana-oncall")
	fl.String("users", "", "a YAML `file` mapping each vendor user (ID, email or name) to a Slack member ID")
	fl.Var(&userFlags{}, "user", "map one vendor user to a Slack member ID: `ID=U…` (repeatable)")
}

// userFlags collects repeated --user ID=U… flags.
type userFlags struct{ pairs []string }

func (u *userFlags) String() string { return strings.Join(u.pairs, ",") }

func (u *userFlags) Set(v string) error {
	k, s, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(s) == "" {
		return fmt.Errorf("%q: give the vendor's user and the Slack member ID as ID=U…", v)
	}
	u.pairs = append(u.pairs, v)
	return nil
}

func runOncall(p program, ctx context.Context, fl *flag.FlagSet, args []string) error {
	pos, err := parseInterspersed(fl, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || pos[0] != "import" {
		return errors.New("oncall: the one subcommand is import: sitrep oncall import --from pagerduty|grafana-oncall [--users users.yaml] export.json")
	}
	files := pos[1:]
	from := strings.TrimSpace(fl.Lookup("from").Value.String())
	if from == "" {
		return errors.New("oncall import: say which tool the export comes from: --from pagerduty or --from grafana-oncall")
	}
	if len(files) == 0 {
		return errors.New("oncall import: name the export file(s): sitrep oncall import --from " + from + " export.json")
	}
	users, err := importUsers(fl.Lookup("users").Value.String(), fl.Lookup("user").Value.(*userFlags).pairs)
	if err != nil {
		return err
	}
	var exports [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("oncall import: %w", err)
		}
		exports = append(exports, b)
	}
	now := time.Now()
	if p.clock != nil {
		now = p.clock.Now()
	}
	imp, err := oncall.ImportSchedules(from, exports, users, now)
	if err != nil {
		// When nothing could be imported, the error holds the notes.
		return fmt.Errorf("oncall import: %w", err)
	}
	for _, n := range imp.Notes {
		fmt.Fprintf(p.stderr, "note: %s\n", n)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	// The output is an oncall section, so that it is a config file in
	// itself (sitrep config check -file reads it); its schedules: lines
	// paste under an existing oncall: as they are.
	if err := enc.Encode(struct {
		OnCall oncall.Config `yaml:"oncall"`
	}{oncall.Config{Schedules: imp.Schedules}}); err != nil {
		return err
	}
	fmt.Fprintf(p.stdout, "# Imported from %s by sitrep oncall import. Paste the schedules under oncall:\n# in the config file (or this whole section, if it has none).\n", from)
	if len(imp.Notes) > 0 {
		fmt.Fprintf(p.stdout, "# %d thing(s) in the export could not be expressed; sitrep printed them on stderr.\n", len(imp.Notes))
	}
	_, err = p.stdout.Write(buf.Bytes())
	return err
}

// importUsers reads the user map from file (when given) and the --user
// pairs, which win.
func importUsers(file string, pairs []string) (oncall.UserMap, error) {
	users := oncall.UserMap{}
	if file = strings.TrimSpace(file); file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("oncall import --users: %w", err)
		}
		var m map[string]string
		if err := yaml.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("oncall import --users %s: not a YAML map of vendor user to Slack member ID (PANA001: U01ABCDEF): %v", file, err)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !oncall.IsUserID(strings.TrimSpace(m[k])) {
				return nil, fmt.Errorf("oncall import --users %s: %s: %q is not a Slack member ID (U…, from the person's profile → Copy member ID)", file, k, m[k])
			}
			users[k] = strings.TrimSpace(m[k])
		}
	}
	for _, pair := range pairs {
		k, v, _ := strings.Cut(pair, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !oncall.IsUserID(v) {
			return nil, fmt.Errorf("oncall import --user %s: %q is not a Slack member ID (U…, from the person's profile → Copy member ID)", pair, v)
		}
		users[k] = v
	}
	return users, nil
}
