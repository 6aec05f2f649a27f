package statuspage

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
)

var t0 = time.Date(2026, 12, 6, 19, 0, 0, 0, time.UTC)

func update(status incident.PublicStatus, msg string, comps ...incident.ComponentImpact) incident.PublicUpdate {
	return incident.PublicUpdate{Title: "Checkout errors", Status: status, Message: msg, Components: comps, By: "U1", At: t0}
}

func published(updates ...incident.PublicUpdate) *incident.Incident {
	return &incident.Incident{ID: "0195a1b2-0000-7000-8000-000000000042", Number: 42, Public: incident.PublicPage{ID: "abc", Updates: updates}}
}

// deliver runs one pass, as the engine does, saving into d.
func deliver(t *testing.T, m *Mirror, inc *incident.Incident, d *incident.Delivery) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return m.Deliver(ctx, inc, nil, d, func() error { return nil })
}

func newMirror(f *fake) *Mirror {
	return New(Config{APIKey: f.key, PageID: f.page, APIURL: f.url()}, nil, clock.Real{})
}

// One Statuspage incident per Sitrep incident, created with the first
// update and patched with each later one, components set by ID and set
// back on the resolution; paced to one request a second, so the fake never
// has to refuse one.
func TestMirrorCreatesOnceThenUpdates(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	m := newMirror(f)
	inc := published(update(incident.PublicInvestigating, "We are investigating.", incident.ComponentImpact{Name: "Checkout API", Status: incident.MajorOutage}))
	d := &incident.Delivery{Integration: Name, IncidentID: inc.ID}
	if err := deliver(t, m, inc, d); err != nil {
		t.Fatal(err)
	}
	if len(f.incidents) != 1 || len(d.Refs) != 1 || d.Refs[0] != f.incidents[0]["id"] {
		t.Fatalf("after the first update: %d incidents, refs %v", len(f.incidents), d.Refs)
	}
	if got := f.componentStatus("Checkout API"); got != "major_outage" {
		t.Errorf("Checkout API is %s", got)
	}
	meta := f.incidents[0]["metadata"].(map[string]any)["sitrep"].(map[string]any)
	if meta["incident_id"] != inc.ID {
		t.Errorf("metadata %v", meta)
	}
	inc.Public.Updates = append(inc.Public.Updates,
		update(incident.PublicIdentified, "We found it.", incident.ComponentImpact{Name: "Database component", Status: incident.DegradedPerformance}),
		update(incident.PublicResolved, "This incident has been resolved."))
	if err := deliver(t, m, inc, d); err != nil {
		t.Fatal(err)
	}
	// Nothing new: no call at all.
	calls := len(f.calls)
	if err := deliver(t, m, inc, d); err != nil || len(f.calls) != calls {
		t.Errorf("a pass with nothing new made %d calls (%v)", len(f.calls)-calls, err)
	}
	if len(f.incidents) != 1 {
		t.Fatalf("%d Statuspage incidents, want 1", len(f.incidents))
	}
	ups := f.incidents[0]["incident_updates"].([]any)
	if len(ups) != 3 || ups[0].(map[string]any)["body"] != "This incident has been resolved." || f.incidents[0]["status"] != "resolved" {
		t.Errorf("updates %v, status %v", ups, f.incidents[0]["status"])
	}
	for _, c := range []string{"Checkout API", "Database component"} {
		if got := f.componentStatus(c); got != "operational" {
			t.Errorf("after the resolution %s is %s, want operational", c, got)
		}
	}
	if f.limited > 0 {
		t.Errorf("the fake refused %d calls for going faster than one a second", f.limited)
	}
	for _, c := range f.calls {
		if strings.Contains(c, f.key) {
			t.Errorf("the key is in a URL: %s", c)
		}
	}
}

