package playground

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// TestKeeper saves a workspace, changes it and saves again, and loads it
// in a new fake: the file always holds a whole workspace, the last one
// saved, and nothing else is left in the folder.
func TestKeeper(t *testing.T) {
	dir := t.TempDir()
	path := StatePath(filepath.Join(dir, "sitrep.db"))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	fake := slackfake.New()
	defer fake.Close()
	Seed(fake)
	k := NewKeeper(fake, path, log)
	if ok, err := k.Load(); ok || err != nil {
		t.Fatalf("Load() without a file = %v, %v", ok, err)
	}
	if err := k.Save(); err != nil {
		t.Fatal(err)
	}
	general, _ := fake.ChannelByName("general")
	fake.AddMessage(general.ID, "U0BOB", "after the first save")
	if err := k.Save(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != filepath.Base(path) {
		t.Errorf("the folder holds %v, want only %s", entries, filepath.Base(path))
	}

	again := slackfake.New()
	defer again.Close()
	if ok, err := NewKeeper(again, path, log).Load(); !ok || err != nil {
		t.Fatalf("Load() = %v, %v", ok, err)
	}
	if diff := cmp.Diff(fake.Messages(general.ID), again.Messages(general.ID)); diff != "" {
		t.Errorf("#general after a load (-saved +loaded):\n%s", diff)
	}
}
