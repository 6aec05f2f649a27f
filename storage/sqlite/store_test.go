package sqlite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
)

// Every field survives a round trip: times in any zone, with nanoseconds and
// monotonic readings, come back Equal and in UTC; zero times stay zero.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)

	berlin := time.FixedZone("CEST", 2*60*60)
	declaredAt := time.Date(2025, 6, 1, 14, 3, 4, 123456789, berlin)
	inc := &incident.Incident{
		ID:         "0b5c8f1e-6d2a-4c1e-9a57-2f6e1c9d8b10",
		Title:      "Checkout returns 500 — \"payments\" 🔥",
		Severity:   "sev1",
		Status:     incident.Identified,
		Summary:    "summary",
		Impact:     "EU customers cannot pay",
		RootCause:  "expired cert",
		Services:   []string{"checkout", "payments"},
		Private:    true,
		Drill:      true,
		DeclaredBy: "U1",
		Roles:      map[string]string{incident.CommanderRole: "U1", "comms": "U2", "scribe": "U3"},
		DeclaredAt: declaredAt,
		ResolvedAt: declaredAt.Add(90 * time.Minute),
		UpdatedAt:  time.Now(), // monotonic, local zone
		Version:    42,         // Create sets it to 1
		Number:     7,          // Create assigns it
	}
	events := []incident.Event{
		{At: declaredAt, Kind: incident.KindDeclared, Actor: "U1", Data: map[string]string{"severity": "sev1"}},
		{At: time.Now(), Kind: incident.KindNote, Actor: "U2", Text: "looking at the LB\nsecond line", Source: "https://x.slack.com/archives/C1/p1"},
		{At: declaredAt.Add(time.Nanosecond), Kind: incident.KindRole, Actor: "U1", Data: map[string]string{"role": "comms", "user": "U2", "previous": ""}},
	}
	if err := db.Create(ctx, inc, events); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if inc.Number != 1 || inc.Version != 1 || inc.ID != "0b5c8f1e-6d2a-4c1e-9a57-2f6e1c9d8b10" {
		t.Errorf("after Create: Number %d Version %d ID %q, want 1, 1 and the given ID", inc.Number, inc.Version, inc.ID)
	}
	for i, e := range events {
		if e.IncidentID != inc.ID || e.Seq == 0 || (i > 0 && e.Seq <= events[i-1].Seq) {
			t.Errorf("event %d: IncidentID %q Seq %d; want the incident's ID and increasing seqs", i, e.IncidentID, e.Seq)
		}
	}

	got, err := db.Get(ctx, 1)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff(inc, got); diff != "" {
		t.Errorf("Get after Create (-want +got):\n%s", diff)
	}
	for _, tm := range []time.Time{got.DeclaredAt, got.ResolvedAt, got.UpdatedAt} {
		if tm.Location() != time.UTC {
			t.Errorf("time %v is not in UTC", tm)
		}
	}
	if !got.ClosedAt.IsZero() {
		t.Errorf("ClosedAt = %v, want zero", got.ClosedAt)
	}

	gotEvents, err := db.Events(ctx, inc.ID, 0)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	if diff := cmp.Diff(events, gotEvents); diff != "" {
		t.Errorf("Events (-want +got):\n%s", diff)
	}
	if gotEvents[0].At.Location() != time.UTC {
		t.Errorf("event time %v is not in UTC", gotEvents[0].At)
	}

	chat := incident.Chat{
		ChannelID: "C123", ChannelName: "inc-1-checkout", CardTS: "1717250000.000100", CardPinned: true,
		CardVersion: 1, Topic: "sev1 · identified", Cursor: events[2].Seq, AnnounceCursor: events[1].Seq, Problem: "pin failed: not_in_channel",
	}
	if err := db.SaveChat(ctx, inc.ID, chat); err != nil {
		t.Fatalf("SaveChat: %v", err)
	}
	want := *inc
	want.Chat = chat
	if got, err = db.Get(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("Get after SaveChat (-want +got):\n%s", diff)
	}
	if got, err = db.GetByChannel(ctx, "C123"); err != nil {
		t.Fatalf("GetByChannel: %v", err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("GetByChannel (-want +got):\n%s", diff)
	}
}

