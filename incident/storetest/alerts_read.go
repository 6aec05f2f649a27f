package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// testAlertsReadTogether: AlertTx.Alerts returns exactly the recorded
// alerts among the keys asked for, whatever their source and however odd
// their keys, as Alert would return each; and it sees the transaction's
// own writes.
func (s suite) testAlertsReadTogether(t *testing.T) {
	st := s.open(t)
	ctx := context.Background()
	// Keys a list could be mangled by: quotes, brackets, commas, a
	// backslash, non-ASCII, and one key that another source uses too.
	odd := []string{`a"1`, `a],["x`, `a,2`, `a\3`, "ä 4", "shared"}
	stored := map[incident.AlertKey]bool{}
	err := st.RecordAlerts(ctx, func(tx incident.AlertTx) error {
		for i, k := range odd {
			a := routed(k, "g", incident.ActionTriage, incident.AlertFiring)
			sa := &incident.StoredAlert{Alert: a.Alert, Route: "r", Group: "g", Action: a.Action,
				ReceivedAt: t0.Add(time.Duration(i) * time.Second), UpdatedAt: t0}
			if err := tx.PutAlert(sa); err != nil {
				return err
			}
			stored[incident.AlertKey{Source: "alertmanager", Key: k}] = true
		}
		a := routed("shared", "g2", incident.ActionTriage, incident.AlertResolved)
		a.Source = "sentry"
		if err := tx.PutAlert(&incident.StoredAlert{Alert: a.Alert, Group: "g2", Action: a.Action, ReceivedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
		stored[incident.AlertKey{Source: "sentry", Key: "shared"}] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	asked := []incident.AlertKey{
		{Source: "sentry", Key: "shared"},
		{Source: "alertmanager", Key: "missing"},
		{Source: "sentry", Key: `a"1`}, // recorded under alertmanager only
		{Source: "zendesk", Key: "nothing"},
	}
	for _, k := range odd {
		asked = append(asked, incident.AlertKey{Source: "alertmanager", Key: k})
	}
	err = st.RecordAlerts(ctx, func(tx incident.AlertTx) error {
		got, err := tx.Alerts(asked)
		if err != nil {
			return err
		}
		seen := map[incident.AlertKey]bool{}
		for _, a := range got {
			k := incident.AlertKey{Source: a.Source, Key: a.Key}
			if !stored[k] || seen[k] {
				t.Errorf("Alerts returned %v, which was not asked for, not recorded, or twice", k)
			}
			seen[k] = true
			one, err := tx.Alert(a.Source, a.Key)
			if err != nil {
				return err
			}
			if one == nil || one.Status != a.Status || one.Group != a.Group || !one.ReceivedAt.Equal(a.ReceivedAt) ||
				one.Title != a.Title || one.Labels["instance"] != a.Labels["instance"] {
				t.Errorf("Alerts gave %v as %+v, Alert as %+v", k, a, one)
			}
		}
		if len(seen) != len(stored) {
			t.Errorf("Alerts returned %d of the %d recorded alerts asked for", len(seen), len(stored))
		}
		if got, err := tx.Alerts(nil); err != nil || len(got) != 0 {
			t.Errorf("Alerts(nil) = %v, %v; want none", got, err)
		}
		// The transaction's own write is read back.
		a := routed("new", "g", incident.ActionTriage, incident.AlertFiring)
		if err := tx.PutAlert(&incident.StoredAlert{Alert: a.Alert, Group: "g", Action: a.Action, ReceivedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
		got, err = tx.Alerts([]incident.AlertKey{{Source: "alertmanager", Key: "new"}, {Source: "alertmanager", Key: "missing"}})
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].Key != "new" {
			t.Errorf("Alerts after a write in the transaction = %+v, want the new alert alone", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testAlertsRepeatedInBatch: an alert that fires and resolves in one
// notification is read, the second time, as the batch left it: it stays
// attached to the incident its firing declared, and its resolving goes on
// that incident's timeline. A batch reads its alerts' previous state up
// front (readAhead), and this is what must not go stale.
func (s suite) testAlertsRepeatedInBatch(t *testing.T) {
	st := s.open(t)
	svc, _ := alertService(st)
	out := receive(t, svc, incident.AlertRules{},
		routed("a1", "g", incident.ActionDeclare, incident.AlertFiring),
		routed("a2", "g", incident.ActionDeclare, incident.AlertFiring),
		routed("a2", "g", incident.ActionDeclare, incident.AlertFiring), // a repeat: nothing new
		routed("a1", "g", incident.ActionDeclare, incident.AlertResolved))
	if len(out.Declared) != 1 || out.Recorded != 3 {
		t.Fatalf("batch: %+v, want one incident declared and 3 changes recorded", out)
	}
	inc := allIncidents(t, st)[0]
	alerts, err := st.IncidentAlerts(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, a := range alerts {
		keys = append(keys, a.Key+":"+string(a.Status))
	}
	slices.Sort(keys)
	if want := "a1:resolved a2:firing"; strings.Join(keys, " ") != want {
		t.Errorf("the incident's alerts are %v, want %s", keys, want)
	}
	if k := kinds(events(t, st, inc.ID)); k[incident.KindAlert] != 3 {
		t.Errorf("timeline's alert events: %v, want 3 (two firing, one resolved)", k)
	}
	// Received again, the same four change nothing.
	out = receive(t, svc, incident.AlertRules{},
		routed("a1", "g", incident.ActionDeclare, incident.AlertResolved),
		routed("a2", "g", incident.ActionDeclare, incident.AlertFiring))
	if out.Recorded != 0 {
		t.Errorf("a resend of the batch's outcome recorded %d changes", out.Recorded)
	}
}
