package incident_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newService(t *testing.T) (*incident.Service, *clock) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/sitrep.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}
	return incident.NewService(db, incident.DefaultConfig(), c.now), c
}

func declare(t *testing.T, svc *incident.Service, title string) *incident.Incident {
	t.Helper()
	inc, err := svc.Declare(context.Background(), incident.Declaration{Title: title, Severity: "sev1", Actor: "U1"})
	if err != nil {
		t.Fatalf("declare %q: %v", title, err)
	}
	return inc
}

func TestLifecycleRecordsEveryChange(t *testing.T) {
	ctx := context.Background()
	svc, clk := newService(t)
	inc := declare(t, svc, "  Checkout\nfailing   for EU users ")
	if inc.Number != 1 || inc.Title != "Checkout failing for EU users" || inc.Commander() != "U1" || inc.Status != incident.Investigating {
		t.Fatalf("declared %+v", inc)
	}
	steps := []func() (*incident.Incident, error){
		func() (*incident.Incident, error) { return svc.AssignRole(ctx, 1, "U1", "lead", "U2") },
		func() (*incident.Incident, error) { return svc.AssignRole(ctx, 1, "U2", "comms", "U3") },
		func() (*incident.Incident, error) { return svc.SetStatus(ctx, 1, "U2", incident.Monitoring) },
		func() (*incident.Incident, error) { return svc.SetStatus(ctx, 1, "U2", incident.Identified) },
		func() (*incident.Incident, error) { return svc.SetSeverity(ctx, 1, "U2", "sev0") },
		func() (*incident.Incident, error) { return svc.AddNote(ctx, 1, "U3", "rolled back") },
		func() (*incident.Incident, error) { return svc.PostUpdate(ctx, 1, "U2", "errors falling") },
		func() (*incident.Incident, error) { return svc.Resolve(ctx, 1, "U2", "bad deploy reverted") },
		func() (*incident.Incident, error) { return svc.Reopen(ctx, 1, "U2", "errors are back") },
		func() (*incident.Incident, error) { return svc.Resolve(ctx, 1, "U2", "") },
	}
	for i, step := range steps {
		clk.add(time.Minute)
		if _, err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	got, events, err := svc.Timeline(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != incident.Resolved || got.Severity != "sev0" || got.Commander() != "U2" || got.Roles["comms"] != "U3" || got.Summary != "bad deploy reverted" {
		t.Errorf("final incident %+v", got)
	}
	if want := clk.now(); !got.ResolvedAt.Equal(want) {
		t.Errorf("ResolvedAt = %v, want %v", got.ResolvedAt, want)
	}
	var lines []string
	for _, ev := range events {
		lines = append(lines, ev.At.Format("15:04")+" "+ev.Describe(func(u string) string { return "@" + u }))
	}
	want := []string{
		"03:00 Declared as sev1",
		"03:01 @U2 is now commander (was @U1)",
		"03:02 @U3 is now comms",
		"03:03 Status investigating → monitoring",
		"03:04 Status monitoring → identified (moved back)",
		"03:05 Severity sev1 → sev0",
		"03:06 Note: rolled back",
		"03:07 Status update: errors falling",
		"03:08 Resolved: bad deploy reverted",
		"03:09 Reopened (was resolved): errors are back",
		"03:10 Resolved",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}
}

func TestInvalidInputChangesNothing(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	declare(t, svc, "Checkout failing")
	resolved := declare(t, svc, "Search slow")
	if _, err := svc.Resolve(ctx, resolved.Number, "U1", ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		do   func() error
		code string
		msg  string
	}{
		{"empty title", func() error { _, err := svc.Declare(ctx, incident.Declaration{Title: " \n ", Actor: "U1"}); return err }, incident.EINVALID, "needs a title"},
		{"title too long", func() error {
			// Entities count as the one character typed: this is 201.
			_, err := svc.Declare(ctx, incident.Declaration{Title: strings.Repeat("&amp;", 201), Actor: "U1"})
			return err
		}, incident.EINVALID, "201 characters"},
		{"title far too long", func() error {
			_, err := svc.Declare(ctx, incident.Declaration{Title: strings.Repeat("x", 300), Actor: "U1"})
			return err
		}, incident.EINVALID, "300 characters"},
		{"only punctuation", func() error {
			_, err := svc.Declare(ctx, incident.Declaration{Title: "?!… --", Actor: "U1"})
			return err
		}, incident.EINVALID, "only punctuation"},
		{"unknown severity", func() error {
			_, err := svc.Declare(ctx, incident.Declaration{Title: "x", Severity: "sev9", Actor: "U1"})
			return err
		}, incident.EINVALID, "not a severity"},
		{"unknown status", func() error { _, err := svc.SetStatus(ctx, 1, "U1", "sleeping"); return err }, incident.EINVALID, "not a status"},
		{"status resolved", func() error { _, err := svc.SetStatus(ctx, 1, "U1", incident.Resolved); return err }, incident.EINVALID, "resolve"},
		{"same status", func() error { _, err := svc.SetStatus(ctx, 1, "U1", incident.Investigating); return err }, incident.EINVALID, "already investigating"},
		{"same severity", func() error { _, err := svc.SetSeverity(ctx, 1, "U1", "sev1"); return err }, incident.EINVALID, "already sev1"},
		{"unknown role", func() error { _, err := svc.AssignRole(ctx, 1, "U1", "janitor", "U2"); return err }, incident.EINVALID, "not a role"},
		{"role to holder", func() error { _, err := svc.AssignRole(ctx, 1, "U1", "ic", "U1"); return err }, incident.EINVALID, "already the commander"},
		{"empty note", func() error { _, err := svc.AddNote(ctx, 1, "U1", "  "); return err }, incident.EINVALID, "empty"},
		{"resolve twice", func() error { _, err := svc.Resolve(ctx, resolved.Number, "U1", ""); return err }, incident.ECONFLICT, "already resolved"},
		{"status on resolved", func() error { _, err := svc.SetStatus(ctx, resolved.Number, "U1", incident.Identified); return err }, incident.ECONFLICT, "reopen"},
		{"reopen open", func() error { _, err := svc.Reopen(ctx, 1, "U1", ""); return err }, incident.ECONFLICT, "only a resolved incident"},
		{"no such incident", func() error { _, err := svc.AddNote(ctx, 99, "U1", "x"); return err }, incident.ENOTFOUND, "#99"},
	}
	before, _, _ := svc.Timeline(ctx, 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if incident.ErrorCode(err) != tt.code || !strings.Contains(incident.ErrorMessage(err), tt.msg) {
				t.Fatalf("got %v (code %s), want code %s and a message containing %q", err, incident.ErrorCode(err), tt.code, tt.msg)
			}
		})
	}
	after, events, _ := svc.Timeline(ctx, 1)
	if after.Version != before.Version || len(events) != 1 {
		t.Errorf("rejected changes left traces: version %d → %d, %d events", before.Version, after.Version, len(events))
	}
	if incs, _ := svc.List(ctx, incident.ListFilter{}); len(incs) != 2 {
		t.Errorf("rejected declares made incidents: %d", len(incs))
	}
}