// Empty values have one stored form and come back the same way: no services
// is nil, no data is nil, and Roles is never nil so callers may assign to it.
func TestRoundTripEmpty(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	inc := &incident.Incident{Title: "t", Severity: "sev3", Status: incident.Investigating,
		Services: []string{}, DeclaredAt: at, UpdatedAt: at}
	events := []incident.Event{{At: at, Kind: incident.KindNote, Data: map[string]string{}}}
	if err := db.Create(ctx, inc, events); err != nil {
		t.Fatal(err)
	}
	if inc.ID == "" {
		t.Error("Create did not assign an ID")
	}
	got, err := db.Get(ctx, inc.Number)
	if err != nil {
		t.Fatal(err)
	}
	want := *inc
	want.Services = nil
	want.Roles = map[string]string{}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	gotEvents, err := db.Events(ctx, inc.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotEvents) != 1 || gotEvents[0].Data != nil {
		t.Errorf("events = %+v, want one with nil Data", gotEvents)
	}
}

// A failed Create stores nothing, leaves the caller's values alone, and
// uses up no number.
func TestCreateFailureChangesNothing(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	inc := newIncident("bad")
	events := []incident.Event{{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Kind: incident.KindNote}}
	if err := db.Create(ctx, inc, events); err == nil {
		t.Fatal("Create with an unstorable time succeeded")
	}
	if inc.ID != "" || inc.Number != 0 || inc.Version != 0 || events[0].Seq != 0 || events[0].IncidentID != "" {
		t.Errorf("failed Create changed its arguments: %+v %+v", inc, events[0])
	}
	if all, _ := db.List(ctx, incident.ListFilter{}); len(all) != 0 {
		t.Errorf("failed Create stored %d incidents", len(all))
	}
	if got := create(t, db, "good"); got.Number != 1 {
		t.Errorf("next Create got #%d, want #1", got.Number)
	}
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	inc := create(t, db, "API slow")
	other := create(t, db, "Other")
	chat := incident.Chat{ChannelID: "C1", CardVersion: 1, Cursor: 1}
	if err := db.SaveChat(ctx, inc.ID, chat); err != nil {
		t.Fatal(err)
	}

	resolvedAt := time.Now().Add(time.Hour)
	var fnEvents []incident.Event
	got, err := db.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
		i.Title = "API slow in eu-west"
		i.Severity = "sev1"
		i.Status = incident.Resolved
		i.Summary, i.Impact, i.RootCause = "fixed", "slow pages", "bad deploy"
		i.Services = []string{"api"}
		i.Private, i.Drill = true, true
		i.ResolvedAt = resolvedAt
		i.UpdatedAt = resolvedAt
		delete(i.Roles, "nobody")
		i.Roles["scribe"] = "U9"
		i.Roles[incident.CommanderRole] = "U2"
		// Not the domain's to change; Update ignores these.
		i.Chat = incident.Chat{ChannelID: "C-evil"}
		i.Number, i.Version, i.ID = 99, 99, "evil"
		fnEvents = []incident.Event{
			{At: resolvedAt, Kind: incident.KindResolved, Actor: "U2", Text: "fixed", Data: map[string]string{"from": "investigating"}},
			{At: resolvedAt, Kind: incident.KindRole, Actor: "U2", Data: map[string]string{"role": "scribe", "user": "U9"}},
		}
		return fnEvents, nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}

	want := *inc
	want.Title = "API slow in eu-west"
	want.Severity = "sev1"
	want.Status = incident.Resolved
	want.Summary, want.Impact, want.RootCause = "fixed", "slow pages", "bad deploy"
	want.Services = []string{"api"}
	want.Private, want.Drill = true, true
	want.ResolvedAt = resolvedAt
	want.UpdatedAt = resolvedAt
	want.Roles = map[string]string{incident.CommanderRole: "U2", "scribe": "U9"}
	want.Version = 2
	want.Chat = chat
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("Update result (-want +got):\n%s", diff)
	}
	stored, err := db.Get(ctx, inc.Number)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, stored); diff != "" {
		t.Errorf("Get differs from Update's result (-update +get):\n%s", diff)
	}

	events, err := db.Events(ctx, inc.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 || events[1].Kind != incident.KindResolved || events[2].Kind != incident.KindRole {
		t.Fatalf("events = %+v, want declared, resolved, role", events)
	}
	for i, e := range fnEvents {
		if e.Seq != events[i+1].Seq || e.IncidentID != inc.ID {
			t.Errorf("fn event %d: Seq %d IncidentID %q, want %d %q", i, e.Seq, e.IncidentID, events[i+1].Seq, inc.ID)
		}
	}

	// The other incident is untouched.
	if o, err := db.Get(ctx, other.Number); err != nil || o.Version != 1 || o.Title != "Other" {
		t.Errorf("other incident = %+v, %v; want it unchanged", o, err)
	}
}

