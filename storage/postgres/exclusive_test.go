package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func tryExclusive(t *testing.T, db *DB, key string) (func(), <-chan struct{}, bool) {
	t.Helper()
	release, lost, ok, err := db.TryExclusive(context.Background(), key)
	if err != nil {
		t.Fatalf("TryExclusive(%q): %v", key, err)
	}
	return release, lost, ok
}

// A key is held by one process at a time, not twice by the same one, and
// is free again once released.
func TestExclusive(t *testing.T) {
	a, u := openTest(t)
	b := openURL(t, u)
	release, _, ok := tryExclusive(t, a, "pass/slack/1")
	if !ok {
		t.Fatal("the first claim failed")
	}
	if _, _, ok := tryExclusive(t, b, "pass/slack/1"); ok {
		t.Error("another process claimed a held key")
	}
	if _, _, ok := tryExclusive(t, a, "pass/slack/1"); ok {
		t.Error("the holder claimed its key a second time")
	}
	if r, _, ok := tryExclusive(t, b, "pass/slack/2"); !ok {
		t.Error("another key was not free")
	} else {
		r()
	}
	release()
	release() // a second release changes nothing
	if r, _, ok := tryExclusive(t, b, "pass/slack/1"); !ok {
		t.Error("a released key could not be claimed")
	} else {
		r()
	}
	// Another installation, in another schema of the same database, has
	// keys of its own.
	other, _ := openTest(t)
	r, _, _ := tryExclusive(t, a, "pass/slack/1")
	defer r()
	if r2, _, ok := tryExclusive(t, other, "pass/slack/1"); !ok {
		t.Error("another schema's process could not claim the same key")
	} else {
		r2()
	}
}

// When the holder dies (its connection is ended from outside, as the
// database does for a killed process), it is told its claim is lost, and
// of the processes racing to take the key over exactly one gets it. No
// clock decides: a process whose clock is off takes nothing early.
func TestExclusiveTakenOverWhenHolderDies(t *testing.T) {
	ctx := context.Background()
	a, u := openTest(t)
	racers := []*DB{openURL(t, u), openURL(t, u)}
	_, lost, ok := tryExclusive(t, a, "pass/slack/7")
	if !ok {
		t.Fatal("the first claim failed")
	}
	for _, r := range racers {
		if _, _, ok := tryExclusive(t, r, "pass/slack/7"); ok {
			t.Fatal("a racer claimed the key while its holder lived")
		}
	}
	a.locks.mu.Lock()
	pid := a.locks.conn.PgConn().PID()
	a.locks.mu.Unlock()
	admin, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}

	var (
		wins    atomic.Int32
		won     atomic.Bool
		wg      sync.WaitGroup
		mu      sync.Mutex
		release []func()
	)
	deadline := time.Now().Add(30 * time.Second)
	for i := range 8 {
		db := racers[i%len(racers)]
		wg.Go(func() {
			for !won.Load() && time.Now().Before(deadline) {
				r, _, ok, err := db.TryExclusive(ctx, "pass/slack/7")
				if err != nil {
					t.Errorf("TryExclusive: %v", err)
					return
				}
				if ok {
					wins.Add(1)
					won.Store(true)
					mu.Lock()
					release = append(release, r)
					mu.Unlock()
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("%d racers took over the key, want exactly one", n)
	}
	// Every racer keeps trying after the winner: none may get it.
	for _, r := range racers {
		if _, _, ok := tryExclusive(t, r, "pass/slack/7"); ok {
			t.Error("a second racer claimed the key the winner holds")
		}
	}
	select {
	case <-lost:
	case <-time.After(30 * time.Second):
		t.Error("the dead holder was not told its claim was lost")
	}
	for _, r := range release {
		r()
	}
}
