package postgres

import (
	"context"
	"slices"
	"testing"
	"time"
)

// Hook secrets are kept once each, oldest first, per tracker, and one
// replica reads what another saved.
func TestHookSecrets(t *testing.T) {
	ctx := context.Background()
	db, u := openTest(t)
	other := openURL(t, u)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"one", "two", "one"} {
		if err := db.SaveHookSecret(ctx, "asana", s, now); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	got, err := other.HookSecrets(ctx, "asana")
	if err != nil || !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("HookSecrets = %q, %v; want one, two", got, err)
	}
	if got, err := other.HookSecrets(ctx, "jira"); err != nil || len(got) != 0 {
		t.Fatalf("another tracker's = %q, %v", got, err)
	}
}
