package sqlite

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// TestAlertGroupsWrittenAtCommit: a group stored several times in one
// batch is read back, in the batch, as last stored and as the table would
// give it; it is written once, before the commit, keeping the triage
// message's state that only SaveTriage writes; a batch that fails writes
// none of it.
func TestAlertGroupsWrittenAtCommit(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	put := func(fn func(tx incident.AlertTx) error) error { return db.RecordAlerts(ctx, fn) }

	if err := put(func(tx incident.AlertTx) error {
		for v := int64(1); v <= 3; v++ {
			g, err := tx.Group("g")
			if err != nil {
				return err
			}
			if v == 1 {
				if g != nil {
					t.Errorf("a new group read as %+v", g)
				}
				g = &incident.AlertGroup{Key: "g", Route: "pages", CreatedAt: t0}
			} else if g == nil || g.Version != v-1 || !g.CreatedAt.Equal(t0) || g.CreatedAt.Location() != time.UTC {
				t.Errorf("the group read back in the batch: %+v, want version %d, created at %s in UTC", g, v-1, t0)
			}
			g.State, g.Version, g.UpdatedAt, g.Services = incident.GroupTriage, v, t0.Add(time.Duration(v)*time.Second), []string{}
			if err := tx.PutGroup(g); err != nil {
				return err
			}
			g.Version = 99 // the caller's copy is not the stored one
		}
		g, _ := tx.Group("g")
		if g.Services != nil {
			t.Errorf("empty services read back as %#v, want nil as the table gives", g.Services)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveTriage(ctx, "g", "1700000000.000100", 3, false); err != nil {
		t.Fatal(err)
	}
	if err := put(func(tx incident.AlertTx) error {
		g, err := tx.Group("g")
		if err != nil {
			return err
		}
		if g.Version != 3 || g.TriageTS != "1700000000.000100" || g.TriageShown != 3 {
			t.Errorf("the group after the batch and SaveTriage: %+v", g)
		}
		g.Version, g.Services = 4, []string{"checkout"}
		if err := tx.PutGroup(g); err != nil {
			return err
		}
		if back, _ := tx.Group("g"); back.TriageTS != "1700000000.000100" || !slices.Equal(back.Services, []string{"checkout"}) {
			t.Errorf("the group read back in the batch: %+v, want the triage message kept and the services stored", back)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := put(func(tx incident.AlertTx) error {
		g, _ := tx.Group("g")
		g.Version = 5
		if err := tx.PutGroup(g); err != nil {
			return err
		}
		if err := tx.PutGroup(&incident.AlertGroup{Key: "new", State: incident.GroupTriage, CreatedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("a failing batch returned %v", err)
	}
	behind, err := db.TriageBehind(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(behind) != 1 || behind[0].Key != "g" || behind[0].Version != 4 || behind[0].TriageTS != "1700000000.000100" ||
		!slices.Equal(behind[0].Services, []string{"checkout"}) || !behind[0].CreatedAt.Equal(t0) {
		t.Errorf("groups after the batches: %+v, want g at version 4 with its triage message and services, created at %s", behind, t0)
	}
	// A group the table refuses fails the batch, which commits nothing.
	if err := put(func(tx incident.AlertTx) error {
		return tx.PutGroup(&incident.AlertGroup{Key: "bad", State: "exploded", CreatedAt: t0, UpdatedAt: t0})
	}); err == nil {
		t.Error("a group in an unknown state was stored")
	}
}
