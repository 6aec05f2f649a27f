package incident_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/sitrep-dev/sitrep/incident"
)

// TestDeclaredForASource: Sitrep declares for an alert source with no
// commander; the first person to take command gets it, the next is told
// who has it, and the change is on the timeline.
func TestDeclaredForASource(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	for _, d := range []incident.Declaration{
		{Title: "Disk full"},
		{Title: "Disk full", Actor: "U1", Source: "alertmanager"},
	} {
		if _, err := svc.Declare(ctx, d); incident.ErrorCode(err) != incident.EINVALID {
			t.Errorf("Declare(%+v) = %v, want EINVALID", d, err)
		}
	}
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Disk full on db-1", Source: "alertmanager"})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Commander() != "" || inc.DeclaredBy != "" || inc.Source != "alertmanager" {
		t.Fatalf("declared for a source: commander %q, declared by %q, source %q", inc.Commander(), inc.DeclaredBy, inc.Source)
	}
	got, _ := svc.Get(ctx, inc.Number)
	if got.Source != "alertmanager" || got.Commander() != "" {
		t.Errorf("stored: source %q, commander %q", got.Source, got.Commander())
	}
	if inc, err = svc.TakeCommand(ctx, inc.Number, "U2"); err != nil || inc.Commander() != "U2" {
		t.Fatalf("TakeCommand = %v, %v; want U2 in command", inc, err)
	}
	_, err = svc.TakeCommand(ctx, inc.Number, "U3")
	var e *incident.Error
	if !errors.As(err, &e) || e.Code != incident.ECONFLICT || !slices.Equal(e.People["commander"], []string{"U2"}) {
		t.Errorf("a second TakeCommand = %v, want ECONFLICT naming U2", err)
	}
	_, evs, err := svc.Timeline(ctx, inc.Number)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Data["source"] != "alertmanager" || evs[1].Kind != incident.KindRole || evs[1].Data["user"] != "U2" {
		t.Errorf("timeline = %+v", evs)
	}
}