func TestUpdateRollsBackWhenFnFails(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	inc := create(t, db, "Stable")
	before, err := db.Get(ctx, inc.Number)
	if err != nil {
		t.Fatal(err)
	}

	for _, fnErr := range []error{
		errors.New("boom"),
		incident.Errorf(incident.ECONFLICT, "Incident #1 is already resolved."),
	} {
		got, err := db.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
			i.Title = "changed"
			i.Roles["comms"] = "U5"
			return []incident.Event{{At: time.Now(), Kind: incident.KindNote, Text: "x"}}, fnErr
		})
		if err != fnErr {
			t.Errorf("Update returned %v, want fn's error %v unchanged", err, fnErr)
		}
		if got != nil {
			t.Errorf("Update returned an incident with an error: %+v", got)
		}
	}

	after, err := db.Get(ctx, inc.Number)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("failed Update changed the incident (-before +after):\n%s", diff)
	}
	if events, _ := db.Events(ctx, inc.ID, 0); len(events) != 1 {
		t.Errorf("failed Update left %d events, want 1", len(events))
	}
	if n, _ := db.Unsynced(ctx); !slices.Equal(n, []int64{1}) {
		t.Errorf("Unsynced = %v, want [1] (only the never-synced incident)", n)
	}
}

// A panicking fn must roll back and release the single write connection;
// otherwise every later write would hang.
func TestUpdateSurvivesPanic(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	inc := create(t, db, "p")
	func() {
		defer func() { recover() }()
		db.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
			i.Title = "half done"
			panic("bug")
		})
	}()
	// Were the connection leaked, this would wait for it until the deadline.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, err := db.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) { return nil, nil })
	if err != nil {
		t.Fatalf("Update after a panicking Update: %v", err)
	}
	if got.Title != "p" || got.Version != 2 {
		t.Errorf("after a panicking Update: Title %q Version %d, want %q 2", got.Title, got.Version, "p")
	}
}

func TestNotFound(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	create(t, db, "exists") // has no channel, so must not match ""

	called := false
	_, err := db.Update(ctx, 99, func(*incident.Incident) ([]incident.Event, error) { called = true; return nil, nil })
	if called {
		t.Error("Update called fn for a missing incident")
	}
	for name, err := range map[string]error{
		"Update":           err,
		"Get":              second(db.Get(ctx, 99)),
		"GetByChannel":     second(db.GetByChannel(ctx, "C-none")),
		"GetByChannel('')": second(db.GetByChannel(ctx, "")),
		"SaveChat":         db.SaveChat(ctx, "no-such-id", incident.Chat{ChannelID: "C9"}),
	} {
		if incident.ErrorCode(err) != incident.ENOTFOUND {
			t.Errorf("%s: err = %v, want ENOTFOUND", name, err)
		}
	}
	if msg := incident.ErrorMessage(second(db.Get(ctx, 99))); msg != "There is no incident #99." {
		t.Errorf("Get message = %q", msg)
	}
}

