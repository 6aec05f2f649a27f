package bot

import (
	"testing"
	"time"
)

// A change wakes the loop when it cannot be told about, or when it makes
// something due at or before the planned look (while the loop looks, when
// it makes anything due: what the loop read may be older); never when it
// makes nothing due.
func TestDueWatchWakesForWhatComesForward(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	planned := t0.Add(10 * time.Minute)
	for _, tc := range []struct {
		name    string
		looking bool
		due     time.Time
		known   bool
		want    bool
	}{
		{"a note: nothing due", false, time.Time{}, true, false},
		{"due after the planned look", false, planned.Add(time.Minute), true, false},
		{"due at the planned look", false, planned, true, true},
		{"due before the planned look", false, t0.Add(time.Minute), true, true},
		{"a change made elsewhere", false, time.Time{}, false, true},
		{"while looking, nothing due", true, time.Time{}, true, false},
		{"while looking, due later", true, planned.Add(time.Hour), true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDueWatch()
			if tc.looking {
				d.looking()
			} else {
				d.sleeping(planned)
			}
			d.changed(tc.due, tc.known)
			woke := false
			select {
			case <-d.wake:
				woke = true
			default:
			}
			if woke != tc.want {
				t.Errorf("woke = %v, want %v", woke, tc.want)
			}
		})
	}
}