// A crash after the create went out but before its ID was saved does not
// create a second incident: the next pass finds the first by its metadata.
// Likewise a PATCH that went through is not sent twice.
func TestMirrorNeverCreatesTwice(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	m := newMirror(f)
	inc := published(update(incident.PublicInvestigating, "We are investigating."))
	d := &incident.Delivery{Integration: Name, IncidentID: inc.ID}
	crash := errors.New("killed")
	var saved []byte
	save := func() error {
		if strings.Contains(string(d.State), `"incident_id"`) {
			return crash // the process dies before the ID is stored
		}
		saved = append([]byte(nil), d.State...)
		return nil
	}
	if err := m.Deliver(context.Background(), inc, nil, d, save); !errors.Is(err, crash) {
		t.Fatalf("Deliver = %v, want the crash", err)
	}
	d2 := &incident.Delivery{Integration: Name, IncidentID: inc.ID, State: saved}
	if err := deliver(t, m, inc, d2); err != nil {
		t.Fatal(err)
	}
	if len(f.incidents) != 1 || d2.Refs[0] != f.incidents[0]["id"] {
		t.Fatalf("%d incidents after the crash, refs %v", len(f.incidents), d2.Refs)
	}

	inc.Public.Updates = append(inc.Public.Updates, update(incident.PublicMonitoring, "A fix is out."))
	var beforePatch []byte
	save = func() error {
		if strings.Contains(string(d2.State), `"patching"`) {
			beforePatch = append([]byte(nil), d2.State...)
			return nil
		}
		return crash // dies after the PATCH, before recording it
	}
	if err := m.Deliver(context.Background(), inc, nil, d2, save); !errors.Is(err, crash) {
		t.Fatalf("Deliver = %v, want the crash", err)
	}
	d3 := &incident.Delivery{Integration: Name, IncidentID: inc.ID, State: beforePatch, Refs: d2.Refs}
	if err := deliver(t, m, inc, d3); err != nil {
		t.Fatal(err)
	}
	if ups := f.incidents[0]["incident_updates"].([]any); len(ups) != 2 {
		t.Errorf("%d updates on Statuspage, want 2 (the PATCH not repeated)", len(ups))
	}
}

// Rate limits (429 and 420) are waited out for as long as Retry-After
// says; 5xx are retried; a 4xx needs a person, and says what to fix
// without the key; private incidents and drills are never sent.
func TestMirrorFailures(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	m := newMirror(f)
	inc := published(update(incident.PublicInvestigating, "We are investigating."))
	for _, tc := range []struct {
		status int
		final  bool
		wait   time.Duration
		says   string
	}{
		{429, false, 2 * time.Second, ""},
		{420, false, 2 * time.Second, ""},
		{503, false, 0, ""},
		{422, true, 0, "refused the update (HTTP 422: refused with 422 by the test)"},
		{401, true, 0, "set STATUSPAGE_API_KEY"},
		{404, true, 0, "check STATUSPAGE_PAGE_ID"},
	} {
		f.fail(tc.status, 1)
		err := deliver(t, m, inc, &incident.Delivery{Integration: Name, IncidentID: inc.ID})
		got := m.Classify(err)
		if got.Final != tc.final || got.Wait != tc.wait || !strings.Contains(got.Problem, tc.says) {
			t.Errorf("HTTP %d: %+v (err %v)", tc.status, got, err)
		}
		if strings.Contains(got.Problem+err.Error(), f.key) {
			t.Errorf("HTTP %d: the key is in the problem or error", tc.status)
		}
	}
	if f := m.Classify(errors.New("connection refused")); f.Final {
		t.Errorf("a network error is final")
	}

	// A component the page does not have is named.
	bad := published(update(incident.PublicInvestigating, "x", incident.ComponentImpact{Name: "Billing", Status: incident.MajorOutage}))
	err := deliver(t, m, bad, &incident.Delivery{Integration: Name, IncidentID: bad.ID})
	if p := m.Classify(err); !p.Final || !strings.Contains(p.Problem, `no component named "Billing"`) {
		t.Errorf("unknown component: %+v", p)
	}

	// Never public.
	calls := len(f.calls)
	for _, flag := range []func(*incident.Incident){func(i *incident.Incident) { i.Private = true }, func(i *incident.Incident) { i.Drill = true }} {
		secret := published(update(incident.PublicInvestigating, "secret"))
		flag(secret)
		if err := deliver(t, m, secret, &incident.Delivery{Integration: Name, IncidentID: secret.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.calls) != calls {
		t.Errorf("a private incident or drill made %d calls", len(f.calls)-calls)
	}

	// A refusal is told to the incident's people, once per problem.
	var told []string
	m.cfg.Tell = func(_ context.Context, _ *incident.Incident, text string) { told = append(told, text) }
	m.ShowProblem(context.Background(), inc, incident.Delivery{Problem: "Atlassian Statuspage refused the key (HTTP 401: Could not authenticate)"})
	m.ShowProblem(context.Background(), inc, incident.Delivery{})
	if len(told) != 1 || !strings.Contains(told[0], "mirroring it to Atlassian Statuspage failed") {
		t.Errorf("told %q", told)
	}
}
