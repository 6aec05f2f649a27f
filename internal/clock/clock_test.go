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
