package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// alertClock is a settable clock for the Service the alert tests drive.
type alertClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *alertClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *alertClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func alertService(st incident.Store) (*incident.Service, *alertClock) {
	c := &alertClock{t: t0}
	return incident.NewService(st, incident.DefaultConfig(), c.now), c
}

// routed is a firing alert of group g with the action given.
func routed(key, group string, action incident.AlertAction, status incident.AlertStatus) incident.RoutedAlert {
	return incident.RoutedAlert{
		Alert: incident.Alert{Source: "alertmanager", Key: key, Status: status, Title: "High error rate " + key,
			Labels: map[string]string{"alertname": "HighErrorRate", "instance": key}, StartsAt: t0},
		Route: "r", Action: action, Group: group,
	}
}

func receive(t *testing.T, svc *incident.Service, rules incident.AlertRules, alerts ...incident.RoutedAlert) incident.AlertOutcome {
	t.Helper()
	out, err := svc.ReceiveAlerts(context.Background(), alerts, rules)
	if err != nil {
		t.Fatalf("ReceiveAlerts: %v", err)
	}
	return out
}

func kinds(evs []incident.Event) map[incident.EventKind]int {
	m := map[incident.EventKind]int{}
	for _, e := range evs {
		m[e.Kind]++
	}
	return m
}

