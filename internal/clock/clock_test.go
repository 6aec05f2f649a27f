package clock

import (
	"testing"
	"time"
)

func TestFakeUntil(t *testing.T) {
	start := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	f := NewFake(start)
	past := f.Until(start)
	later := f.Until(start.Add(time.Minute))
	select {
	case <-past:
	default:
		t.Fatal("a wait for a moment already reached did not end at once")
	}
	if n := f.Waiting(); n != 1 {
		t.Errorf("Waiting() = %d with one wait under way", n)
	}
	f.Advance(59 * time.Second)
	select {
	case <-later:
		t.Fatal("the wait ended before its moment")
	default:
	}
	f.Advance(time.Second)
	select {
	case got := <-later:
		if !got.Equal(start.Add(time.Minute)) {
			t.Errorf("woke with %v, want the time reached", got)
		}
	default:
		t.Fatal("the wait did not end when its moment came")
	}
	if n := f.Waiting(); n != 0 {
		t.Errorf("Waiting() = %d after the wait ended", n)
	}
	if !f.Now().Equal(start.Add(time.Minute)) {
		t.Errorf("Now = %v", f.Now())
	}
}

// A corrected clock shows its base's time moved by the offset, and waits
// for the base's moment that corresponds to its own.
func TestCorrected(t *testing.T) {
	start := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	base := NewFake(start)
	c := NewCorrected(base, -30*time.Second)
	if got := c.Now(); !got.Equal(start.Add(-30 * time.Second)) {
		t.Fatalf("Now = %v, want the base's time 30s earlier", got)
	}
	c.Set(2 * time.Second)
	if got, want := c.Now(), start.Add(2*time.Second); !got.Equal(want) || c.Offset() != 2*time.Second {
		t.Fatalf("after Set(2s): Now = %v (offset %v), want %v", got, c.Offset(), want)
	}
	wait := c.Until(start.Add(time.Minute)) // the base's start+58s
	base.Advance(57 * time.Second)
	select {
	case <-wait:
		t.Fatal("the wait ended before the corrected clock reached its moment")
	default:
	}
	base.Advance(time.Second)
	select {
	case <-wait:
	default:
		t.Fatal("the wait did not end when the corrected clock reached its moment")
	}
	if got := c.Now(); !got.Equal(start.Add(time.Minute)) {
		t.Errorf("Now = %v at the end of the wait", got)
	}
}
