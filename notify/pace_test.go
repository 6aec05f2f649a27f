package notify

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/internal/clock"
)

func testPacer() (*Pacer, *clock.Fake) {
	clk := clock.NewFake(time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC))
	return NewPacer(clk, func(key string) Limit {
		if key == "free" {
			return Limit{}
		}
		return Limit{Every: 3 * time.Second, Burst: 2}
	}), clk
}

// waitAll starts a Wait for each key in order, each after the one before
// has taken its place in line, and returns the channels they report on.
func waitAll(t *testing.T, p *Pacer, clk *clock.Fake, keys ...string) []chan error {
	t.Helper()
	var out []chan error
	for _, k := range keys {
		done := make(chan error, 1)
		before := clk.Waiting()
		go func() { done <- p.Wait(context.Background(), k) }()
		// Wait returns at once or sleeps on the clock: either way it
		// has reserved its turn before the next one asks.
		for clk.Waiting() == before && len(done) == 0 {
			time.Sleep(time.Millisecond)
		}
		out = append(out, done)
	}
	return out
}

func gone(c chan error) bool { return len(c) > 0 }

// TestPacerTurns checks the burst, then one call per interval in the order
// asked, each key apart, and no limit for a key without one.
func TestPacerTurns(t *testing.T) {
	p, clk := testPacer()
	w := waitAll(t, p, clk, "a", "a", "a", "a", "b", "free")
	if !gone(w[0]) || !gone(w[1]) || gone(w[2]) || gone(w[3]) {
		t.Fatalf("after the burst of 2: went %v %v %v %v, want the first two only", gone(w[0]), gone(w[1]), gone(w[2]), gone(w[3]))
	}
	if !gone(w[4]) || !gone(w[5]) {
		t.Error("another key, or one without a limit, waited on a's turns")
	}
	if d := p.Delay("a"); d != 9*time.Second {
		t.Errorf("Delay(a) = %v with two in line, want 9s", d)
	}
	clk.Advance(3 * time.Second)
	if err := <-w[2]; err != nil {
		t.Fatal(err)
	}
	if gone(w[3]) {
		t.Error("the fourth call went with the third")
	}
	clk.Advance(3 * time.Second)
	if err := <-w[3]; err != nil {
		t.Fatal(err)
	}
}

// TestPacerHold checks that after a refusal nobody calls the key until the
// time asked for, and that Delay says so without taking a turn.
func TestPacerHold(t *testing.T) {
	p, clk := testPacer()
	p.Hold("free", 10*time.Second)
	if d := p.Delay("free"); d != 10*time.Second {
		t.Errorf("Delay = %v while held, want 10s", d)
	}
	if d := p.Delay("free"); d != 10*time.Second {
		t.Errorf("Delay took a turn: second Delay = %v", d)
	}
	w := waitAll(t, p, clk, "free")
	clk.Advance(9 * time.Second)
	if gone(w[0]) {
		t.Fatal("a held key went before its time")
	}
	clk.Advance(time.Second)
	if err := <-w[0]; err != nil {
		t.Fatal(err)
	}
	if d := p.Delay("free"); d != 0 {
		t.Errorf("Delay = %v after the hold, want 0", d)
	}
}

// TestPacerCancel checks that a wait given up returns its place.
func TestPacerCancel(t *testing.T) {
	p, clk := testPacer()
	waitAll(t, p, clk, "a", "a")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var err error
	wg.Go(func() { err = p.Wait(ctx, "a") })
	for clk.Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
	if err != context.Canceled {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
	if d := p.Delay("a"); d != 3*time.Second {
		t.Errorf("Delay = %v after a cancelled wait, want 3s: the place was not given back", d)
	}
}