func TestTitleLengthCountsWhatWasTyped(t *testing.T) {
	svc, _ := newService(t)
	if _, err := svc.Declare(context.Background(), incident.Declaration{Title: strings.Repeat("&amp;", 200), Actor: "U1"}); err != nil {
		t.Fatalf("a 200-character title of ampersands was refused: %v", err)
	}
}

func TestAddMessageKeepsItsTimeAndIsRecordedOnce(t *testing.T) {
	ctx := context.Background()
	svc, clk := newService(t)
	declare(t, svc, "Checkout failing")
	clk.add(time.Hour)
	written := clk.now().Add(-30 * time.Minute) // before the note below, after the declaration
	if _, err := svc.AddNote(ctx, 1, "U1", "later note"); err != nil {
		t.Fatal(err)
	}
	m := incident.Message{At: written, Author: "U2", Text: "  <@U3> the deploy at 02:59 looks bad  ", Link: "https://x.slack.com/archives/C1/p1", Key: "C1/1.000001"}
	if _, err := svc.AddMessage(ctx, 1, "U1", m); err != nil {
		t.Fatal(err)
	}
	_, err := svc.AddMessage(ctx, 1, "U3", m)
	if incident.ErrorCode(err) != incident.ECONFLICT || !strings.Contains(incident.ErrorMessage(err), "already on the timeline") {
		t.Fatalf("second add: %v, want ECONFLICT", err)
	}
	_, events, _ := svc.Timeline(ctx, 1)
	var got []string
	for _, ev := range events {
		got = append(got, string(ev.Kind))
	}
	if diff := cmp.Diff([]string{"declared", "message", "note"}, got); diff != "" {
		t.Errorf("timeline order (-want +got):\n%s", diff)
	}
	msg := events[1]
	if !msg.At.Equal(written) || msg.Text != "<@U3> the deploy at 02:59 looks bad" || msg.Source != m.Link || msg.Data["author"] != "U2" || msg.Actor != "U1" {
		t.Errorf("message event %+v", msg)
	}
	if _, err := svc.AddMessage(ctx, 1, "U1", incident.Message{At: written, Key: "k", Text: " "}); incident.ErrorCode(err) != incident.EINVALID {
		t.Errorf("empty message: %v, want EINVALID", err)
	}
}

