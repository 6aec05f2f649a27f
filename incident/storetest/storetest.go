// Package storetest is the conformance suite for incident.Store: the
// behaviour every store must have, whatever holds the data. A store's own
// tests run it against a fresh database:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) incident.Store { return openTestDB(t) })
//	}
//
// The suite pins behaviour, not implementation, the way wtf's tests do: it
// reaches the store only through incident.Store. What only one kind of store
// has (SQLite's migrations, its query plans) is tested beside that store.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// Options enable the parts of the suite a store needs help with. The zero
// value runs everything that can run without help.
type Options struct {
	// Reopen returns a second handle on the database s was opened on, as
	// another process sharing it would have (for SQLite, Open on the same
	// file; for a server, a second connection pool). It must not close s.
	// With it the suite checks that incident numbers and changes are
	// shared between processes; without it those tests use s alone.
	Reopen func(t *testing.T, s incident.Store) incident.Store
	// SetNow makes s record times by now: when an event was recorded,
	// which Pending reports. Open should fix the store's clock anyway, so
	// that the suite never depends on the time it runs at; with SetNow the
	// suite also checks the recorded times themselves.
	SetNow func(s incident.Store, now func() time.Time)
}

// Run runs the suite. open must return a new, empty store, closed when its
// test ends; every subtest opens its own. opts, if given, is one Options.
func Run(t *testing.T, open func(t *testing.T) incident.Store, opts ...Options) {
	if len(opts) > 1 {
		t.Fatalf("storetest.Run: %d Options, want at most one", len(opts))
	}
	s := suite{open: open}
	if len(opts) == 1 {
		s.Options = opts[0]
	}
	for _, tc := range []struct {
		name string
		test func(*testing.T)
	}{
		{"RoundTrip", s.testRoundTrip},
		{"RoundTripEmpty", s.testRoundTripEmpty},
		{"CreateNumbers", s.testCreateNumbers},
		{"CreateFailureChangesNothing", s.testCreateFailureChangesNothing},
		{"Update", s.testUpdate},
		{"UpdateRollsBackWhenFnFails", s.testUpdateRollsBackWhenFnFails},
		{"UpdateSurvivesPanic", s.testUpdateSurvivesPanic},
		{"UpdateRefusesLosingParts", s.testUpdateRefusesLosingParts},
		{"EventKeys", s.testEventKeys},
		{"NotFound", s.testNotFound},
		{"List", s.testList},
		{"EventsAfterSeq", s.testEventsAfterSeq},
		{"PartsRoundTrip", s.testPartsRoundTrip},
		{"UpdateReturnsWhatGetReads", s.testUpdateReturnsWhatGetReads},
		{"DuePrompts", s.testDuePrompts},
		{"DuePromptsEmpty", s.testDuePromptsEmpty},
		{"DeliveryRoundTrip", s.testDeliveryRoundTrip},
		{"DeliveryRefs", s.testDeliveryRefs},
		{"DeliveryRefConflict", s.testDeliveryRefConflict},
		{"DeliveryLeavesIncidentAlone", s.testDeliveryLeavesIncidentAlone},
		{"Deliveries", s.testDeliveries},
		{"Behind", s.testBehind},
		{"BehindPerIntegration", s.testBehindPerIntegration},
		{"Pending", s.testPending},
		{"Changes", s.testChanges},
		{"ChangesIgnoreWhatIsNotAChange", s.testChangesIgnoreNonChanges},
		{"Claim", s.testClaim},
		{"Stats", s.testStats},
		{"Ping", s.testPing},
		{"ConcurrentCreates", s.testConcurrentCreates},
		{"ConcurrentUpdates", s.testConcurrentUpdates},
		{"ChangesSeenAcrossHandles", s.testChangesAcrossHandles},
		{"AlertsDeclareAttachResolve", s.testAlertsDeclareAttachResolve},
		{"AlertsResend", s.testAlertsResend},
		{"AlertsConcurrent", s.testAlertsConcurrent},
		{"AlertsCap", s.testAlertsCap},
		{"AlertsFlapping", s.testAlertsFlapping},
		{"AlertsTriageAndIgnore", s.testAlertsTriageAndIgnore},
		{"AlertTxRollsBack", s.testAlertTxRollsBack},
		{"AlertsReadTogether", s.testAlertsReadTogether},
		{"AlertsRepeatedInBatch", s.testAlertsRepeatedInBatch},
		{"AlertsTriageDecisions", s.testAlertsTriageDecisions},
		{"AlertsHoldMinAlerts", s.testAlertsHoldMinAlerts},
		{"AlertsHoldFor", s.testAlertsHoldFor},
		{"AlertsHoldDecided", s.testAlertsHoldDecided},
		{"RecordedAlerts", s.testRecordedAlerts},
		{"AlertSummary", s.testAlertSummary},
		{"Overrides", s.testOverrides},
		{"Paging", s.testPaging},
		{"PagingLate", s.testPagingLate},
		{"PagerDutyAck", s.testPagerDutyAck},
		{"PagingStarts", s.testPagingStarts},
		{"PublicRoundTrip", s.testPublicRoundTrip},
		{"Published", s.testPublished},
		{"FollowUpIssues", s.testFollowUpIssues},
		{"HeldDeclaredOnceAcrossHandles", s.testHeldDeclaredOnceAcrossHandles},
		{"PageStepsOnceAcrossHandles", s.testPageStepsOnceAcrossHandles},
		{"PromptOnceAcrossHandles", s.testPromptOnceAcrossHandles},
		{"IssueDoneOnceAcrossHandles", s.testIssueDoneOnceAcrossHandles},
	} {
		t.Run(tc.name, tc.test)
	}
}

