package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// openTest opens a fresh database file in a temporary directory and closes
// it when the test ends.
func openTest(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sitrep.db")
	return openPath(t, path), path
}

func openPath(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newIncident returns a typical freshly declared incident, as the domain
// would build it.
func newIncident(title string) *incident.Incident {
	now := time.Now() // carries a monotonic reading, which storage must drop
	return &incident.Incident{
		Title:      title,
		Severity:   "sev2",
		Status:     incident.Investigating,
		DeclaredBy: "U1",
		Roles:      map[string]string{incident.CommanderRole: "U1"},
		DeclaredAt: now,
		UpdatedAt:  now,
	}
}

func declared(inc *incident.Incident) []incident.Event {
	return []incident.Event{{
		At:    inc.DeclaredAt,
		Kind:  incident.KindDeclared,
		Actor: inc.DeclaredBy,
		Data:  map[string]string{"severity": inc.Severity},
	}}
}

// create stores a new incident with its declared event.
func create(t *testing.T, db *DB, title string) *incident.Incident {
	t.Helper()
	inc := newIncident(title)
	if err := db.Create(context.Background(), inc, declared(inc)); err != nil {
		t.Fatalf("Create(%q): %v", title, err)
	}
	return inc
}
