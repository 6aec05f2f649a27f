package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/intake/route"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

const alertsAbout = `alerts replay --config FILE runs the alert routes of FILE against the alerts
recorded in SITREP_DB (or -db) and prints what each group of alerts would
have become (declared, attached, waiting for its noise controls, held by the
cap, triaged or ignored) beside what it did become, so that routing can be
changed without waiting for the next storm to find out.

Nothing recorded is changed. The replay runs the real routing and grouping in
a scratch database, deleted afterwards: each alert fires when Sitrep first
received it and resolves when it last changed, and waits end when they would
have, up to now. Sitrep keeps each alert's latest state only, so an alert
that flapped replays as firing once (and resolving once, if it is resolved
now), and nobody decides anything in triage.`

func alertsFlags(fl *flag.FlagSet) {
	fl.String("config", "", "the config `file` whose alerts.routes to try")
	dbFlag(fl)
}

func runAlerts(p program, ctx context.Context, fl *flag.FlagSet, args []string) error {
	pos, err := parseInterspersed(fl, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "replay" {
		return errors.New("alerts: the one subcommand is replay: sitrep alerts replay --config new.yaml")
	}
	file := strings.TrimSpace(fl.Lookup("config").Value.String())
	if file == "" {
		return errors.New("alerts replay: name the config file whose routes to try: sitrep alerts replay --config new.yaml")
	}
	next, err := loadConfigFile(file)
	if err != nil {
		return fmt.Errorf("alerts replay --config: %w", err)
	}
	cfg, err := loadOfflineSettings(p.getenv)
	if err != nil {
		return err
	}
	// sqlite.Open creates a missing file; a mistyped path must not replay
	// an empty database and report that nothing would happen. The
	// recorded alerts are read through the one store-selection path, so
	// a PostgreSQL installation replays as a SQLite one does; the replay
	// itself runs in a scratch SQLite file either way.
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
	now := time.Now()
	if p.clock != nil {
		now = p.clock.Now()
	}
	rep, err := replayAlerts(ctx, db, next, now)
	if err != nil {
		return fmt.Errorf("alerts replay: %w", err)
	}
	return rep.print(p.stdout, file)
}

// replayedGroup is what one group of alerts, as the new routes group them,
// would have become, and what its alerts did become.
type replayedGroup struct {
	key, route, title string
	alerts            int
	would, was        string
}

type replay struct {
	alerts      int
	first, last time.Time
	groups      []replayedGroup
	// Incidents declared by the replay, and recorded.
	declared, recorded int
	triaged, ignored   int
}

// replayStep is one alert changing status at a moment.
type replayStep struct {
	at time.Time
	a  incident.Alert
}

// replayAlerts runs the recorded alerts of st through the routes of next in
// a scratch database, as intake would have at the times they arrived.
func replayAlerts(ctx context.Context, st incident.Store, next *settings, now time.Time) (*replay, error) {
	recorded, err := st.RecordedAlerts(ctx)
	if err != nil {
		return nil, err
	}
	incs, err := st.List(ctx, incident.ListFilter{})
	if err != nil {
		return nil, err
	}
	numbers := map[string]int64{}
	for _, inc := range incs {
		numbers[inc.ID] = inc.Number
	}
	dir, err := os.MkdirTemp("", "sitrep-replay-")
	if err != nil {
		return nil, fmt.Errorf("scratch database: %w", err)
	}
	defer os.RemoveAll(dir)
	scratch, err := sqlite.Open(ctx, filepath.Join(dir, "replay.db"))
	if err != nil {
		return nil, fmt.Errorf("scratch database: %w", err)
	}
	defer scratch.Close()

	var cur time.Time
	scratch.Now = func() time.Time { return cur }
	svc := incident.NewService(scratch, next.Incident, func() time.Time { return cur })
	router, err := route.New(next.Alerts, next.Incident.SeverityNames(), svc)
	if err != nil {
		return nil, err
	}
	rules := router.Rules()

	rep := &replay{alerts: len(recorded)}
	var steps []replayStep
	for _, a := range recorded {
		fire := a.Alert
		fire.Status = incident.AlertFiring
		steps = append(steps, replayStep{a.ReceivedAt, fire})
		if a.Status == incident.AlertResolved {
			steps = append(steps, replayStep{maxTime(a.UpdatedAt, a.ReceivedAt), a.Alert})
		}
	}
	slices.SortStableFunc(steps, func(x, y replayStep) int { return x.at.Compare(y.at) })
	if len(steps) > 0 {
		rep.first, rep.last = steps[0].at, steps[len(steps)-1].at
		cur = rep.first
	}
	// settle ends the waits that end by until, in order.
	settle := func(until time.Time) error {
		for {
			_, next, err := svc.DeclareHeld(ctx, rules)
			if err != nil || next.IsZero() || next.After(until) {
				return err
			}
			cur = next
		}
	}
	for i := 0; i < len(steps); {
		// Alerts that arrived at one moment (one notification) are one
		// batch, as they were.
		j := i + 1
		for j < len(steps) && steps[j].at.Equal(steps[i].at) {
			j++
		}
		if err := settle(steps[i].at); err != nil {
			return nil, err
		}
		cur = steps[i].at
		batch := make([]incident.RoutedAlert, 0, j-i)
		for _, s := range steps[i:j] {
			batch = append(batch, router.Route(s.a))
		}
		if _, err := svc.ReceiveAlerts(ctx, batch, rules); err != nil {
			return nil, fmt.Errorf("replay the alerts received at %s: %w", cur.Format(time.RFC3339), err)
		}
		i = j
	}
	if now.After(cur) {
		if err := settle(now); err != nil {
			return nil, err
		}
		cur = now
	}

	// Each group as the new routes make them, in the order first seen.
	var order []string
	byGroup := map[string][]incident.StoredAlert{}
	routed := map[string]incident.RoutedAlert{}
	for _, a := range recorded {
		r := router.Route(a.Alert)
		if _, ok := byGroup[r.Group]; !ok {
			order = append(order, r.Group)
			routed[r.Group] = r
		}
		byGroup[r.Group] = append(byGroup[r.Group], a)
	}
	for _, key := range order {
		var g *incident.AlertGroup
		if err := scratch.RecordAlerts(ctx, func(tx incident.AlertTx) error {
			var err error
			g, err = tx.Group(key)
			return err
		}); err != nil {
			return nil, err
		}
		alerts := byGroup[key]
		rg := replayedGroup{key: key, route: routed[key].Route, title: alerts[0].Title, alerts: len(alerts), was: wasOutcome(alerts, numbers)}
		switch {
		case g == nil:
			rg.would = "ignored"
			rep.ignored++
		case g.State == incident.GroupIncident:
			rg.would = fmt.Sprintf("declares an incident with its %d alerts", len(alerts))
			if len(alerts) == 1 {
				rg.would = "declares an incident"
			}
			if g.Hold.Holds() {
				rg.would += ", after waiting for " + g.Hold.Describe()
			}
		case g.Capped:
			rg.would = fmt.Sprintf("triage: over the cap of %d declarations a minute", rules.MaxDeclaresPerMinute)
			rep.triaged++
		case g.Waiting:
			rg.would = "triage: still waiting for " + g.Hold.Describe()
			rep.triaged++
		default:
			rg.would = "triage"
			rep.triaged++
		}
		rep.groups = append(rep.groups, rg)
	}
	made, err := scratch.List(ctx, incident.ListFilter{})
	if err != nil {
		return nil, err
	}
	rep.declared = len(made)
	for _, inc := range incs {
		if inc.Source != "" {
			rep.recorded++
		}
	}
	return rep, nil
}

// wasOutcome says what a group's alerts became when they were received:
// the incidents they are attached to, or their route's action.
func wasOutcome(alerts []incident.StoredAlert, numbers map[string]int64) string {
	var parts []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	for _, a := range alerts {
		switch {
		case a.IncidentID != "":
			add(fmt.Sprintf("incident #%d", numbers[a.IncidentID]))
		case a.Action == incident.ActionIgnore:
			add("ignored")
		default:
			add("triage")
		}
	}
	return strings.Join(parts, ", ")
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (r *replay) print(w io.Writer, file string) error {
	if r.alerts == 0 {
		_, err := fmt.Fprintln(w, "No alerts are recorded yet: there is nothing to replay.")
		return err
	}
	fmt.Fprintf(w, "Replayed %d alerts received from %s to %s through the routes of %s.\n",
		r.alerts, r.first.UTC().Format(time.RFC3339), r.last.UTC().Format(time.RFC3339), file)
	fmt.Fprintf(w, "They would declare %d incidents (alerts declared %d), leave %d groups in triage and ignore %d.\n\n",
		r.declared, r.recorded, r.triaged, r.ignored)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tGROUP\tFIRST ALERT\tALERTS\tWOULD\tWAS")
	for _, g := range r.groups {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", oneLine(g.route, 30), oneLine(g.key, 60), oneLine(g.title, 40), g.alerts, g.would, g.was)
	}
	return tw.Flush()
}

// oneLine fits s on one table cell: no tabs or newlines, at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
