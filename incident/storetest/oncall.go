package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/oncall"
)

// pagingService is a Service over st with one schedule (U0BOB then
// U0CAROL, who is provisional with U0DAVE as backup, handing over on
// Mondays at midnight UTC; t0 is a Monday) and a default policy that
// pages the schedule, then its backup after 5 minutes.
func pagingService(t *testing.T, st incident.Store) (*incident.Service, *alertClock) {
	t.Helper()
	plan, err := oncall.Config{
		Schedules: []oncall.ScheduleConfig{{Name: "primary", TimeZone: "UTC", Start: "2026-05-04", Handoff: "monday 00:00",
			Rotation: []string{"U0BOB", "U0CAROL"}, Provisional: []string{"U0CAROL"}, Backup: []string{"U0DAVE"}}},
		Policies: []oncall.PolicyConfig{{Name: "default", Steps: []oncall.StepConfig{
			{Notify: "schedule:primary", After: "5m"}, {Notify: "backup:primary", After: "10m"}}}},
	}.Compile(incident.DefaultConfig().SeverityNames())
	if err != nil {
		t.Fatal(err)
	}
	svc, c := alertService(st)
	svc.UsePaging(plan)
	return svc, c
}

func (s suite) testOverrides(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	svc, c := pagingService(t, st)
	o, err := svc.SetOverride(ctx, "U0BOB", "primary", "U0ERIN", 8*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if o.ID == 0 || o.SetBy != "U0BOB" || !o.Start.Equal(t0) || !o.End.Equal(t0.Add(8*time.Hour)) {
		t.Errorf("override as stored: %+v", o)
	}
	got, err := st.Overrides(ctx, t0)
	if err != nil || len(got) != 1 || got[0] != o {
		t.Fatalf("Overrides = %+v, %v; want [%+v]", got, err, o)
	}
	now, err := svc.OnCall(ctx, "primary")
	if err != nil || len(now) != 1 || now[0].Now.User != "U0ERIN" || now[0].Next.User != "U0BOB" || !now[0].Now.End.Equal(o.End) {
		t.Fatalf("OnCall = %+v, %v", now, err)
	}
	// An override that has ended is no longer read.
	if got, err := st.Overrides(ctx, o.End); err != nil || len(got) != 0 {
		t.Errorf("Overrides after its end = %+v, %v", got, err)
	}
	c.add(9 * time.Hour)
	if now, _ := svc.OnCall(ctx, ""); len(now) != 1 || now[0].Now.User != "U0BOB" {
		t.Errorf("after the override: %+v", now)
	}
	for _, tt := range []struct {
		name, schedule, user string
		d                    time.Duration
		code                 string
	}{
		{"negative", "primary", "U0ERIN", -time.Hour, incident.EINVALID},
		{"zero", "primary", "U0ERIN", 0, incident.EINVALID},
		{"absurd", "primary", "U0ERIN", 400 * 24 * time.Hour, incident.EINVALID},
		{"unknown schedule", "secondary", "U0ERIN", time.Hour, incident.ENOTFOUND},
		{"not a person", "primary", "erin", time.Hour, incident.EINVALID},
	} {
		if _, err := svc.SetOverride(ctx, "U0BOB", tt.schedule, tt.user, tt.d); incident.ErrorCode(err) != tt.code {
			t.Errorf("%s: got %v, want %s", tt.name, err, tt.code)
		}
	}
	if got, _ := st.Overrides(ctx, t0); len(got) != 1 {
		t.Errorf("refused overrides were stored: %+v", got)
	}
}

// sendDue runs the escalator's pass once, as bot's pager does.
func sendDue(t *testing.T, svc *incident.Service, now time.Time) int {
	t.Helper()
	due, _, err := svc.DuePages(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	for _, n := range due {
		k, err := svc.SendPageSteps(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		sent += k
	}
	return sent
}

func pageEvents(t *testing.T, svc *incident.Service, number int64) []incident.Event {
	t.Helper()
	_, evs, err := svc.Timeline(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	var out []incident.Event
	for _, e := range evs {
		switch e.Kind {
		case incident.KindPage, incident.KindPageAck, incident.KindPageCancelled, incident.KindPageExhausted, incident.KindPagerDuty:
			out = append(out, e)
		}
	}
	return out
}

func (s suite) testPaging(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	svc, c := pagingService(t, st)
	minor, err := svc.Declare(ctx, incident.Declaration{Title: "Slow search", Severity: "sev2", Actor: "U0ANN"})
	if err != nil {
		t.Fatal(err)
	}
	if len(minor.Pages) != 0 {
		t.Fatalf("a sev2 paged: %+v", minor.Pages)
	}
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout down", Severity: "sev1", Actor: "U0ANN"})
	if err != nil {
		t.Fatal(err)
	}
	if len(inc.Pages) != 1 || inc.Pages[0].Policy != "default" || !inc.NextPageAt.Equal(t0) {
		t.Fatalf("declared at page_at: pages %+v, next %v", inc.Pages, inc.NextPageAt)
	}
	due, next, err := st.DuePages(ctx, t0)
	if err != nil || len(due) != 1 || due[0] != inc.Number || !next.IsZero() {
		t.Fatalf("DuePages = %v, %v, %v", due, next, err)
	}
	if n := sendDue(t, svc, t0); n != 1 {
		t.Fatalf("first pass sent %d steps, want 1", n)
	}
	// Nothing is due again until the step's wait is over.
	if n := sendDue(t, svc, t0); n != 0 {
		t.Fatalf("second pass sent %d", n)
	}
	due, next, _ = st.DuePages(ctx, t0)
	if len(due) != 0 || !next.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("after the first step: due %v, next %v", due, next)
	}
	evs := pageEvents(t, svc, inc.Number)
	if len(evs) != 1 || evs[0].Data["users"] != "U0BOB" || evs[0].Data["step"] != "1" || evs[0].Data["late"] != "" {
		t.Fatalf("first step: %+v", evs)
	}
	// Nobody acknowledges: the backup is paged.
	c.add(5 * time.Minute)
	if n := sendDue(t, svc, c.now()); n != 1 {
		t.Fatalf("escalation sent %d", n)
	}
	evs = pageEvents(t, svc, inc.Number)
	if len(evs) != 2 || evs[1].Data["users"] != "U0DAVE" || evs[1].Data["escalated"] != "true" {
		t.Fatalf("second step: %+v", evs)
	}
	// Someone the page was not for cannot acknowledge it.
	if _, err := svc.AcknowledgePage(ctx, inc.Number, 1, "U0MALLORY"); incident.ErrorCode(err) != incident.EFORBIDDEN {
		t.Fatalf("acknowledged by a stranger: %v", err)
	}
	c.add(time.Minute)
	acked, err := svc.AcknowledgePage(ctx, inc.Number, 1, "U0DAVE")
	if err != nil {
		t.Fatal(err)
	}
	if p := acked.Pages[0]; p.State != incident.PageAcknowledged || p.AckBy != "U0DAVE" || !acked.NextPageAt.IsZero() {
		t.Fatalf("acknowledged page: %+v, next %v", p, acked.NextPageAt)
	}
	if tta, ok := incident.TimeToAcknowledge(acked); !ok || tta != 6*time.Minute {
		t.Errorf("time to acknowledge = %v, %v; want 6m", tta, ok)
	}
	if _, err := svc.AcknowledgePage(ctx, inc.Number, 1, "U0BOB"); incident.ErrorCode(err) != incident.ECONFLICT {
		t.Fatalf("acknowledged twice: %v", err)
	}
	c.add(time.Hour)
	if n := sendDue(t, svc, c.now()); n != 0 {
		t.Fatalf("an acknowledged page escalated: %d", n)
	}
	got, err := st.Get(ctx, inc.Number)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Pages) != 1 || got.Pages[0].State != incident.PageAcknowledged || got.Pages[0].Notified[1] != "U0DAVE" {
		t.Errorf("pages as read back: %+v", got.Pages)
	}

	// A page by hand, then resolving, which cancels it.
	if _, err := svc.PageBy(ctx, inc.Number, "U0ANN", incident.PageRequest{Target: "user:U0ZED", Message: "need the DB expert"}); err != nil {
		t.Fatal(err)
	}
	if n := sendDue(t, svc, c.now()); n != 1 {
		t.Fatalf("page by hand sent %d", n)
	}
	if _, err := svc.Resolve(ctx, inc.Number, "U0ANN", "fixed"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AcknowledgePage(ctx, inc.Number, 2, "U0ZED"); incident.ErrorCode(err) != incident.ECONFLICT {
		t.Fatalf("acknowledged a cancelled page: %v", err)
	}
	evs = pageEvents(t, svc, inc.Number)
	if last := evs[len(evs)-1]; last.Kind != incident.KindPageCancelled || last.Data["pages"] != "2" {
		t.Errorf("resolve did not cancel the page: %+v", last)
	}
}

// testPagingLate checks that a step that fell due while Sitrep was down is
// sent once, marked late, and found by a second handle on the store as a
// restarted process would have.
func (s suite) testPagingLate(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	svc, c := pagingService(t, st)
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout down", Severity: "sev0", Actor: "U0ANN"})
	if err != nil {
		t.Fatal(err)
	}
	sendDue(t, svc, t0)
	c.add(time.Hour) // Sitrep was down for an hour
	// A restarted process finds the step due from what is stored.
	other := st
	if s.Reopen != nil {
		other = s.Reopen(t, st)
	}
	due, _, err := other.DuePages(ctx, c.now())
	if err != nil || len(due) != 1 || due[0] != inc.Number {
		t.Fatalf("DuePages on a second handle = %v, %v", due, err)
	}
	svc2, c2 := pagingService(t, other)
	c2.add(time.Hour)
	if sent := sendDue(t, svc2, c2.now()); sent != 1 {
		t.Fatalf("late pass sent %d", sent)
	}
	if sent := sendDue(t, svc, c.now()); sent != 0 {
		t.Fatalf("the step was sent twice: %d", sent)
	}
	evs := pageEvents(t, svc, inc.Number)
	if len(evs) != 2 || evs[1].Data["late"] != "true" || evs[1].Data["users"] != "U0DAVE" {
		t.Fatalf("late step: %+v", evs)
	}
	// The next step waits its whole time from now, then the policy runs out.
	got, _ := st.Get(ctx, inc.Number)
	if !got.NextPageAt.Equal(c.now().Add(10 * time.Minute)) {
		t.Errorf("next step due %v, want %v", got.NextPageAt, c.now().Add(10*time.Minute))
	}
	c.add(10 * time.Minute)
	sendDue(t, svc, c.now())
	evs = pageEvents(t, svc, inc.Number)
	if last := evs[len(evs)-1]; last.Kind != incident.KindPageExhausted || last.Data["commander"] != "U0ANN" {
		t.Errorf("policy run out: %+v", last)
	}
	if due, next, _ := st.DuePages(ctx, c.now().Add(time.Hour)); len(due) != 0 || !next.IsZero() {
		t.Errorf("an exhausted page is still due: %v %v", due, next)
	}
}

func (s suite) testPagerDutyAck(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	svc, c := pagingService(t, st)
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout down", Severity: "sev1", Actor: "U0ANN"})
	if err != nil {
		t.Fatal(err)
	}
	sendDue(t, svc, t0)
	c.add(2 * time.Minute)
	st1 := incident.PagerDutyStatus{Status: "acknowledged", By: "Bob Example", Number: "42", Key: "01ABC"}
	got, err := svc.RecordPagerDuty(ctx, inc.Number, st1)
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Pages[0]; p.State != incident.PageAcknowledged || p.AckVia != "pagerduty" || p.AckBy != "Bob Example" {
		t.Fatalf("PagerDuty ack: %+v", p)
	}
	// The same webhook again changes nothing.
	if _, err := svc.RecordPagerDuty(ctx, inc.Number, st1); incident.ErrorCode(err) != incident.ECONFLICT {
		t.Fatalf("repeated webhook: %v", err)
	}
	c.add(time.Hour)
	if n := sendDue(t, svc, c.now()); n != 0 {
		t.Errorf("escalated after a PagerDuty ack: %d", n)
	}
	if _, err := svc.AcknowledgePage(ctx, inc.Number, 1, "U0BOB"); incident.ErrorCode(err) != incident.ECONFLICT || !strings.Contains(err.Error(), "in PagerDuty by Bob Example") {
		t.Errorf("ack after PagerDuty's: %v", err)
	}
}

// testPagingStarts checks what starts a page besides a declaration at
// page_at: an alert route's page, and raising the severity to page_at;
// and that a drill pages nobody by itself.
func (s suite) testPagingStarts(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	svc, _ := pagingService(t, st)
	a := routed("k1", "g1", incident.ActionDeclare, incident.AlertFiring)
	a.Severity, a.Page = "sev3", "default"
	out := receive(t, svc, incident.AlertRules{MaxDeclaresPerMinute: 5, ReopenWithin: time.Hour}, a)
	if len(out.Declared) != 1 {
		t.Fatalf("declared %v", out.Declared)
	}
	inc, _ := st.Get(ctx, out.Declared[0])
	if len(inc.Pages) != 1 || inc.Pages[0].Policy != "default" || inc.Pages[0].Reason != "route:r" {
		t.Fatalf("an alert route's page: %+v", inc.Pages)
	}
	minor, err := svc.Declare(ctx, incident.Declaration{Title: "Slow", Severity: "sev2", Actor: "U0ANN"})
	if err != nil {
		t.Fatal(err)
	}
	raised, err := svc.SetSeverity(ctx, minor.Number, "U0ANN", "sev1")
	if err != nil {
		t.Fatal(err)
	}
	if len(raised.Pages) != 1 || raised.Pages[0].Reason != "severity" {
		t.Fatalf("raised to page_at: %+v", raised.Pages)
	}
	// Raising it further pages no second time.
	if again, err := svc.SetSeverity(ctx, minor.Number, "U0ANN", "sev0"); err != nil || len(again.Pages) != 1 {
		t.Fatalf("raised again: %+v, %v", again, err)
	}
	drill, err := svc.Declare(ctx, incident.Declaration{Title: "Game day", Severity: "sev0", Actor: "U0ANN", Drill: true})
	if err != nil || len(drill.Pages) != 0 {
		t.Fatalf("a drill paged: %+v, %v", drill, err)
	}
}
