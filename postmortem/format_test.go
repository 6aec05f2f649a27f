package postmortem

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDuration(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{"zero", 0, "0s"},
		{"seconds", 59 * time.Second, "59s"},
		{"negative", -time.Hour, "0s"},
		{"minutes", 45 * time.Minute, "45m"},
		{"whole hours", 2 * time.Hour, "2h"},
		{"seed 004", 22*time.Hour + 3*time.Minute + 59*time.Second, "22h 3m"},
		{"days and hours", 3*24*time.Hour + 4*time.Hour + 12*time.Minute, "3d 4h"},
		{"whole days", 48 * time.Hour, "2d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Duration(tt.in)); diff != "" {
				t.Errorf("Duration(%v) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestTimes(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	sameDay := time.Date(2021, 12, 2, 20, 24, 0, 0, time.UTC).In(la)
	otherDay := time.Date(2021, 12, 3, 4, 25, 0, 0, time.UTC).In(la)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"utc", UTC(sameDay), "2021-12-02 20:24 UTC"},
		{"local", Local(sameDay), "2021-12-02 12:24 PST"},
		{"clock", Clock(sameDay), "12:24 PST"},
		{"clock on another day than UTC", Clock(otherDay), "Dec 2 20:25 PST"},
		{"clock in UTC", Clock(sameDay.UTC()), "20:24 UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
