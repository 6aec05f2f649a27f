package postgres

import (
	"context"
	"testing"
	"time"
)

// The offset measured is the server's clock against the clock given: a
// local clock 30 s fast measures about 30 s less than the true one, and
// the true one (this machine shares the server's clock) about nothing.
func TestClockOffset(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	off, uncertain, err := db.ClockOffset(ctx, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	// The server runs on this machine, so the true offset is zero; the
	// measurement is off by at most its uncertainty, plus the server's
	// clock's microsecond resolution.
	if abs(off) > uncertain+time.Millisecond {
		t.Errorf("offset %v against this machine's own clock, more than the uncertainty %v", off, uncertain)
	}
	fast := func() time.Time { return time.Now().Add(30 * time.Second) }
	offFast, uncertainFast, err := db.ClockOffset(ctx, fast)
	if err != nil {
		t.Fatal(err)
	}
	if d := offFast + 30*time.Second; abs(d) > uncertainFast+time.Millisecond {
		t.Errorf("offset %v against a clock 30s fast, want -30s ± %v", offFast, uncertainFast)
	}

	db.Close()
	if _, _, err := db.ClockOffset(ctx, time.Now); err == nil {
		t.Error("a closed database's clock was read")
	}
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
