package sqlite

import (
	"context"
	"path/filepath"
	"testing"
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