func second[T any](_ T, err error) error { return err }

func TestChat(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	a := create(t, db, "a")
	b := create(t, db, "b")
	if err := db.SaveChat(ctx, a.ID, incident.Chat{ChannelID: "CA", ChannelName: "inc-1-a"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveChat(ctx, b.ID, incident.Chat{ChannelID: "CB"}); err != nil {
		t.Fatal(err)
	}
	for ch, want := range map[string]int64{"CA": a.Number, "CB": b.Number} {
		got, err := db.GetByChannel(ctx, ch)
		if err != nil || got.Number != want {
			t.Errorf("GetByChannel(%s) = %v, %v; want #%d", ch, got, err, want)
		}
	}

	// A channel belongs to one incident.
	err := db.SaveChat(ctx, b.ID, incident.Chat{ChannelID: "CA"})
	if incident.ErrorCode(err) != incident.ECONFLICT {
		t.Errorf("SaveChat with a taken channel: err = %v, want ECONFLICT", err)
	}
	// Several incidents may have no channel yet.
	if err := db.SaveChat(ctx, b.ID, incident.Chat{Problem: "create channel: name_taken"}); err != nil {
		t.Errorf("clearing b's channel: %v", err)
	}
	if err := db.SaveChat(ctx, a.ID, incident.Chat{}); err != nil {
		t.Errorf("clearing a's channel: %v", err)
	}

	// SaveChat leaves the domain alone, and Version with it.
	got, err := db.Get(ctx, b.Number)
	if err != nil {
		t.Fatal(err)
	}
	want := *b
	want.Chat = incident.Chat{Problem: "create channel: name_taken"}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	if got, err := db.List(ctx, incident.ListFilter{}); err != nil || len(got) != 0 {
		t.Fatalf("List of an empty store = %v, %v", got, err)
	}
	for _, title := range []string{"1", "2", "3", "4", "5"} {
		create(t, db, title)
	}
	setStatus(t, db, 2, incident.Resolved)
	setStatus(t, db, 4, incident.Closed)
	setStatus(t, db, 5, incident.Monitoring)

	for _, tc := range []struct {
		f    incident.ListFilter
		want []int64
	}{
		{incident.ListFilter{}, []int64{5, 4, 3, 2, 1}},
		{incident.ListFilter{OpenOnly: true}, []int64{5, 3, 1}},
		{incident.ListFilter{Limit: 2}, []int64{5, 4}},
		{incident.ListFilter{OpenOnly: true, Limit: 2}, []int64{5, 3}},
		{incident.ListFilter{Limit: 10}, []int64{5, 4, 3, 2, 1}},
		{incident.ListFilter{Limit: -1}, []int64{5, 4, 3, 2, 1}},
	} {
		got, err := db.List(ctx, tc.f)
		if err != nil {
			t.Fatalf("List(%+v): %v", tc.f, err)
		}
		if !slices.Equal(numbers(got), tc.want) {
			t.Errorf("List(%+v) = %v, want %v", tc.f, numbers(got), tc.want)
		}
	}
	// List returns whole incidents, roles included.
	got, _ := db.List(ctx, incident.ListFilter{Limit: 1})
	if got[0].Commander() != "U1" || got[0].Status != incident.Monitoring || got[0].Version != 2 {
		t.Errorf("List entry = %+v", got[0])
	}
}

func TestEventsAfterSeq(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	a := newIncident("a")
	at := a.DeclaredAt
	evs := []incident.Event{
		{At: at, Kind: incident.KindDeclared},
		{At: at, Kind: incident.KindNote, Text: "one"},
		{At: at, Kind: incident.KindNote, Text: "two"},
	}
	if err := db.Create(ctx, a, evs); err != nil {
		t.Fatal(err)
	}
	b := create(t, db, "b") // interleaves its own events
	setStatus(t, db, a.Number, incident.Identified)

	all, err := db.Events(ctx, a.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 {
		t.Fatalf("%d events, want 4", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq || all[i].IncidentID != a.ID {
			t.Fatalf("events out of order or foreign: %+v", all)
		}
	}
	for _, tc := range []struct {
		after int64
		want  []int64
	}{
		{evs[0].Seq, []int64{evs[1].Seq, evs[2].Seq, all[3].Seq}},
		{evs[2].Seq, []int64{all[3].Seq}},
		{all[3].Seq, nil},
	} {
		got, err := db.Events(ctx, a.ID, tc.after)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, e := range got {
			seqs = append(seqs, e.Seq)
		}
		if !slices.Equal(seqs, tc.want) {
			t.Errorf("Events(after %d) = %v, want %v", tc.after, seqs, tc.want)
		}
	}
	if got, err := db.Events(ctx, "no-such-id", 0); err != nil || len(got) != 0 {
		t.Errorf("Events of an unknown incident = %v, %v; want none", got, err)
	}
	if got, _ := db.Events(ctx, b.ID, 0); len(got) != 1 {
		t.Errorf("b has %d events, want 1", len(got))
	}
}

func TestUnsynced(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	unsynced := func(want ...int64) {
		t.Helper()
		got, err := db.Unsynced(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Unsynced = %v, want %v", got, want)
		}
	}
	// sync records that the adapter has shown everything up to now.
	sync := func(inc *incident.Incident) {
		t.Helper()
		cur, err := db.Get(ctx, inc.Number)
		if err != nil {
			t.Fatal(err)
		}
		events, err := db.Events(ctx, inc.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		c := cur.Chat
		c.CardVersion, c.Cursor, c.AnnounceCursor = cur.Version, events[len(events)-1].Seq, events[len(events)-1].Seq
		if err := db.SaveChat(ctx, inc.ID, c); err != nil {
			t.Fatal(err)
		}
	}

	unsynced()
	a, b, c := create(t, db, "a"), create(t, db, "b"), create(t, db, "c")
	unsynced(1, 2, 3) // new: no card, events undelivered
	sync(b)
	unsynced(1, 3)
	sync(c)
	sync(a)
	unsynced()

	// A change with an event lags on both counts.
	setStatus(t, db, a.Number, incident.Identified)
	unsynced(1)
	sync(a)
	unsynced()

	// A change without events lags only on the card.
	if _, err := db.Update(ctx, c.Number, func(i *incident.Incident) ([]incident.Event, error) {
		i.Summary = "quiet edit"
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	unsynced(3)
	sync(c)

	// A current card with undelivered events lags.
	cur, _ := db.Get(ctx, b.Number)
	ch := cur.Chat
	ch.Cursor = 0
	if err := db.SaveChat(ctx, b.ID, ch); err != nil {
		t.Fatal(err)
	}
	unsynced(2)
	sync(b)

	// So does one whose announcements lag behind its channel messages.
	cur, _ = db.Get(ctx, b.Number)
	ch = cur.Chat
	ch.AnnounceCursor = 0
	if err := db.SaveChat(ctx, b.ID, ch); err != nil {
		t.Fatal(err)
	}
	unsynced(2)
	sync(b)

	// Oldest first, whatever order they fell behind in.
	setStatus(t, db, c.Number, incident.Monitoring)
	setStatus(t, db, a.Number, incident.Monitoring)
	unsynced(1, 3)
}

// TestUpdateReturnsWhatGetReads walks an incident through every kind of
// change the domain makes and checks after each that what Update returned
// is exactly what Get reads back: Update does not read the incident back
// itself.
func TestUpdateReturnsWhatGetReads(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	cfg := incident.DefaultConfig()
	cfg.Checklist = []incident.ChecklistItem{
		{ID: "deploy", Kind: incident.Question, Text: "Was there a deployment recently?", Suggestion: "Consider rolling back."},
		{ID: "logs", Kind: incident.Task, Text: "Look at the logs"},
		{ID: "customers", Kind: incident.Question, Text: "Are customers affected?", From: "sev1"},
	}
	// A clock in another zone, with a monotonic reading: the service
	// stores UTC; Update must return what the store holds.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	svc := incident.NewService(db, cfg, func() time.Time { return time.Now().In(berlin) })
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout failing", Severity: "sev2", Actor: "U1", Services: []string{"checkout"}})
	if err != nil {
		t.Fatal(err)
	}
	n := inc.Number
	for _, step := range []struct {
		name string
		do   func() (*incident.Incident, error)
	}{
		{"status", func() (*incident.Incident, error) { return svc.SetStatus(ctx, n, "U1", incident.Identified) }},
		{"severity raised, adding checklist items", func() (*incident.Incident, error) { return svc.SetSeverity(ctx, n, "U1", "sev1") }},
		{"role", func() (*incident.Incident, error) { return svc.AssignRole(ctx, n, "U1", "comms", "U2") }},
		{"commander handed over", func() (*incident.Incident, error) { return svc.AssignRole(ctx, n, "U1", "lead", "U3") }},
		{"note", func() (*incident.Incident, error) { return svc.AddNote(ctx, n, "U2", "Database looks fine") }},
		{"update", func() (*incident.Incident, error) { return svc.PostUpdate(ctx, n, "U3", "Failing over") }},
		{"answer", func() (*incident.Incident, error) { return svc.Answer(ctx, n, "U2", "deploy", "yes") }},
		{"answer again", func() (*incident.Incident, error) { return svc.Answer(ctx, n, "U2", "deploy", "no") }},
		{"follow-up", func() (*incident.Incident, error) { return svc.AddFollowUp(ctx, n, "U2", "Add a canary", "U4") }},
		{"follow-up done", func() (*incident.Incident, error) { return svc.CompleteFollowUp(ctx, n, "U4", 1) }},
		{"resolve", func() (*incident.Incident, error) { return svc.Resolve(ctx, n, "U3", "Failed over") }},
		{"reopen", func() (*incident.Incident, error) { return svc.Reopen(ctx, n, "U3", "Errors are back") }},
		{"resolve again", func() (*incident.Incident, error) { return svc.Resolve(ctx, n, "U3", "") }},
		{"postmortem", func() (*incident.Incident, error) {
			return svc.RecordPostmortem(ctx, n, "U3", "https://example.com/pm")
		}},
		{"a change with times in another zone, and emptied lists", func() (*incident.Incident, error) {
			return db.Update(ctx, n, func(i *incident.Incident) ([]incident.Event, error) {
				now := time.Now().In(berlin)
				i.UpdatedAt, i.ClosedAt = now, now
				i.Checklist[1].Answer, i.Checklist[1].AnsweredBy, i.Checklist[1].AnsweredAt = "done", "U2", now
				i.FollowUps[0].DoneAt = now
				i.Services = []string{}
				return nil, nil
			})
		}},
		{"close", func() (*incident.Incident, error) { return svc.Close(ctx, n, "U3") }},
	} {
		got, err := step.do()
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		read, err := db.Get(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(read, got); diff != "" {
			t.Errorf("after %s, Update returned what Get does not read (-Get +Update):\n%s", step.name, diff)
		}
		// The same values, not only Equal ones: no time in another zone
		// or with a monotonic reading.
		if fmt.Sprintf("%#v", read) != fmt.Sprintf("%#v", got) {
			t.Errorf("after %s, Update returned\n%#v\nGet reads\n%#v", step.name, got, read)
		}
	}
}
