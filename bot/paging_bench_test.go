// The fuzzing in .ci/run builds with -tags nosqlitebench: benchmarks on
// SQLite would make it compile SQLite's C code once more, for nothing.

//go:build !nosqlitebench

package bot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/oncall"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// BenchmarkPagePass measures one pager pass, beside BenchmarkPromptPass,
// on SQLite as deployed: open incidents nobody was paged for, and pending
// pages waiting for their next step. due of the pending pages use a
// policy stepping every minute, the others one stepping every half hour;
// each iteration moves the clock on a minute, so due is the number of
// steps a pass sends. With due=0 the clock does not move: the pass finds
// nothing. The cost should grow with due, not with open or pending.
// Run it with a fixed count, since each page has a bounded number of
// steps: go test ./bot -run '^$' -bench PagePass -benchtime 50x
func BenchmarkPagePass(b *testing.B) {
	for _, bc := range []struct{ open, pending, due int }{
		{10000, 1000, 0}, {10000, 1000, 10}, {10000, 1000, 100}, {10000, 1000, 1000},
	} {
		b.Run(fmt.Sprintf("open=%d/pending=%d/due=%d", bc.open, bc.pending, bc.due), func(b *testing.B) {
			ctx := context.Background()
			db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			clk := clock.NewFake(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
			steps := func(after string) []oncall.StepConfig {
				var s []oncall.StepConfig
				for range 10 {
					s = append(s, oncall.StepConfig{Notify: "schedule:primary", After: after})
				}
				return s
			}
			plan, err := oncall.Config{
				Schedules: []oncall.ScheduleConfig{{Name: "primary", TimeZone: "Europe/London", Start: "2026-11-30", Handoff: "monday 09:00",
					Rotation: []string{"U0BOB", "U0CAROL"}, Provisional: []string{"U0CAROL"}, Backup: []string{"U0DAVE"}}},
				Policies: []oncall.PolicyConfig{{Name: "fast", Steps: steps("1m"), Repeat: 10}, {Name: "slow", Steps: steps("30m"), Repeat: 10}},
			}.Compile(incident.DefaultConfig().SeverityNames())
			if err != nil {
				b.Fatal(err)
			}
			svc := incident.NewService(db, incident.DefaultConfig(), clk.Now)
			svc.UsePaging(plan)
			for i := range bc.open + bc.pending {
				d := incident.Declaration{Title: fmt.Sprintf("Incident %d", i), Severity: "sev2", Actor: "U1"}
				if i >= bc.open {
					d.Page = "slow"
					if i-bc.open < bc.due {
						d.Page = "fast"
					}
				}
				if _, err := svc.Declare(ctx, d); err != nil {
					b.Fatal(err)
				}
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			p := newPager(svc, clk, log)
			// Send every page's first step.
			if _, err := p.pass(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if bc.due > 0 {
					clk.Advance(time.Minute)
				}
				if _, err := p.pass(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			due, _, err := svc.DuePages(ctx, clk.Now())
			if err != nil || len(due) != 0 {
				b.Fatalf("after a pass %d incidents still have a step due (%v)", len(due), err)
			}
		})
	}
}
