package incident_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// publicService is a service whose status page has two components, with
// or without approval.
func publicService(t *testing.T, approval bool) (*incident.Service, *clock) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/sitrep.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := incident.DefaultConfig()
	cfg.Public = incident.PublicConfig{
		Components: []incident.Component{{Name: "API", Group: "Platform", Services: []string{"api-gateway"}}, {Name: "Web app"}},
		Approval:   approval,
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}
	return incident.NewService(db, cfg, c.now), c
}

var investigating = incident.Publication{
	Title:      "  Elevated   errors on checkout ",
	Status:     incident.PublicInvestigating,
	Components: []incident.ComponentImpact{{Name: "API", Status: incident.MajorOutage}},
	Message:    "We are investigating elevated errors.\r\n",
}

func TestPublishRecordsTheUpdateAndATimelineEvent(t *testing.T) {
	ctx := context.Background()
	svc, clk := publicService(t, false)
	declare(t, svc, "Redis primary OOM")
	clk.add(time.Minute)
	inc, err := svc.Publish(ctx, 1, "U1", investigating)
	if err != nil {
		t.Fatal(err)
	}
	u, ok := inc.Public.Latest()
	if !ok || u.Title != "Elevated errors on checkout" || u.Message != "We are investigating elevated errors." || u.By != "U1" || !u.At.Equal(clk.now()) {
		t.Fatalf("published %+v", inc.Public)
	}
	if len(inc.Public.ID) != 12 || !inc.Public.PublicOpen() {
		t.Errorf("public ID %q, open %v: want 12 characters and open", inc.Public.ID, inc.Public.PublicOpen())
	}
	id := inc.Public.ID
	// Resolving publicly marks every named component operational again,
	// and keeps the page's ID.
	res := investigating
	res.Status, res.Message = incident.PublicResolved, "This incident has been resolved."
	inc, err = svc.Publish(ctx, 1, "U2", res)
	if err != nil {
		t.Fatal(err)
	}
	last, _ := inc.Public.Latest()
	if inc.Public.ID != id || inc.Public.PublicOpen() || last.Components[0].Status != incident.Operational {
		t.Errorf("after the public resolution: %+v", inc.Public)
	}
	_, evs, err := svc.Timeline(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		if e.Kind == incident.KindPublished {
			got = append(got, e.Describe(func(u string) string { return "@" + u })+" "+e.Data["components"])
		}
	}
	want := []string{
		"Published to the status page (investigating): We are investigating elevated errors. API=major_outage",
		"Published to the status page (resolved): This incident has been resolved. API=operational",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	pub, err := svc.Published(ctx, clk.now().Add(-time.Hour))
	if err != nil || len(pub) != 1 || pub[0].Page.ID != id {
		t.Errorf("Published = %+v, %v; want the one incident", pub, err)
	}
}

func TestPublishRefusesWhatMustNotBePublic(t *testing.T) {
	ctx := context.Background()
	svc, _ := publicService(t, false)
	if _, err := svc.Declare(ctx, incident.Declaration{Title: "Secret", Actor: "U1", Private: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Declare(ctx, incident.Declaration{Title: "Game day", Actor: "U1", Drill: true}); err != nil {
		t.Fatal(err)
	}
	declare(t, svc, "Real")
	bad := func(f func(*incident.Publication)) incident.Publication {
		p := investigating
		p.Components = append([]incident.ComponentImpact(nil), p.Components...)
		f(&p)
		return p
	}
	for _, tc := range []struct {
		name   string
		number int64
		p      incident.Publication
		code   string
		says   string
	}{
		{"private", 1, investigating, incident.EFORBIDDEN, "private"},
		{"drill", 2, investigating, incident.EFORBIDDEN, "drill"},
		{"no title", 3, bad(func(p *incident.Publication) { p.Title = "  " }), incident.EINVALID, "title customers will read"},
		{"no message", 3, bad(func(p *incident.Publication) { p.Message = "\n" }), incident.EINVALID, "public message is empty"},
		{"unknown status", 3, bad(func(p *incident.Publication) { p.Status = "fixed" }), incident.EINVALID, "investigating, identified, monitoring or resolved"},
		{"unknown component", 3, bad(func(p *incident.Publication) { p.Components[0].Name = "Database" }), incident.EINVALID, "The components are: API, Web app"},
		{"unknown component status", 3, bad(func(p *incident.Publication) { p.Components[0].Status = "down" }), incident.EINVALID, "major_outage"},
		{"component twice", 3, bad(func(p *incident.Publication) {
			p.Components = append(p.Components, incident.ComponentImpact{Name: "API", Status: incident.Operational})
		}), incident.EINVALID, "listed twice"},
		{"resolved before anything was published", 3, bad(func(p *incident.Publication) { p.Status = incident.PublicResolved }), incident.EINVALID, "nothing to resolve publicly"},
		{"too long", 3, bad(func(p *incident.Publication) { p.Message = strings.Repeat("x", incident.MaxText+1) }), incident.EINVALID, "keep it to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Publish(ctx, tc.number, "U1", tc.p)
			if incident.ErrorCode(err) != tc.code || !strings.Contains(incident.ErrorMessage(err), tc.says) {
				t.Fatalf("Publish = %v; want %s saying %q", err, tc.code, tc.says)
			}
			inc, err := svc.Get(ctx, tc.number)
			if err != nil {
				t.Fatal(err)
			}
			if inc.Public.ID != "" || inc.Public.Draft != nil || inc.Version != 1 {
				t.Errorf("a refused publish changed the incident: %+v (version %d)", inc.Public, inc.Version)
			}
		})
	}
}

func TestApprovalNeedsASecondPersonWhoMayApprove(t *testing.T) {
	ctx := context.Background()
	svc, clk := publicService(t, true)
	declare(t, svc, "Checkout failing") // U1 commands
	if _, err := svc.AssignRole(ctx, 1, "U1", "comms", "U2"); err != nil {
		t.Fatal(err)
	}
	// Without a draft there is nothing to approve.
	if _, err := svc.ApproveDraft(ctx, 1, "U2", time.Time{}); incident.ErrorCode(err) != incident.ECONFLICT {
		t.Fatalf("approving nothing = %v, want a conflict", err)
	}
	inc, err := svc.Publish(ctx, 1, "U1", investigating)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Public.Published() || inc.Public.Draft == nil || inc.Public.Draft.By != "U1" {
		t.Fatalf("with approval on, a publish is a draft: %+v", inc.Public)
	}
	for _, who := range []string{"U1", "U3"} { // its author; someone without the role
		if _, err := svc.ApproveDraft(ctx, 1, who, time.Time{}); incident.ErrorCode(err) != incident.EFORBIDDEN {
			t.Errorf("%s approving = %v, want forbidden", who, err)
		}
		if err := incident.MayApprove(inc, who); incident.ErrorCode(err) != incident.EFORBIDDEN {
			t.Errorf("MayApprove(%s) = %v, want forbidden", who, err)
		}
	}
	clk.add(5 * time.Minute)
	if _, err := svc.ApproveDraft(ctx, 1, "U2", inc.Public.Draft.At.Add(-time.Second)); incident.ErrorCode(err) != incident.ECONFLICT {
		t.Errorf("approving a draft that was replaced = %v, want a conflict", err)
	}
	inc, err = svc.ApproveDraft(ctx, 1, "U2", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := inc.Public.Latest()
	if inc.Public.Draft != nil || u.By != "U1" || u.ApprovedBy != "U2" || !u.At.Equal(clk.now()) {
		t.Fatalf("approved: %+v", inc.Public)
	}
	// comms drafts; the commander approves.
	next := investigating
	next.Status = incident.PublicIdentified
	if _, err := svc.Publish(ctx, 1, "U2", next); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ApproveDraft(ctx, 1, "U2", time.Time{}); incident.ErrorCode(err) != incident.EFORBIDDEN {
		t.Errorf("comms approving its own draft = %v, want forbidden", err)
	}
	if inc, err = svc.ApproveDraft(ctx, 1, "U1", time.Time{}); err != nil || len(inc.Public.Updates) != 2 {
		t.Fatalf("commander approving comms's draft = %+v, %v", inc.Public, err)
	}
	_, evs, _ := svc.Timeline(ctx, 1)
	var kinds []string
	for _, e := range evs {
		if e.Kind == incident.KindPublished || e.Kind == incident.KindPublicDraft {
			kinds = append(kinds, string(e.Kind)+" by "+e.Actor)
		}
	}
	if got, want := strings.Join(kinds, ", "), "public_draft by U1, published by U2, public_draft by U2, published by U1"; got != want {
		t.Errorf("timeline: %s\nwant: %s", got, want)
	}
}

func TestComponentsValidateAndMapFromServices(t *testing.T) {
	cfg := incident.DefaultConfig()
	cfg.Public.Components = []incident.Component{{Name: "API", Services: []string{"api-gateway", "auth"}}, {Name: "API"}}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("Validate = %v, want the repeated component named", err)
	}
	cfg.Public.Components[1].Name = " Web "
	if err := cfg.Validate(); err == nil {
		t.Errorf("Validate accepted a name with spaces around it")
	}
	cfg.Public.Components[1].Name = "Web"
	cfg.Public.Components[1].Services = []string{"frontend"}
	if got := cfg.Public.ComponentsFor([]string{"Auth", "frontend", "db"}); strings.Join(got, ",") != "API,Web" {
		t.Errorf("ComponentsFor = %v, want API,Web", got)
	}
}

func TestCloseWaitsForThePublicResolution(t *testing.T) {
	ctx := context.Background()
	svc, _ := publicService(t, false)
	declare(t, svc, "Checkout failing")
	if _, err := svc.Publish(ctx, 1, "U1", investigating); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Resolve(ctx, 1, "U1", "Rolled back"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RecordPostmortem(ctx, 1, "U1", "https://example.com/pm"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(ctx, 1, "U1"); incident.ErrorCode(err) != incident.ECONFLICT || !strings.Contains(incident.ErrorMessage(err), "still shows incident #1 as ongoing") {
		t.Fatalf("Close = %v, want it to ask for the public resolution", err)
	}
	res := investigating
	res.Status, res.Message = incident.PublicResolved, "This incident has been resolved."
	if _, err := svc.Publish(ctx, 1, "U1", res); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(ctx, 1, "U1"); err != nil {
		t.Fatalf("Close after the public resolution = %v", err)
	}
}