type suite struct {
	open func(t *testing.T) incident.Store
	Options
}

// handles returns a fresh store and, when the store can be reopened, a
// second handle on it; otherwise the same handle twice.
func (s suite) handles(t *testing.T) (incident.Store, incident.Store) {
	t.Helper()
	st := s.open(t)
	if s.Reopen == nil {
		return st, st
	}
	return st, s.Reopen(t, st)
}

// t0 is when the suite's incidents happen: a fixed time, so that nothing
// depends on when the suite runs.
var t0 = time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)

// NewIncident returns a typical freshly declared incident, as the domain
// would build it.
func NewIncident(title string) *incident.Incident {
	return &incident.Incident{
		Title:        title,
		Severity:     "sev2",
		Status:       incident.Investigating,
		DeclaredBy:   "U1",
		Roles:        map[string]string{incident.CommanderRole: "U1"},
		DeclaredAt:   t0,
		UpdatedAt:    t0,
		LastUpdateAt: t0,
	}
}

// Declared is the first event of inc, as the domain records it.
func Declared(inc *incident.Incident) []incident.Event {
	return []incident.Event{{
		At:    inc.DeclaredAt,
		Kind:  incident.KindDeclared,
		Actor: inc.DeclaredBy,
		Data:  map[string]string{"severity": inc.Severity},
	}}
}

// Create stores a new incident with its declared event.
func Create(t *testing.T, st incident.Store, title string) *incident.Incident {
	t.Helper()
	inc := NewIncident(title)
	if err := st.Create(context.Background(), inc, Declared(inc)); err != nil {
		t.Fatalf("Create(%q): %v", title, err)
	}
	return inc
}

// setStatus changes the incident's status as the domain would, with an
// event.
func setStatus(t *testing.T, st incident.Store, number int64, s incident.Status) *incident.Incident {
	t.Helper()
	inc, err := st.Update(context.Background(), number, func(inc *incident.Incident) ([]incident.Event, error) {
		from := inc.Status
		inc.Status = s
		inc.UpdatedAt = inc.UpdatedAt.Add(time.Minute)
		return []incident.Event{{At: inc.UpdatedAt, Kind: incident.KindStatus, Actor: "U1",
			Data: map[string]string{"from": string(from), "to": string(s)}}}, nil
	})
	if err != nil {
		t.Fatalf("Update(%d) status %s: %v", number, s, err)
	}
	return inc
}

// note adds a note to the incident.
func note(t *testing.T, st incident.Store, number int64, text string) *incident.Incident {
	t.Helper()
	inc, err := st.Update(context.Background(), number, func(inc *incident.Incident) ([]incident.Event, error) {
		return []incident.Event{{At: inc.UpdatedAt, Kind: incident.KindNote, Actor: "U1", Text: text}}, nil
	})
	if err != nil {
		t.Fatalf("Update(%d) note: %v", number, err)
	}
	return inc
}

// quietEdit changes the incident without an event.
func quietEdit(t *testing.T, st incident.Store, number int64) *incident.Incident {
	t.Helper()
	inc, err := st.Update(context.Background(), number, func(inc *incident.Incident) ([]incident.Event, error) {
		inc.Summary += "."
		return nil, nil
	})
	if err != nil {
		t.Fatalf("Update(%d) summary: %v", number, err)
	}
	return inc
}

func get(t *testing.T, st incident.Store, number int64) *incident.Incident {
	t.Helper()
	inc, err := st.Get(context.Background(), number)
	if err != nil {
		t.Fatalf("Get(%d): %v", number, err)
	}
	return inc
}

func events(t *testing.T, st incident.Store, incidentID string) []incident.Event {
	t.Helper()
	evs, err := st.Events(context.Background(), incidentID, 0)
	if err != nil {
		t.Fatalf("Events(%s): %v", incidentID, err)
	}
	return evs
}

// lastSeq is the Seq of the incident's newest event.
func lastSeq(t *testing.T, st incident.Store, incidentID string) int64 {
	t.Helper()
	evs := events(t, st, incidentID)
	if len(evs) == 0 {
		t.Fatalf("incident %s has no events", incidentID)
	}
	return evs[len(evs)-1].Seq
}

func numbers(incs []*incident.Incident) []int64 {
	var ns []int64
	for _, inc := range incs {
		ns = append(ns, inc.Number)
	}
	return ns
}

func second[T any](_ T, err error) error { return err }
