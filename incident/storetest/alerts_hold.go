package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// held is a firing alert of group g routed to declare with hold.
func held(key, group string, h incident.AlertHold, status incident.AlertStatus) incident.RoutedAlert {
	a := routed(key, group, incident.ActionDeclare, status)
	a.Hold = h
	return a
}

func group(t *testing.T, st incident.Store, svc *incident.Service, key string) *incident.AlertGroup {
	t.Helper()
	var g *incident.AlertGroup
	err := st.RecordAlerts(context.Background(), func(tx incident.AlertTx) error {
		var err error
		g, err = tx.Group(key)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if g == nil {
		t.Fatalf("group %q not recorded", key)
	}
	return g
}

func declareHeld(t *testing.T, svc *incident.Service) (incident.AlertOutcome, time.Time) {
	t.Helper()
	out, next, err := svc.DeclareHeld(context.Background(), incident.AlertRules{})
	if err != nil {
		t.Fatalf("DeclareHeld: %v", err)
	}
	return out, next
}

// testAlertsHoldMinAlerts: a group needing 3 alerts within 5m waits in
// triage until the third, then declares with all three attached; alerts
// that began firing before the window do not count.
func (s suite) testAlertsHoldMinAlerts(t *testing.T) {
	st := s.open(t)
	svc, clk := alertService(st)
	h := incident.AlertHold{MinAlerts: 3, Window: 5 * time.Minute}
	var rules incident.AlertRules
	receive(t, svc, rules, held("a1", "g", h, incident.AlertFiring))
	clk.add(6 * time.Minute)
	out := receive(t, svc, rules, held("a2", "g", h, incident.AlertFiring))
	clk.add(time.Minute)
	out2 := receive(t, svc, rules, held("a3", "g", h, incident.AlertFiring))
	if n := len(allIncidents(t, st)); n != 0 || len(out.Declared)+len(out2.Declared) != 0 {
		t.Fatalf("a1 began firing 7m before a3, outside the 5m window: %d incidents, want none yet", n)
	}
	g := group(t, st, svc, "g")
	if g.State != incident.GroupTriage || !g.Waiting || g.Gathered || g.Hold != h {
		t.Fatalf("waiting group = %+v, want in triage, waiting, not gathered, with its hold", g)
	}
	// The group's wait shows on its triage message.
	if g.Version <= g.TriageShown {
		t.Errorf("group version %d, shown %d: its triage message is not behind", g.Version, g.TriageShown)
	}
	clk.add(time.Minute)
	out = receive(t, svc, rules, held("a4", "g", h, incident.AlertFiring))
	if len(out.Declared) != 1 {
		t.Fatalf("third alert within the window declared %v, want one incident", out.Declared)
	}
	inc := allIncidents(t, st)[0]
	alerts, err := st.IncidentAlerts(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 4 {
		t.Errorf("incident has %d alerts, want all 4 the group gathered", len(alerts))
	}
	if k := kinds(events(t, st, inc.ID)); k[incident.KindAlert] != 4 || k[incident.KindDeclared] != 1 {
		t.Errorf("timeline %v, want the declaration and 4 alerts", k)
	}
	if g := group(t, st, svc, "g"); g.Waiting || g.State != incident.GroupIncident || g.IncidentNumber != inc.Number {
		t.Errorf("group after declaring = %+v, want it no longer waiting, with incident %d", g, inc.Number)
	}
	// Later alerts attach as usual.
	out = receive(t, svc, rules, held("a5", "g", h, incident.AlertFiring))
	if len(out.Declared) != 0 || out.Attached != 1 {
		t.Errorf("alert after declaring: %+v, want it attached", out)
	}
}

// testAlertsHoldFor: a group that must fire for 10m declares when the wait
// ends, through DeclareHeld; one that stopped firing meanwhile does not,
// and waits afresh when it fires again.
func (s suite) testAlertsHoldFor(t *testing.T) {
	st := s.open(t)
	svc, clk := alertService(st)
	h := incident.AlertHold{For: 10 * time.Minute}
	var rules incident.AlertRules
	start := clk.now()
	receive(t, svc, rules, held("a1", "flaps", h, incident.AlertFiring), held("b1", "stays", h, incident.AlertFiring))
	out, next := declareHeld(t, svc)
	if len(out.Declared) != 0 || !next.Equal(start.Add(10*time.Minute)) {
		t.Fatalf("right away: declared %v, next %v; want nothing, next wait ending at %v", out.Declared, next, start.Add(10*time.Minute))
	}
	clk.add(5 * time.Minute)
	receive(t, svc, rules, held("a1", "flaps", h, incident.AlertResolved))
	if g := group(t, st, svc, "flaps"); !g.DeclareAt.IsZero() || !g.Waiting {
		t.Fatalf("group that stopped firing = %+v, want still waiting with no end to its wait", g)
	}
	receive(t, svc, rules, held("b2", "stays", h, incident.AlertFiring))
	clk.add(5 * time.Minute)
	out, next = declareHeld(t, svc)
	if len(out.Declared) != 1 || !next.IsZero() {
		t.Fatalf("after 10m: declared %v, next %v; want the group that kept firing declared, nothing left waiting", out.Declared, next)
	}
	inc := allIncidents(t, st)[0]
	if inc.Source != "alertmanager" || inc.DeclaredBy != "" {
		t.Errorf("declared by %q for %q, want Sitrep for the source", inc.DeclaredBy, inc.Source)
	}
	if alerts, err := st.IncidentAlerts(context.Background(), inc.ID); err != nil || len(alerts) != 2 {
		t.Errorf("incident alerts = %d (%v), want b1 and b2", len(alerts), err)
	}
	if out, _ := declareHeld(t, svc); len(out.Declared) != 0 {
		t.Errorf("a second DeclareHeld declared %v again", out.Declared)
	}
	// The group that stopped firing waits 10m afresh from when it fires again.
	clk.add(2 * time.Minute)
	receive(t, svc, rules, held("a1", "flaps", h, incident.AlertFiring))
	if g := group(t, st, svc, "flaps"); !g.DeclareAt.Equal(clk.now().Add(10 * time.Minute)) {
		t.Errorf("fired again: wait ends %v, want %v", g.DeclareAt, clk.now().Add(10*time.Minute))
	}
	// The cap holds for groups declared when their wait ends.
	for _, k := range []string{"c1", "c2", "c3", "c4", "c5"} {
		receive(t, svc, rules, held(k, "cap-"+k, h, incident.AlertFiring))
	}
	clk.add(10 * time.Minute)
	out, _ = declareHeld(t, svc)
	if len(out.Declared) != incident.DefaultMaxDeclaresPerMinute || len(out.Capped) != 1 {
		t.Errorf("6 waits ending at once: declared %d, capped %d; want %d declared and 1 capped", len(out.Declared), len(out.Capped), incident.DefaultMaxDeclaresPerMinute)
	}
	if _, next := declareHeld(t, svc); !next.IsZero() {
		t.Errorf("a capped group is still waiting (next %v); it should wait in triage for people", next)
	}
}

// testAlertsHoldDecided: people deciding on a waiting group end its wait.
func (s suite) testAlertsHoldDecided(t *testing.T) {
	st := s.open(t)
	svc, clk := alertService(st)
	h := incident.AlertHold{For: time.Minute, MinAlerts: 2}
	var rules incident.AlertRules
	receive(t, svc, rules, held("a1", "g", h, incident.AlertFiring), held("a2", "g", h, incident.AlertFiring))
	if g := group(t, st, svc, "g"); !g.Gathered || !g.Waiting {
		t.Fatalf("two alerts of a group needing two: %+v, want gathered and waiting for its minute", g)
	}
	if err := svc.DismissGroup(context.Background(), "g", "U1"); err != nil {
		t.Fatal(err)
	}
	clk.add(2 * time.Minute)
	if out, next := declareHeld(t, svc); len(out.Declared) != 0 || !next.IsZero() {
		t.Errorf("dismissed while waiting: DeclareHeld declared %v (next %v), want nothing", out.Declared, next)
	}
	if n := len(allIncidents(t, st)); n != 0 {
		t.Errorf("%d incidents after dismissing, want none", n)
	}
}

// testRecordedAlerts: every alert comes back, first received first, with
// the sender's own grouping as well as the routed group.
func (s suite) testRecordedAlerts(t *testing.T) {
	st := s.open(t)
	svc, clk := alertService(st)
	a := routed("a1", "g1", incident.ActionTriage, incident.AlertFiring)
	a.Alert.Group = `{}:{alertname="HighErrorRate"}`
	receive(t, svc, incident.AlertRules{}, a)
	clk.add(time.Second)
	receive(t, svc, incident.AlertRules{}, routed("a0", "g2", incident.ActionIgnore, incident.AlertFiring))
	receive(t, svc, incident.AlertRules{}, routed("a0", "g2", incident.ActionIgnore, incident.AlertResolved))
	got, err := st.RecordedAlerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Key != "a1" || got[1].Key != "a0" {
		t.Fatalf("RecordedAlerts = %+v, want a1 then a0", got)
	}
	if got[0].Alert.Group != a.Alert.Group || got[0].Group != "g1" {
		t.Errorf("a1's groups: sender %q, routed %q; want %q and g1", got[0].Alert.Group, got[0].Group, a.Alert.Group)
	}
	if got[1].Status != incident.AlertResolved || !got[1].UpdatedAt.After(got[1].ReceivedAt.Add(-time.Nanosecond)) {
		t.Errorf("a0 = %+v, want resolved", got[1])
	}
}