func allIncidents(t *testing.T, st incident.Store) []*incident.Incident {
	t.Helper()
	incs, err := st.List(context.Background(), incident.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return incs
}

// testAlertsDeclareAttachResolve: the first firing alert of a group
// declares, later ones attach, resolved ones go on the timeline, and once
// all have resolved the commander is asked.
func (s suite) testAlertsDeclareAttachResolve(t *testing.T) {
	st := s.open(t)
	svc, clk := alertService(st)
	var rules incident.AlertRules
	out := receive(t, svc, rules, routed("a1", "g", incident.ActionDeclare, incident.AlertFiring))
	if len(out.Declared) != 1 {
		t.Fatalf("first alert declared %v, want one incident", out.Declared)
	}
	clk.add(time.Second)
	receive(t, svc, rules, routed("a2", "g", incident.ActionDeclare, incident.AlertFiring))
	incs := allIncidents(t, st)
	if len(incs) != 1 {
		t.Fatalf("%d incidents after two alerts of one group, want 1", len(incs))
	}
	inc := incs[0]
	if inc.Source != "alertmanager" || inc.DeclaredBy != "" || inc.Commander() != "" {
		t.Errorf("declared by %q for %q with commander %q; want Sitrep for alertmanager, no commander", inc.DeclaredBy, inc.Source, inc.Commander())
	}
	alerts, err := st.IncidentAlerts(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 2 || alerts[0].Key != "a1" || alerts[1].Key != "a2" || alerts[0].Labels["instance"] != "a1" {
		t.Fatalf("IncidentAlerts = %+v, want a1 then a2 with their labels", alerts)
	}
	receive(t, svc, rules, routed("a1", "g", incident.ActionDeclare, incident.AlertResolved))
	if k := kinds(events(t, st, inc.ID)); k[incident.KindAlertsResolved] != 0 || k[incident.KindAlert] != 3 {
		t.Fatalf("after one of two resolved: events %v, want 3 alert events and no question yet", k)
	}
	receive(t, svc, rules, routed("a2", "g", incident.ActionDeclare, incident.AlertResolved))
	k := kinds(events(t, st, inc.ID))
	if k[incident.KindAlertsResolved] != 1 || k[incident.KindAlert] != 4 {
		t.Fatalf("after all resolved: events %v, want 4 alert events and the commander asked once", k)
	}
	if got := get(t, st, inc.Number); got.Status != incident.Investigating {
		t.Errorf("status %s; without auto_resolve it stays open for the commander", got.Status)
	}
}

// testAlertsResend: a resend changes nothing, not even the timeline.
func (s suite) testAlertsResend(t *testing.T) {
	st := s.open(t)
	svc, _ := alertService(st)
	batch := []incident.RoutedAlert{routed("a1", "g", incident.ActionDeclare, incident.AlertFiring), routed("a2", "g", incident.ActionDeclare, incident.AlertFiring)}
	receive(t, svc, incident.AlertRules{}, batch...)
	inc := allIncidents(t, st)[0]
	before := len(events(t, st, inc.ID))
	version := get(t, st, inc.Number).Version
	out := receive(t, svc, incident.AlertRules{}, batch...)
	if out.Recorded != 0 || len(out.Declared) != 0 {
		t.Errorf("resend: %+v, want nothing recorded", out)
	}
	if n := len(events(t, st, inc.ID)); n != before {
		t.Errorf("resend added %d events", n-before)
	}
	if v := get(t, st, inc.Number).Version; v != version {
		t.Errorf("resend changed the incident: version %d → %d", version, v)
	}
}

// testAlertsConcurrent: identical deliveries at the same instant, through
// every handle, make one incident and one alert.
func (s suite) testAlertsConcurrent(t *testing.T) {
	a, b := s.handles(t)
	svcs := []*incident.Service{}
	for _, st := range []incident.Store{a, b} {
		svc, _ := alertService(st)
		svcs = append(svcs, svc)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svcs[i%2].ReceiveAlerts(context.Background(), []incident.RoutedAlert{routed("a1", "g", incident.ActionDeclare, incident.AlertFiring)}, incident.AlertRules{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("ReceiveAlerts: %v", err)
		}
	}
	incs := allIncidents(t, a)
	if len(incs) != 1 {
		t.Fatalf("%d incidents from 8 identical deliveries, want 1", len(incs))
	}
	alerts, err := a.IncidentAlerts(context.Background(), incs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 {
		t.Errorf("%d alerts recorded, want 1", len(alerts))
	}
	if k := kinds(events(t, a, incs[0].ID)); k[incident.KindAlert] != 1 {
		t.Errorf("%d alert events, want 1", k[incident.KindAlert])
	}
}

// testAlertsCap: past the per-minute cap groups go to triage, said once;
// the next minute declares again.
func (s suite) testAlertsCap(t *testing.T) {
	st := s.open(t)
	svc, clk := alertService(st)
	rules := incident.AlertRules{MaxDeclaresPerMinute: 2}
	var batch []incident.RoutedAlert
	for i := range 4 {
		batch = append(batch, routed(fmt.Sprint("k", i), fmt.Sprint("g", i), incident.ActionDeclare, incident.AlertFiring))
	}
	out := receive(t, svc, rules, batch...)
	if len(out.Declared) != 2 || len(out.Capped) != 2 {
		t.Fatalf("4 groups with a cap of 2: %+v, want 2 declared and 2 capped", out)
	}
	clk.add(time.Second)
	out = receive(t, svc, rules, routed("k0b", "g3", incident.ActionDeclare, incident.AlertFiring))
	if len(out.Declared) != 0 || len(out.Capped) != 0 {
		t.Errorf("a capped group's next alert: %+v, want nothing declared and the cap not said again", out)
	}
	clk.add(2 * time.Minute)
	out = receive(t, svc, rules, routed("k9", "g9", incident.ActionDeclare, incident.AlertFiring))
	if len(out.Declared) != 1 {
		t.Errorf("a new group a minute later: %+v, want it declared", out)
	}
	if n := len(allIncidents(t, st)); n != 3 {
		t.Errorf("%d incidents, want 3", n)
	}
}

// testAlertsFlapping: a group firing again soon after its incident
// resolved reopens it; much later it declares a new one.
func (s suite) testAlertsFlapping(t *testing.T) {
	st := s.open(t)
	svc, clk := alertService(st)
	rules := incident.AlertRules{ReopenWithin: 10 * time.Minute}
	auto := func(r incident.RoutedAlert) incident.RoutedAlert { r.AutoResolve = true; return r }
	receive(t, svc, rules, auto(routed("a1", "g", incident.ActionDeclare, incident.AlertFiring)))
	clk.add(time.Minute)
	out := receive(t, svc, rules, auto(routed("a1", "g", incident.ActionDeclare, incident.AlertResolved)))
	if len(out.Resolved) != 1 {
		t.Fatalf("auto_resolve: %+v, want the incident resolved", out)
	}
	inc := allIncidents(t, st)[0]
	if inc.Status != incident.Resolved {
		t.Fatalf("status %s, want resolved", inc.Status)
	}
	clk.add(5 * time.Minute)
	out = receive(t, svc, rules, auto(routed("a1", "g", incident.ActionDeclare, incident.AlertFiring)))
	if len(out.Reopened) != 1 || len(out.Declared) != 0 {
		t.Fatalf("firing again within reopen_within: %+v, want the incident reopened", out)
	}
	if got := get(t, st, inc.Number); got.Status != incident.Investigating {
		t.Errorf("status %s after reopening, want investigating", got.Status)
	}
	clk.add(time.Minute)
	receive(t, svc, rules, auto(routed("a1", "g", incident.ActionDeclare, incident.AlertResolved)))
	clk.add(time.Hour)
	out = receive(t, svc, rules, auto(routed("a1", "g", incident.ActionDeclare, incident.AlertFiring)))
	if len(out.Declared) != 1 {
		t.Errorf("firing an hour after resolving: %+v, want a new incident", out)
	}
	if n := len(allIncidents(t, st)); n != 2 {
		t.Errorf("%d incidents, want 2", n)
	}
}

// testAlertsTriageAndIgnore: alerts of other actions are recorded and
// declare nothing.
func (s suite) testAlertsTriageAndIgnore(t *testing.T) {
	st := s.open(t)
	svc, _ := alertService(st)
	out := receive(t, svc, incident.AlertRules{},
		routed("t1", "gt", incident.ActionTriage, incident.AlertFiring),
		routed("i1", "gi", incident.ActionIgnore, incident.AlertFiring))
	if out.Recorded != 2 || len(out.Declared) != 0 {
		t.Errorf("triage and ignore: %+v, want 2 recorded, none declared", out)
	}
	if n := len(allIncidents(t, st)); n != 0 {
		t.Errorf("%d incidents, want none", n)
	}
	err := st.RecordAlerts(context.Background(), func(tx incident.AlertTx) error {
		for _, k := range []string{"t1", "i1"} {
			a, err := tx.Alert("alertmanager", k)
			if err != nil {
				return err
			}
			if a == nil {
				return fmt.Errorf("alert %s not recorded", k)
			}
		}
		g, err := tx.Group("gt")
		if err != nil {
			return err
		}
		if g == nil || g.State != incident.GroupTriage {
			return fmt.Errorf("group gt is %+v, want in triage", g)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// testAlertTxRollsBack: a failing RecordAlerts stores nothing, incidents
// included.
func (s suite) testAlertTxRollsBack(t *testing.T) {
	st := s.open(t)
	boom := errors.New("boom")
	err := st.RecordAlerts(context.Background(), func(tx incident.AlertTx) error {
		a := routed("a1", "g", incident.ActionDeclare, incident.AlertFiring)
		if err := tx.PutAlert(&incident.StoredAlert{Alert: a.Alert, Group: "g", Action: a.Action, ReceivedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
		if err := tx.PutGroup(&incident.AlertGroup{Key: "g", State: incident.GroupTriage, CreatedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
		inc := NewIncident("From an alert")
		if err := tx.Create(inc, Declared(inc)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("RecordAlerts = %v, want fn's error", err)
	}
	if n := len(allIncidents(t, st)); n != 0 {
		t.Errorf("%d incidents after a rolled-back batch", n)
	}
	err = st.RecordAlerts(context.Background(), func(tx incident.AlertTx) error {
		a, err := tx.Alert("alertmanager", "a1")
		if err != nil || a != nil {
			return fmt.Errorf("alert after rollback: %v, %v", a, err)
		}
		g, err := tx.Group("g")
		if err != nil || g != nil {
			return fmt.Errorf("group after rollback: %v, %v", g, err)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// testAlertsTriageDecisions: groups in triage are behind until their
// message is saved; declaring one makes an incident of all its alerts
// with the declarer as commander, once; dismissing one keeps its alerts,
// and a new alert brings it back.
func (s suite) testAlertsTriageDecisions(t *testing.T) {
	st := s.open(t)
	svc, clk := alertService(st)
	ctx := context.Background()
	var rules incident.AlertRules
	receive(t, svc, rules, routed("a1", "g1", incident.ActionTriage, incident.AlertFiring), routed("a2", "g1", incident.ActionTriage, incident.AlertFiring),
		routed("b1", "g2", incident.ActionTriage, incident.AlertFiring), routed("i1", "gi", incident.ActionIgnore, incident.AlertFiring))
	behind, err := st.TriageBehind(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(behind) != 2 || behind[0].Key != "g1" || behind[1].Key != "g2" {
		t.Fatalf("TriageBehind = %+v, want g1 and g2", behind)
	}
	if err := st.SaveTriage(ctx, "g1", "1.0001", behind[0].Version, false); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveTriage(ctx, "g2", "1.0002", behind[1].Version, false); err != nil {
		t.Fatal(err)
	}
	if behind, _ := st.TriageBehind(ctx); len(behind) != 0 {
		t.Fatalf("after saving both messages, TriageBehind = %+v", behind)
	}
	if shown, err := st.TriageShown(ctx); err != nil || len(shown) != 2 || shown[0].TriageTS != "1.0001" || shown[1].Key != "g2" {
		t.Fatalf("TriageShown = %+v (%v), want g1 and g2 with their messages", shown, err)
	}
	clk.add(time.Second)
	receive(t, svc, rules, routed("a1", "g1", incident.ActionTriage, incident.AlertResolved))
	behind, _ = st.TriageBehind(ctx)
	if len(behind) != 1 || behind[0].Key != "g1" || behind[0].TriageTS != "1.0001" {
		t.Fatalf("after an alert of g1 resolved, TriageBehind = %+v, want g1 with its message", behind)
	}

	inc, err := svc.DeclareGroup(ctx, "g1", "U7")
	if err != nil {
		t.Fatal(err)
	}
	if shown, _ := st.TriageShown(ctx); len(shown) != 1 || shown[0].Key != "g2" {
		t.Errorf("after declaring g1, TriageShown = %+v, want g2 alone", shown)
	}
	if inc.Commander() != "U7" || inc.DeclaredBy != "U7" {
		t.Errorf("declared from triage by %q, commander %q; want U7 both", inc.DeclaredBy, inc.Commander())
	}
	alerts, err := st.IncidentAlerts(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 2 {
		t.Errorf("%d alerts attached to the incident declared from triage, want 2", len(alerts))
	}
	if _, err := svc.DeclareGroup(ctx, "g1", "U8"); incident.ErrorCode(err) != incident.ECONFLICT {
		t.Errorf("declaring a group twice: %v, want ECONFLICT", err)
	}
	if n := len(allIncidents(t, st)); n != 1 {
		t.Errorf("%d incidents, want 1", n)
	}
	clk.add(time.Second)
	receive(t, svc, rules, routed("a3", "g1", incident.ActionTriage, incident.AlertFiring))
	if alerts, _ := st.IncidentAlerts(ctx, inc.ID); len(alerts) != 3 {
		t.Errorf("a later alert of a group declared from triage: %d alerts on its incident, want 3", len(alerts))
	}

	if err := svc.DismissGroup(ctx, "g2", "U7"); err != nil {
		t.Fatal(err)
	}
	behind, _ = st.TriageBehind(ctx)
	var g2 *incident.AlertGroup
	for i := range behind {
		if behind[i].Key == "g2" {
			g2 = &behind[i]
		}
	}
	if g2 == nil || g2.State != incident.GroupDismissed || g2.DecidedBy != "U7" {
		t.Fatalf("after dismissing g2, TriageBehind = %+v, want g2 dismissed by U7", behind)
	}
	clk.add(time.Second)
	receive(t, svc, rules, routed("b2", "g2", incident.ActionTriage, incident.AlertFiring))
	alerts, err = st.GroupAlerts(ctx, "g2")
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 2 {
		t.Errorf("%d alerts in g2, want 2", len(alerts))
	}
	behind, _ = st.TriageBehind(ctx)
	for _, g := range behind {
		if g.Key == "g2" && (g.State != incident.GroupTriage || g.DecidedBy != "") {
			t.Errorf("a new alert of a dismissed group: %+v, want it back in triage", g)
		}
	}
	// Attach to…: a person's open incident takes the group's alerts; a
	// resolved one is refused.
	mine, err := svc.Declare(ctx, incident.Declaration{Title: "Search down", Actor: "U9"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AttachGroup(ctx, "g2", mine.Number, "U7"); err != nil {
		t.Fatal(err)
	}
	if alerts, _ := st.IncidentAlerts(ctx, mine.ID); len(alerts) != 2 {
		t.Errorf("%d alerts on the incident g2 was attached to, want 2", len(alerts))
	}
	if k := kinds(events(t, st, mine.ID)); k[incident.KindAlert] != 2 {
		t.Errorf("%d alert events after attaching, want 2", k[incident.KindAlert])
	}
	receive(t, svc, rules, routed("c1", "g3", incident.ActionTriage, incident.AlertFiring))
	if _, err := svc.Resolve(ctx, mine.Number, "U9", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AttachGroup(ctx, "g3", mine.Number, "U7"); incident.ErrorCode(err) != incident.ECONFLICT {
		t.Errorf("attaching to a resolved incident: %v, want ECONFLICT", err)
	}
	if _, err := svc.DeclareGroup(ctx, "nope", "U7"); incident.ErrorCode(err) != incident.ENOTFOUND {
		t.Errorf("declaring an unknown group: %v, want ENOTFOUND", err)
	}
}