func TestClaimIsOnce(t *testing.T) {
	ctx := context.Background()
	svc, clk := newService(t)
	for i, want := range []bool{true, false, false} {
		got, err := svc.Claim(ctx, "event:Ev123")
		if err != nil || got != want {
			t.Fatalf("claim %d = %v, %v; want %v", i, got, err, want)
		}
	}
	clk.add(25 * time.Hour) // claims expire after a day
	if got, _ := svc.Claim(ctx, "event:Other"); !got {
		t.Fatal("a new key was not claimed")
	}
	if got, _ := svc.Claim(ctx, "event:Ev123"); !got {
		t.Error("a day-old claim was not pruned")
	}
}

func TestCloseNeedsResolutionAndPostmortem(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	declare(t, svc, "Checkout failing")
	if _, err := svc.Close(ctx, 1, "U1"); incident.ErrorCode(err) != incident.ECONFLICT || !strings.Contains(incident.ErrorMessage(err), "resolve it") {
		t.Fatalf("closing an open incident: %v", err)
	}
	if _, err := svc.Resolve(ctx, 1, "U1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(ctx, 1, "U1"); incident.ErrorCode(err) != incident.ECONFLICT || !strings.Contains(incident.ErrorMessage(err), "no postmortem") {
		t.Fatalf("closing without a postmortem: %v", err)
	}
	// A postmortem from before a reopen does not cover the incident.
	if _, err := svc.RecordPostmortem(ctx, 1, "U1", "https://files.example/F0"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Reopen(ctx, 1, "U1", "errors are back"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Resolve(ctx, 1, "U1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(ctx, 1, "U1"); incident.ErrorCode(err) != incident.ECONFLICT || !strings.Contains(incident.ErrorMessage(err), "since it was last resolved") {
		t.Fatalf("closing with an old postmortem: %v", err)
	}
	if _, err := svc.RecordPostmortem(ctx, 1, "U1", "https://files.example/F1"); err != nil {
		t.Fatal(err)
	}
	inc, err := svc.Close(ctx, 1, "U1")
	if err != nil || inc.Status != incident.Closed || inc.ClosedAt.IsZero() {
		t.Fatalf("close: %+v, %v", inc, err)
	}
	if _, err := svc.AddNote(ctx, 1, "U1", "late"); incident.ErrorCode(err) != incident.ECONFLICT {
		t.Errorf("a note on a closed incident: %v, want ECONFLICT", err)
	}
	if _, err := svc.Reopen(ctx, 1, "U1", ""); incident.ErrorCode(err) != incident.ECONFLICT {
		t.Errorf("reopening a closed incident: %v, want ECONFLICT", err)
	}
}
