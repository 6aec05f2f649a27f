package sqlite_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

func TestHookSecrets(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"one", "two", "one"} {
		if err := db.SaveHookSecret(ctx, "asana", s, now); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	db.Close()
	db, err = sqlite.Open(ctx, path) // kept across a restart
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.HookSecrets(ctx, "asana")
	if err != nil || !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("HookSecrets = %q, %v", got, err)
	}
	if got, err := db.HookSecrets(ctx, "jira"); err != nil || len(got) != 0 {
		t.Fatalf("another tracker's = %q, %v", got, err)
	}
}
