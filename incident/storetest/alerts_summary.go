package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// testAlertSummary: the counts of an incident's alerts by status, and the
// few the summary shows: firing first, the latest to change first, cut at
// the limit.
func (s suite) testAlertSummary(t *testing.T) {
	st := s.open(t)
	svc, clk := alertService(st)
	var rules incident.AlertRules
	for i := range 6 {
		receive(t, svc, rules, routed(fmt.Sprint("a", i), "g", incident.ActionDeclare, incident.AlertFiring))
		clk.add(time.Second)
	}
	// a1 and a4 resolve; a4 last.
	receive(t, svc, rules, routed("a1", "g", incident.ActionDeclare, incident.AlertResolved))
	clk.add(time.Second)
	receive(t, svc, rules, routed("a4", "g", incident.ActionDeclare, incident.AlertResolved))
	inc := allIncidents(t, st)[0]
	firing, resolved, shown, err := st.AlertSummary(context.Background(), inc.ID, 5)
	if err != nil {
		t.Fatal(err)
	}
	if firing != 4 || resolved != 2 {
		t.Errorf("counts %d firing, %d resolved; want 4 and 2", firing, resolved)
	}
	var keys []string
	for _, a := range shown {
		keys = append(keys, a.Key)
	}
	if want := "[a5 a3 a2 a0 a4]"; fmt.Sprint(keys) != want {
		t.Errorf("shown %v, want %s: firing newest first, then the latest resolved, five at most", keys, want)
	}
	if len(shown) > 0 && shown[0].Labels["instance"] != "a5" {
		t.Errorf("the alerts shown lack their labels: %+v", shown[0])
	}
	if f, r, none, err := st.AlertSummary(context.Background(), "no-such-incident", 5); err != nil || f+r != 0 || len(none) != 0 {
		t.Errorf("an incident without alerts: %d, %d, %v, %v", f, r, none, err)
	}
}
