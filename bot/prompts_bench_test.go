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
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// BenchmarkPromptPass measures one prompter pass, on SQLite as deployed,
// over open incidents of every default severity (sev0 to sev3, a quarter
// each), with some resolved incidents still owing a postmortem. Each
// iteration moves the clock on a day, so exactly the resolved ones owe a
// prompt: "due" is the number of prompts a pass sends. The open incidents
// are past both of their update prompts (sent before the timer starts), so
// a pass reads them through the index without touching them. The cost
// should grow with due, not with open.
func BenchmarkPromptPass(b *testing.B) {
	for _, bc := range []struct{ open, due int }{
		{1000, 0}, {1000, 1}, {1000, 10}, {1000, 100}, {10000, 0},
	} {
		b.Run(fmt.Sprintf("open=%d/due=%d", bc.open, bc.due), func(b *testing.B) {
			ctx := context.Background()
			db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			clk := clock.NewFake(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
			cfg := incident.DefaultConfig()
			svc := incident.NewService(db, cfg, clk.Now)
			sevs := []string{"sev0", "sev1", "sev2", "sev3"}
			for i := range bc.open + bc.due {
				inc, err := svc.Declare(ctx, incident.Declaration{Title: fmt.Sprintf("Incident %d", i), Severity: sevs[i%len(sevs)], Actor: "U1"})
				if err != nil {
					b.Fatal(err)
				}
				if i >= bc.open {
					if _, err := svc.Resolve(ctx, inc.Number, "U1", ""); err != nil {
						b.Fatal(err)
					}
				}
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			p := newPrompter(svc, clk, incident.AlertRules{}, log)

			// Send every update prompt the open incidents will get, and
			// the resolved ones' first postmortem prompt.
			clk.Advance(24 * time.Hour)
			if _, err := p.pass(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				clk.Advance(24 * time.Hour)
				if _, err := p.pass(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			due, _, err := svc.DuePrompts(ctx, clk.Now())
			if err != nil || len(due) != 0 {
				b.Fatalf("after a pass %d incidents still owe a prompt (%v)", len(due), err)
			}
			if bc.due > 0 {
				inc, err := svc.Get(ctx, int64(bc.open+1))
				if err != nil {
					b.Fatal(err)
				}
				events, err := svc.Events(ctx, inc.ID, 0)
				if err != nil {
					b.Fatal(err)
				}
				prompts := 0
				for _, ev := range events {
					if ev.Kind == incident.KindPrompt {
						prompts++
					}
				}
				if prompts < 2 {
					b.Fatalf("a resolved incident got %d postmortem prompts, want one a day", prompts)
				}
			}
		})
	}
}
