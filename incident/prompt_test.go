package incident_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
)

func TestNextPrompt(t *testing.T) {
	cfg := incident.DefaultConfig() // cadences: sev0 15m, sev1 30m, sev2 60m, sev3 none
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	resolved := t0.Add(3 * time.Hour)
	none := incident.Prompt{}
	tests := []struct {
		name string
		inc  incident.Incident
		want incident.Prompt // zero for none
	}{
		{"fresh sev1", incident.Incident{Status: incident.Investigating, Severity: "sev1", LastUpdateAt: t0},
			incident.Prompt{Kind: incident.PromptUpdate, Level: 1, At: t0.Add(30 * time.Minute)}},
		{"sev1 prompted once", incident.Incident{Status: incident.Investigating, Severity: "sev1", LastUpdateAt: t0, UpdatePrompts: 1},
			incident.Prompt{Kind: incident.PromptUpdate, Level: 2, At: t0.Add(60 * time.Minute)}},
		{"sev1 prompted twice", incident.Incident{Status: incident.Investigating, Severity: "sev1", LastUpdateAt: t0, UpdatePrompts: 2}, none},
		{"identified sev0", incident.Incident{Status: incident.Identified, Severity: "sev0", LastUpdateAt: t0},
			incident.Prompt{Kind: incident.PromptUpdate, Level: 1, At: t0.Add(15 * time.Minute)}},
		{"monitoring sev2 prompted once", incident.Incident{Status: incident.Monitoring, Severity: "sev2", LastUpdateAt: t0, UpdatePrompts: 1},
			incident.Prompt{Kind: incident.PromptUpdate, Level: 2, At: t0.Add(120 * time.Minute)}},
		{"sev3 has no cadence", incident.Incident{Status: incident.Investigating, Severity: "sev3", LastUpdateAt: t0}, none},
		{"unknown severity", incident.Incident{Status: incident.Investigating, Severity: "sev9", LastUpdateAt: t0}, none},
		{"open with an early postmortem", incident.Incident{Status: incident.Investigating, Severity: "sev1", LastUpdateAt: t0, PostmortemAt: t0},
			incident.Prompt{Kind: incident.PromptUpdate, Level: 1, At: t0.Add(30 * time.Minute)}},
		{"resolved", incident.Incident{Status: incident.Resolved, Severity: "sev1", LastUpdateAt: t0, ResolvedAt: resolved},
			incident.Prompt{Kind: incident.PromptPostmortem, Level: 1, At: resolved.Add(24 * time.Hour)}},
		{"resolved after update prompts", incident.Incident{Status: incident.Resolved, Severity: "sev1", LastUpdateAt: t0, UpdatePrompts: 2, ResolvedAt: resolved},
			incident.Prompt{Kind: incident.PromptPostmortem, Level: 1, At: resolved.Add(24 * time.Hour)}},
		{"resolved sev3", incident.Incident{Status: incident.Resolved, Severity: "sev3", LastUpdateAt: t0, ResolvedAt: resolved},
			incident.Prompt{Kind: incident.PromptPostmortem, Level: 1, At: resolved.Add(24 * time.Hour)}},
		{"resolved, prompted twice", incident.Incident{Status: incident.Resolved, Severity: "sev1", ResolvedAt: resolved, PostmortemPrompts: 2},
			incident.Prompt{Kind: incident.PromptPostmortem, Level: 3, At: resolved.Add(72 * time.Hour)}},
		{"resolved with a postmortem", incident.Incident{Status: incident.Resolved, Severity: "sev1", ResolvedAt: resolved, PostmortemAt: resolved.Add(time.Hour)}, none},
		{"closed", incident.Incident{Status: incident.Closed, Severity: "sev1", LastUpdateAt: t0, ResolvedAt: resolved, PostmortemAt: resolved}, none},
		{"closed without a postmortem", incident.Incident{Status: incident.Closed, Severity: "sev1", LastUpdateAt: t0, ResolvedAt: resolved}, none},
		{"sev1 with an update promising 2h", incident.Incident{Status: incident.Investigating, Severity: "sev1", LastUpdateAt: t0, UpdateEvery: 2 * time.Hour},
			incident.Prompt{Kind: incident.PromptUpdate, Level: 1, At: t0.Add(2 * time.Hour)}},
		{"promised 2h, prompted once", incident.Incident{Status: incident.Investigating, Severity: "sev1", LastUpdateAt: t0, UpdateEvery: 2 * time.Hour, UpdatePrompts: 1},
			incident.Prompt{Kind: incident.PromptUpdate, Level: 2, At: t0.Add(4 * time.Hour)}},
		{"sev3 with an update promising 1h", incident.Incident{Status: incident.Investigating, Severity: "sev3", LastUpdateAt: t0, UpdateEvery: time.Hour},
			incident.Prompt{Kind: incident.PromptUpdate, Level: 1, At: t0.Add(time.Hour)}},
		{"resolved after a promise", incident.Incident{Status: incident.Resolved, Severity: "sev1", LastUpdateAt: t0, UpdateEvery: time.Hour, ResolvedAt: resolved},
			incident.Prompt{Kind: incident.PromptPostmortem, Level: 1, At: resolved.Add(24 * time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc := tt.inc
			got, ok := incident.NextPrompt(&inc, cfg)
			if ok != (tt.want != none) {
				t.Errorf("NextPrompt ok = %v, want %v", ok, tt.want != none)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NextPrompt (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.inc, inc); diff != "" {
				t.Errorf("NextPrompt changed the incident (-before +after):\n%s", diff)
			}
		})
	}
}

// promptsOf returns the data of incident number's prompt events.
func promptsOf(t *testing.T, svc *incident.Service, number int64) []map[string]string {
	t.Helper()
	var out []map[string]string
	for _, ev := range eventsOf(t, svc, number) {
		if ev.Kind == incident.KindPrompt {
			out = append(out, ev.Data)
		}
	}
	return out
}

// due calls DuePrompts and fails the test unless it returns want and next.
func due(t *testing.T, svc *incident.Service, now time.Time, want []int64, next time.Time) {
	t.Helper()
	got, gotNext, err := svc.DuePrompts(context.Background(), now)
	if err != nil {
		t.Fatalf("DuePrompts(%v): %v", now, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DuePrompts(%v) due (-want +got):\n%s", now, diff)
	}
	if !gotNext.Equal(next) {
		t.Errorf("DuePrompts(%v) next = %v, want %v", now, gotNext, next)
	}
}

// sendPrompt sends incident number's prompt and returns its data, checking
// that it was recorded as one event at the current time.
func sendPrompt(t *testing.T, svc *incident.Service, clk *clock, number int64) map[string]string {
	t.Helper()
	before := eventsOf(t, svc, number)
	sent, err := svc.SendPrompt(context.Background(), number)
	if err != nil || !sent {
		t.Fatalf("SendPrompt(%d) at %v = %v, %v; want true, nil", number, clk.now(), sent, err)
	}
	evs := eventsOf(t, svc, number)
	if len(evs) != len(before)+1 {
		t.Fatalf("SendPrompt recorded %d events, want 1", len(evs)-len(before))
	}
	ev := evs[len(evs)-1]
	if ev.Kind != incident.KindPrompt || !ev.At.Equal(clk.now()) || ev.Actor != "" {
		t.Errorf("prompt event %+v, want a prompt at %v by nobody", ev, clk.now())
	}
	return ev.Data
}

// noPromptDue checks that SendPrompt reports that nothing is due and
// writes nothing: no event, and no new Version for the chat adapter to
// show.
func noPromptDue(t *testing.T, svc *incident.Service, number int64) {
	t.Helper()
	ctx := context.Background()
	before, err := svc.Get(ctx, number)
	if err != nil {
		t.Fatal(err)
	}
	evs := eventsOf(t, svc, number)
	if sent, err := svc.SendPrompt(ctx, number); sent || err != nil {
		t.Errorf("SendPrompt(%d) with nothing due = %v, %v; want false, nil", number, sent, err)
	}
	after, err := svc.Get(ctx, number)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(eventsOf(t, svc, number)); n != len(evs) {
		t.Errorf("SendPrompt with nothing due recorded %d events", n-len(evs))
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("SendPrompt with nothing due changed the incident (-before +after):\n%s", diff)
	}
}

// A sev1 incident (cadence 30m) is prompted at 30m, prompted again naming the
// comms role at 60m, and then left alone until an update.
func TestUpdatePromptsFireAndEscalate(t *testing.T) {
	ctx := context.Background()
	svc, clk, _ := newServiceWith(t, triageConfig())
	t0 := clk.now()
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	inc := declareAt(t, svc, "sev1")
	if !inc.NextPromptAt.Equal(at(30)) || !inc.LastUpdateAt.Equal(t0) {
		t.Errorf("declared with NextPromptAt %v, LastUpdateAt %v; want %v, %v", inc.NextPromptAt, inc.LastUpdateAt, at(30), t0)
	}
	if _, err := svc.AssignRole(ctx, 1, "U1", "comms", "U3"); err != nil {
		t.Fatal(err)
	}

	clk.add(29 * time.Minute)
	due(t, svc, clk.now(), nil, at(30))
	noPromptDue(t, svc, 1)

	clk.add(time.Minute)
	due(t, svc, clk.now(), []int64{1}, time.Time{})
	if diff := cmp.Diff(map[string]string{"prompt": "update", "level": "1", "commander": "U1"}, sendPrompt(t, svc, clk, 1)); diff != "" {
		t.Errorf("first prompt (-want +got):\n%s", diff)
	}
	due(t, svc, clk.now(), nil, at(60))
	noPromptDue(t, svc, 1)

	clk.add(30 * time.Minute)
	due(t, svc, clk.now(), []int64{1}, time.Time{})
	if diff := cmp.Diff(map[string]string{"prompt": "update", "level": "2", "commander": "U1", "comms": "U3"}, sendPrompt(t, svc, clk, 1)); diff != "" {
		t.Errorf("second prompt (-want +got):\n%s", diff)
	}

	// Nothing more until an update, however long it takes.
	stored, err := svc.Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.NextPromptAt.IsZero() || stored.UpdatePrompts != 2 {
		t.Errorf("after two prompts: NextPromptAt %v, UpdatePrompts %d; want zero, 2", stored.NextPromptAt, stored.UpdatePrompts)
	}
	clk.add(24 * time.Hour)
	due(t, svc, clk.now(), nil, time.Time{})
	noPromptDue(t, svc, 1)

	var lines []string
	for _, ev := range eventsOf(t, svc, 1) {
		if ev.Kind == incident.KindPrompt {
			lines = append(lines, ev.Describe(func(u string) string { return "@" + u }))
		}
	}
	if diff := cmp.Diff([]string{"Reminder: a status update is due", "Reminder: a status update is overdue"}, lines); diff != "" {
		t.Errorf("prompts (-want +got):\n%s", diff)
	}

	// An update starts the clock again, from level 1.
	upd, err := svc.PostUpdate(ctx, 1, "U1", "still rolling back")
	if err != nil {
		t.Fatal(err)
	}
	if !upd.LastUpdateAt.Equal(clk.now()) || upd.UpdatePrompts != 0 || !upd.NextPromptAt.Equal(clk.now().Add(30*time.Minute)) {
		t.Errorf("after an update: LastUpdateAt %v, UpdatePrompts %d, NextPromptAt %v", upd.LastUpdateAt, upd.UpdatePrompts, upd.NextPromptAt)
	}
	clk.add(30 * time.Minute)
	if diff := cmp.Diff(map[string]string{"prompt": "update", "level": "1", "commander": "U1"}, sendPrompt(t, svc, clk, 1)); diff != "" {
		t.Errorf("prompt after the update (-want +got):\n%s", diff)
	}
}

// An update between prompts moves the next one a cadence past the update,
// back at level 1.
func TestUpdateResetsPromptClock(t *testing.T) {
	ctx := context.Background()
	svc, clk, _ := newServiceWith(t, triageConfig())
	t0 := clk.now()
	declareAt(t, svc, "sev1")
	clk.add(30 * time.Minute)
	sendPrompt(t, svc, clk, 1)

	clk.add(10 * time.Minute) // t0+40m
	if _, err := svc.PostUpdate(ctx, 1, "U1", "found it"); err != nil {
		t.Fatal(err)
	}
	clk.add(20 * time.Minute) // t0+60m: the overdue prompt would have been due
	due(t, svc, clk.now(), nil, t0.Add(70*time.Minute))
	noPromptDue(t, svc, 1)

	clk.add(10 * time.Minute)
	due(t, svc, clk.now(), []int64{1}, time.Time{})
	if got := sendPrompt(t, svc, clk, 1)["level"]; got != "1" {
		t.Errorf("level %s, want 1", got)
	}
}

// When Sitrep missed prompts (it was down), one prompt at the latest level
// due stands for them all. Without a comms holder, nobody else is named.
func TestMissedPromptsCollapseToOne(t *testing.T) {
	svc, clk, _ := newServiceWith(t, triageConfig())
	declareAt(t, svc, "sev1")
	clk.add(3 * time.Hour)
	due(t, svc, clk.now(), []int64{1}, time.Time{})
	if diff := cmp.Diff(map[string]string{"prompt": "update", "level": "2", "commander": "U1"}, sendPrompt(t, svc, clk, 1)); diff != "" {
		t.Errorf("prompt (-want +got):\n%s", diff)
	}
	if n := len(promptsOf(t, svc, 1)); n != 1 {
		t.Errorf("%d prompts recorded, want 1", n)
	}
	due(t, svc, clk.now(), nil, time.Time{})
	noPromptDue(t, svc, 1)
}

// The due time follows the severity's cadence from the last update: raising
// the severity brings it forward, lowering it to one without a cadence
// removes it.
func TestSeverityChangeReschedulesPrompt(t *testing.T) {
	ctx := context.Background()
	svc, clk, _ := newServiceWith(t, triageConfig())
	t0 := clk.now()
	declareAt(t, svc, "sev2")
	steps := []struct {
		after    time.Duration // since the previous step
		severity string
		next     time.Duration // NextPromptAt - t0; -1 for none
		due      bool
	}{
		{10 * time.Minute, "sev1", 30 * time.Minute, false},
		{10 * time.Minute, "sev0", 15 * time.Minute, true}, // t0+20m: already due
		{time.Minute, "sev3", -1, false},
		// From a severity with no cadence the clock starts at the change.
		{time.Minute, "sev2", 22*time.Minute + 60*time.Minute, false},
	}
	for _, step := range steps {
		clk.add(step.after)
		inc, err := svc.SetSeverity(ctx, 1, "U1", step.severity)
		if err != nil {
			t.Fatalf("to %s: %v", step.severity, err)
		}
		want := time.Time{}
		if step.next >= 0 {
			want = t0.Add(step.next)
		}
		if !inc.NextPromptAt.Equal(want) {
			t.Errorf("to %s: NextPromptAt %v, want %v", step.severity, inc.NextPromptAt, want)
		}
		got, _, err := svc.DuePrompts(ctx, clk.now())
		if err != nil {
			t.Fatal(err)
		}
		if (len(got) == 1) != step.due {
			t.Errorf("to %s: due %v, want due %v", step.severity, got, step.due)
		}
	}

	// A prompt owed at sev0 and not sent goes with a lower severity.
	if _, err := svc.SetSeverity(ctx, 1, "U1", "sev0"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetSeverity(ctx, 1, "U1", "sev3"); err != nil {
		t.Fatal(err)
	}
	noPromptDue(t, svc, 1)
}

// A resolved incident is prompted daily for its postmortem until one is
// published, and never again once closed.
func TestPostmortemPrompts(t *testing.T) {
	ctx := context.Background()
	svc, clk, _ := newServiceWith(t, triageConfig())
	declareAt(t, svc, "sev1")
	if _, err := svc.AssignRole(ctx, 1, "U1", "comms", "U3"); err != nil {
		t.Fatal(err)
	}
	// A postmortem published before the resolution does not cover it.
	if _, err := svc.RecordPostmortem(ctx, 1, "U1", "https://files.example/early"); err != nil {
		t.Fatal(err)
	}
	clk.add(time.Hour)
	resolved := clk.now()
	inc, err := svc.Resolve(ctx, 1, "U1", "fixed")
	if err != nil {
		t.Fatal(err)
	}
	if !inc.NextPromptAt.Equal(resolved.Add(24*time.Hour)) || !inc.PostmortemAt.IsZero() {
		t.Errorf("resolved with NextPromptAt %v, PostmortemAt %v; want %v, zero", inc.NextPromptAt, inc.PostmortemAt, resolved.Add(24*time.Hour))
	}

	clk.add(23 * time.Hour)
	due(t, svc, clk.now(), nil, resolved.Add(24*time.Hour))
	noPromptDue(t, svc, 1)
	clk.add(time.Hour)
	if diff := cmp.Diff(map[string]string{"prompt": "postmortem", "level": "1", "commander": "U1"}, sendPrompt(t, svc, clk, 1)); diff != "" {
		t.Errorf("first postmortem prompt (-want +got):\n%s", diff)
	}
	due(t, svc, clk.now(), nil, resolved.Add(48*time.Hour))

	// Three days missed: one prompt, for the fourth day.
	clk.add(3*24*time.Hour + time.Hour)
	if diff := cmp.Diff(map[string]string{"prompt": "postmortem", "level": "4", "commander": "U1"}, sendPrompt(t, svc, clk, 1)); diff != "" {
		t.Errorf("collapsed postmortem prompt (-want +got):\n%s", diff)
	}
	due(t, svc, clk.now(), nil, resolved.Add(5*24*time.Hour))

	_, tl, err := svc.Timeline(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range tl {
		if ev.Kind == incident.KindPrompt {
			t.Errorf("a prompt is on the timeline: %+v", ev)
		}
	}
	if evs := eventsOf(t, svc, 1); evs[len(evs)-1].Describe(func(u string) string { return u }) != "Reminder: the postmortem is not published yet" {
		t.Errorf("Describe = %q", evs[len(evs)-1].Describe(func(u string) string { return u }))
	}

	// Reopening goes back to update prompts; resolving again restarts the
	// postmortem prompts from the first day.
	if inc, err = svc.Reopen(ctx, 1, "U1", "back"); err != nil {
		t.Fatal(err)
	}
	if !inc.NextPromptAt.Equal(clk.now().Add(30*time.Minute)) || inc.UpdatePrompts != 0 {
		t.Errorf("reopened with NextPromptAt %v, UpdatePrompts %d", inc.NextPromptAt, inc.UpdatePrompts)
	}
	clk.add(time.Hour)
	resolved = clk.now()
	if inc, err = svc.Resolve(ctx, 1, "U1", ""); err != nil {
		t.Fatal(err)
	}
	if !inc.NextPromptAt.Equal(resolved.Add(24*time.Hour)) || inc.PostmortemPrompts != 0 {
		t.Errorf("resolved again with NextPromptAt %v, PostmortemPrompts %d", inc.NextPromptAt, inc.PostmortemPrompts)
	}
	clk.add(24 * time.Hour)
	if got := sendPrompt(t, svc, clk, 1)["level"]; got != "1" {
		t.Errorf("first prompt after the second resolution: level %s, want 1", got)
	}

	// The postmortem ends the prompts.
	if inc, err = svc.RecordPostmortem(ctx, 1, "U1", "https://files.example/pm"); err != nil {
		t.Fatal(err)
	}
	if !inc.NextPromptAt.IsZero() || !inc.PostmortemAt.Equal(clk.now()) {
		t.Errorf("after the postmortem: NextPromptAt %v, PostmortemAt %v", inc.NextPromptAt, inc.PostmortemAt)
	}
	clk.add(30 * 24 * time.Hour)
	due(t, svc, clk.now(), nil, time.Time{})
	noPromptDue(t, svc, 1)

	if inc, err = svc.Close(ctx, 1, "U1"); err != nil {
		t.Fatal(err)
	}
	if !inc.NextPromptAt.IsZero() {
		t.Errorf("closed with NextPromptAt %v", inc.NextPromptAt)
	}
	clk.add(30 * 24 * time.Hour)
	due(t, svc, clk.now(), nil, time.Time{})
	if sent, err := svc.SendPrompt(ctx, 1); sent || err != nil {
		t.Errorf("SendPrompt to a closed incident = %v, %v; want false, nil", sent, err)
	}
	if n := len(promptsOf(t, svc, 1)); n != 3 {
		t.Errorf("%d prompts in all, want 3", n)
	}
}

// A closed incident is owed nothing, even one closed straight after the
// postmortem with prompts that would otherwise be due.
func TestNoPromptsAfterClose(t *testing.T) {
	ctx := context.Background()
	svc, clk, _ := newServiceWith(t, triageConfig())
	declareAt(t, svc, "sev0")
	for _, step := range []func() (*incident.Incident, error){
		func() (*incident.Incident, error) { return svc.Resolve(ctx, 1, "U1", "") },
		func() (*incident.Incident, error) { return svc.RecordPostmortem(ctx, 1, "U1", "") },
		func() (*incident.Incident, error) { return svc.Close(ctx, 1, "U1") },
	} {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
	clk.add(100 * 24 * time.Hour)
	due(t, svc, clk.now(), nil, time.Time{})
	if n := len(promptsOf(t, svc, 1)); n != 0 {
		t.Errorf("%d prompts recorded, want none", n)
	}
}

// A stored due time can go stale (the cadences changed and Reschedule has
// not run yet). SendPrompt then sends nothing but stores the right due
// time, so that DuePrompts stops offering the incident.
func TestSendPromptRepairsStaleSchedule(t *testing.T) {
	ctx := context.Background()
	cfg := triageConfig()
	svc, clk, path := newServiceWith(t, cfg)
	t0 := clk.now()
	declareAt(t, svc, "sev1") // due at 30m under cfg

	slower := cfg
	slower.Severities = append([]incident.Severity(nil), cfg.Severities...)
	slower.Severities[1].Cadence = time.Hour
	svc2 := incident.NewService(openStore(t, path), slower, clk.now)
	clk.add(30 * time.Minute)
	due(t, svc2, clk.now(), []int64{1}, time.Time{})
	if sent, err := svc2.SendPrompt(ctx, 1); sent || err != nil {
		t.Fatalf("SendPrompt on a stale schedule = %v, %v; want false, nil", sent, err)
	}
	due(t, svc2, clk.now(), nil, t0.Add(time.Hour))
	if n := len(promptsOf(t, svc2, 1)); n != 0 {
		t.Errorf("%d prompts recorded, want none", n)
	}
	noPromptDue(t, svc2, 1)
}

func TestSendPromptUnknownIncident(t *testing.T) {
	svc, _, _ := newServiceWith(t, triageConfig())
	_, err := svc.SendPrompt(context.Background(), 7)
	wantCode(t, "SendPrompt(7)", err, incident.ENOTFOUND, "#7")
}

// Prompt state lives in the database: closing it and opening it again
// neither loses a prompt that is due nor repeats one that was sent.
func TestPromptStateSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	cfg := triageConfig()
	path := t.TempDir() + "/sitrep.db"
	clk := &clock{t: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}
	db := openStore(t, path)
	svc := incident.NewService(db, cfg, clk.now)
	// restart closes the database and starts afresh on the same file, as
	// Sitrep does on start-up.
	restart := func() {
		t.Helper()
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db = openStore(t, path)
		svc = incident.NewService(db, cfg, clk.now)
		if err := svc.Reschedule(ctx); err != nil {
			t.Fatalf("Reschedule: %v", err)
		}
	}

	t0 := clk.now()
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	declareAt(t, svc, "sev1") // #1: due at 30m, overdue at 60m
	clk.add(5 * time.Minute)
	declareAt(t, svc, "sev2") // #2: due at 65m, overdue at 125m
	declareAt(t, svc, "sev3") // #3: never
	clk.add(25 * time.Minute)
	sendPrompt(t, svc, clk, 1)
	restart()

	due(t, svc, clk.now(), nil, at(60))
	got, err := svc.Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.UpdatePrompts != 1 || !got.LastUpdateAt.Equal(t0) || !got.NextPromptAt.Equal(at(60)) {
		t.Errorf("#1 after restart: UpdatePrompts %d, LastUpdateAt %v, NextPromptAt %v", got.UpdatePrompts, got.LastUpdateAt, got.NextPromptAt)
	}
	if got.Version != 2 { // declared, prompted
		t.Errorf("#1 version %d after one prompt and a restart, want 2: the restart changed it", got.Version)
	}
	if n := len(promptsOf(t, svc, 1)); n != 1 {
		t.Errorf("#1 has %d prompts after a restart, want 1", n)
	}

	// Down across both due times: after the restart both are due, the
	// earliest first, and each is sent once.
	clk.add(40 * time.Minute) // 70m
	restart()
	due(t, svc, clk.now(), []int64{1, 2}, time.Time{})
	if lvl := sendPrompt(t, svc, clk, 1)["level"]; lvl != "2" {
		t.Errorf("#1 level %s, want 2", lvl)
	}
	if lvl := sendPrompt(t, svc, clk, 2)["level"]; lvl != "1" {
		t.Errorf("#2 level %s, want 1", lvl)
	}
	restart()
	due(t, svc, clk.now(), nil, at(125))
	for n, want := range map[int64]int{1: 2, 2: 1, 3: 0} {
		if got := len(promptsOf(t, svc, n)); got != want {
			t.Errorf("#%d has %d prompts, want %d", n, got, want)
		}
	}
}

// Prompts are recorded for delivery but are Sitrep's reminders, not facts
// of the incident: the timeline people read leaves them out.
func TestTimelineLeavesOutPrompts(t *testing.T) {
	ctx := context.Background()
	svc, clk, _ := newServiceWith(t, triageConfig())
	declareAt(t, svc, "sev1")
	clk.add(30 * time.Minute)
	sendPrompt(t, svc, clk, 1)
	clk.add(time.Minute)
	if _, err := svc.AddNote(ctx, 1, "U1", "looking"); err != nil {
		t.Fatal(err)
	}
	_, tl, err := svc.Timeline(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []incident.EventKind
	for _, ev := range tl {
		kinds = append(kinds, ev.Kind)
	}
	if diff := cmp.Diff([]incident.EventKind{incident.KindDeclared, incident.KindNote}, kinds); diff != "" {
		t.Errorf("timeline kinds (-want +got):\n%s", diff)
	}
	if n := len(eventsOf(t, svc, 1)); n != 3 {
		t.Errorf("Events returned %d events, want 3 with the prompt", n)
	}
}

func TestEventKindOnTimeline(t *testing.T) {
	tests := []struct {
		kind incident.EventKind
		want bool
	}{
		{incident.KindDeclared, true},
		{incident.KindNote, true},
		{incident.KindUpdate, true},
		{incident.KindChecklist, true},
		{incident.KindFollowUp, true},
		{incident.KindFollowUpDone, true},
		{incident.KindPostmortem, true},
		{incident.KindPrompt, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			if got := tt.kind.OnTimeline(); got != tt.want {
				t.Errorf("OnTimeline() = %v, want %v", got, tt.want)
			}
		})
	}
}

// Reschedule recomputes the due times after the cadences change, touching
// only the incidents whose due time moved.
func TestReschedule(t *testing.T) {
	ctx := context.Background()
	cfg := triageConfig()
	svc, clk, path := newServiceWith(t, cfg)
	t0 := clk.now()
	declareAt(t, svc, "sev1") // #1
	declareAt(t, svc, "sev3") // #2: no cadence
	declareAt(t, svc, "sev2") // #3: cadence unchanged below
	declareAt(t, svc, "sev1") // #4: closed
	for _, step := range []func() (*incident.Incident, error){
		func() (*incident.Incident, error) { return svc.Resolve(ctx, 4, "U1", "") },
		func() (*incident.Incident, error) { return svc.RecordPostmortem(ctx, 4, "U1", "") },
		func() (*incident.Incident, error) { return svc.Close(ctx, 4, "U1") },
	} {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
	versions := func(svc *incident.Service) map[int64]int64 {
		incs, err := svc.List(ctx, incident.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[int64]int64{}
		for _, inc := range incs {
			m[inc.Number] = inc.Version
		}
		return m
	}
	before := versions(svc)

	faster := cfg
	faster.Severities = append([]incident.Severity(nil), cfg.Severities...)
	faster.Severities[1].Cadence = 10 * time.Minute // sev1
	faster.Severities[3].Cadence = 20 * time.Minute // sev3
	svc2 := incident.NewService(openStore(t, path), faster, clk.now)
	if err := svc2.Reschedule(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[int64]time.Time{1: t0.Add(10 * time.Minute), 2: t0.Add(20 * time.Minute), 3: t0.Add(60 * time.Minute), 4: {}}
	for n, w := range want {
		inc, err := svc2.Get(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if !inc.NextPromptAt.Equal(w) {
			t.Errorf("#%d NextPromptAt %v, want %v", n, inc.NextPromptAt, w)
		}
	}
	after := versions(svc2)
	if diff := cmp.Diff(map[int64]int64{1: before[1] + 1, 2: before[2] + 1, 3: before[3], 4: before[4]}, after); diff != "" {
		t.Errorf("versions after Reschedule (-want +got):\n%s", diff)
	}
	due(t, svc2, t0.Add(15*time.Minute), []int64{1}, t0.Add(20*time.Minute))

	// Nothing moved: nothing written.
	if err := svc2.Reschedule(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(after, versions(svc2)); diff != "" {
		t.Errorf("a second Reschedule changed versions (-want +got):\n%s", diff)
	}
	for n := range want {
		for _, ev := range eventsOf(t, svc2, n) {
			if ev.Kind == incident.KindPrompt {
				t.Errorf("Reschedule recorded a prompt on #%d", n)
			}
		}
	}
}

// PostmortemAt holds only a postmortem published since the last
// resolution: resolving and reopening clear it, a draft (written while the
// incident is open) does not set it, and Close relies on it.
func TestPostmortemAtFollowsResolution(t *testing.T) {
	ctx := context.Background()
	svc, clk := newService(t)
	declare(t, svc, "Checkout failing")
	publish := func() (*incident.Incident, error) {
		return svc.RecordPostmortem(ctx, 1, "U1", "https://files.example/pm")
	}
	steps := []struct {
		name string
		do   func() (*incident.Incident, error)
		set  bool // PostmortemAt is the last publication afterwards, not zero
	}{
		{"draft while open", publish, false},
		{"resolved", func() (*incident.Incident, error) { return svc.Resolve(ctx, 1, "U1", "") }, false},
		{"published", publish, true},
		{"a note", func() (*incident.Incident, error) { return svc.AddNote(ctx, 1, "U1", "x") }, true},
		{"reopened", func() (*incident.Incident, error) { return svc.Reopen(ctx, 1, "U1", "") }, false},
		{"resolved again", func() (*incident.Incident, error) { return svc.Resolve(ctx, 1, "U1", "") }, false},
		{"published again", publish, true},
		{"closed", func() (*incident.Incident, error) { return svc.Close(ctx, 1, "U1") }, true},
	}
	var published time.Time
	for _, step := range steps {
		clk.add(time.Minute)
		inc, err := step.do()
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if strings.HasPrefix(step.name, "published") {
			published = clk.now()
		}
		want := time.Time{}
		if step.set {
			want = published
		}
		if !inc.PostmortemAt.Equal(want) {
			t.Errorf("%s: PostmortemAt %v, want %v", step.name, inc.PostmortemAt, want)
		}
	}
}

// TestRaiseFromNoCadenceStartsTheClock raises a sev3, which expects no
// updates, to sev0 hours after it was declared: the first prompt comes one
// sev0 cadence after the raise, as a first prompt, not at once as an
// overdue one.
func TestRaiseFromNoCadenceStartsTheClock(t *testing.T) {
	ctx := context.Background()
	svc, clk := newService(t)
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Pricing page typo", Severity: "sev3", Actor: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	clk.add(5 * time.Hour)
	raised := clk.now()
	if inc, err = svc.SetSeverity(ctx, inc.Number, "U1", "sev0"); err != nil {
		t.Fatal(err)
	}
	p, ok := incident.NextPrompt(inc, svc.Config())
	if !ok || p.Level != 1 || !p.At.Equal(raised.Add(15*time.Minute)) {
		t.Fatalf("next prompt %+v (%v), want level 1 at %v", p, ok, raised.Add(15*time.Minute))
	}
	if sent, err := svc.SendPrompt(ctx, inc.Number); err != nil || sent {
		t.Fatalf("SendPrompt right after the raise = %v, %v; want nothing due", sent, err)
	}
	clk.add(15 * time.Minute)
	if sent, err := svc.SendPrompt(ctx, inc.Number); err != nil || !sent {
		t.Fatalf("SendPrompt a cadence after the raise = %v, %v; want a prompt", sent, err)
	}
	if inc, _ = svc.Get(ctx, inc.Number); inc.UpdatePrompts != 1 {
		t.Errorf("UpdatePrompts = %d, want the first level", inc.UpdatePrompts)
	}
}

// The update form's "next update in" sets the next prompt: due when the
// update said, overdue at twice that, and kept across a restart. The next
// update without a time goes back to the severity's cadence, as does a
// severity change.
func TestUpdateSetsNextPrompt(t *testing.T) {
	ctx := context.Background()
	cfg := triageConfig()
	path := t.TempDir() + "/sitrep.db"
	clk := &clock{t: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}
	db := openStore(t, path)
	svc := incident.NewService(db, cfg, clk.now)
	declareAt(t, svc, "sev1") // cadence 30m

	clk.add(10 * time.Minute)
	t1 := clk.now()
	upd, err := svc.PostUpdateNext(ctx, 1, "U1", "rolling back", 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if upd.UpdateEvery != 2*time.Hour || !upd.NextPromptAt.Equal(t1.Add(2*time.Hour)) {
		t.Errorf("after an update promising 2h: UpdateEvery %v, NextPromptAt %v; want 2h, %v", upd.UpdateEvery, upd.NextPromptAt, t1.Add(2*time.Hour))
	}
	if due, ok := cfg.UpdateDue(upd); !ok || !due.Equal(t1.Add(2*time.Hour)) {
		t.Errorf("UpdateDue = %v, %v; want %v, true", due, ok, t1.Add(2*time.Hour))
	}
	evs := eventsOf(t, svc, 1)
	if last := evs[len(evs)-1]; last.Kind != incident.KindUpdate || last.Data["next"] != "2h0m0s" {
		t.Errorf("update event %+v, want one recording next 2h0m0s", last)
	}

	// A restart keeps the promise.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openStore(t, path)
	svc = incident.NewService(db, cfg, clk.now)
	if err := svc.Reschedule(ctx); err != nil {
		t.Fatal(err)
	}
	clk.add(time.Hour) // past the severity's cadence: nothing due
	due(t, svc, clk.now(), nil, t1.Add(2*time.Hour))
	noPromptDue(t, svc, 1)
	clk.add(t1.Add(2 * time.Hour).Sub(clk.now()))
	if lvl := sendPrompt(t, svc, clk, 1)["level"]; lvl != "1" {
		t.Errorf("level %s, want 1", lvl)
	}
	due(t, svc, clk.now(), nil, t1.Add(4*time.Hour))

	// An update without a time: the severity's cadence again.
	upd, err = svc.PostUpdate(ctx, 1, "U1", "fixed, watching")
	if err != nil {
		t.Fatal(err)
	}
	if upd.UpdateEvery != 0 || !upd.NextPromptAt.Equal(clk.now().Add(30*time.Minute)) {
		t.Errorf("after a plain update: UpdateEvery %v, NextPromptAt %v; want 0, %v", upd.UpdateEvery, upd.NextPromptAt, clk.now().Add(30*time.Minute))
	}

	// A severity change drops a promise made under the old severity.
	if _, err := svc.PostUpdateNext(ctx, 1, "U1", "next in 4h", 4*time.Hour); err != nil {
		t.Fatal(err)
	}
	sev, err := svc.SetSeverity(ctx, 1, "U1", "sev0")
	if err != nil {
		t.Fatal(err)
	}
	if sev.UpdateEvery != 0 || !sev.NextPromptAt.Equal(clk.now().Add(15*time.Minute)) {
		t.Errorf("after raising to sev0: UpdateEvery %v, NextPromptAt %v; want 0, %v", sev.UpdateEvery, sev.NextPromptAt, clk.now().Add(15*time.Minute))
	}

	for _, bad := range []time.Duration{-time.Minute, 25 * time.Hour, 90 * time.Second} {
		if _, err := svc.PostUpdateNext(ctx, 1, "U1", "x", bad); incident.ErrorCode(err) != incident.EINVALID || incident.ErrorField(err) != "next update" {
			t.Errorf("PostUpdateNext(%v) = %v, want EINVALID on next update", bad, err)
		}
	}
}
