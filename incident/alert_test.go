package incident

import (
	"testing"
	"time"
)

func TestCleanAlert(t *testing.T) {
	now := time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)
	base := Alert{Source: "generic", Key: "k", Status: AlertFiring, Title: "Disk full", StartsAt: now.Add(-time.Minute)}
	for _, tc := range []struct {
		name  string
		edit  func(*Alert)
		code  string
		check func(t *testing.T, a Alert)
	}{
		{"no source", func(a *Alert) { a.Source = " " }, EINVALID, nil},
		{"no key", func(a *Alert) { a.Key = "" }, EINVALID, nil},
		{"unknown status", func(a *Alert) { a.Status = "pending" }, EINVALID, nil},
		{"a firing alert has no end", func(a *Alert) { a.EndsAt = now }, "", func(t *testing.T, a Alert) {
			if !a.EndsAt.IsZero() {
				t.Errorf("EndsAt %v", a.EndsAt)
			}
		}},
		{"a resolved alert ends, not before it started", func(a *Alert) { a.Status = AlertResolved; a.EndsAt = now.Add(-time.Hour) }, "", func(t *testing.T, a Alert) {
			if !a.EndsAt.Equal(now) {
				t.Errorf("EndsAt %v, want now", a.EndsAt)
			}
		}},
		{"a title on one line", func(a *Alert) { a.Title = "disk\n\tfull\x00 now" }, "", func(t *testing.T, a Alert) {
			if a.Title != "disk full now" {
				t.Errorf("title %q", a.Title)
			}
		}},
		{"times kept in UTC", func(a *Alert) { a.StartsAt = now.Add(-time.Minute).In(time.FixedZone("X", 3600)) }, "", func(t *testing.T, a Alert) {
			if a.StartsAt.Location() != time.UTC || !a.StartsAt.Equal(now.Add(-time.Minute)) {
				t.Errorf("StartsAt %v", a.StartsAt)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			tc.edit(&a)
			got, err := CleanAlert(a, now)
			if ErrorCode(err) != tc.code && !(tc.code == "" && err == nil) {
				t.Fatalf("err = %v, want code %q", err, tc.code)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}
