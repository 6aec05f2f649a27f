package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/metrics"
)

// Replicas on several machines run on the database's clock: each measures
// how far the database server's clock is from its own at start and every
// clockCheckEvery, and corrects its own by that much. A replica whose
// clock is wrong then records the times the others would, prompts and
// escalates when they would, and orders nothing differently. (What is done
// once is decided in the database's transactions and claims, which no
// clock decides; the clock decides when, and what times are shown.)
const (
	clockCheckEvery = time.Minute
	// clockWarnAbove is the offset beyond which the log says this
	// machine's clock needs fixing: beyond it, times Sitrep shows would
	// disagree with the machine's own logs and other tools.
	clockWarnAbove = 2 * time.Second
)

// clockMeter measures the database's clock (postgres.DB).
type clockMeter interface {
	ClockOffset(ctx context.Context, now func() time.Time) (offset, uncertain time.Duration, err error)
}

// followDatabaseClock sets c, which corrects base, to the database's time
// now and keeps it there every clockCheckEvery until ctx ends. A failed
// measurement keeps the last offset: the database being unreachable is
// reported elsewhere, and the clocks drift slowly.
func followDatabaseClock(ctx context.Context, db clockMeter, base clock.Clock, c *clock.Corrected, m *metrics.Metrics, log *slog.Logger) {
	log = log.With("in", "clock")
	warned := false
	measure := func() {
		mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		off, uncertain, err := db.ClockOffset(mctx, base.Now)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("could not compare this machine's clock with the database's; keeping the last correction", "err", err, "offset", c.Offset().String())
			}
			return
		}
		c.Set(off)
		switch over := off.Abs() > clockWarnAbove; {
		case over && !warned:
			log.Warn(clockWarning(off)+"; Sitrep uses the database's time, but fix NTP on this machine", "offset", off.String(), "uncertain", uncertain.String())
		case !over && warned:
			log.Info("this machine's clock is within "+clockWarnAbove.String()+" of the database's again", "offset", off.String())
		}
		warned = off.Abs() > clockWarnAbove
	}
	measure()
	m.ClockOffset(func() float64 { return c.Offset().Seconds() })
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-base.Until(base.Now().Add(clockCheckEvery)):
			}
			measure()
		}
	}()
}

// clockWarning says how far and which way this machine's clock is off,
// in whole seconds: "this machine's clock is 31s behind the database's".
func clockWarning(off time.Duration) string {
	way := "behind"
	if off < 0 {
		way = "ahead of"
	}
	return fmt.Sprintf("this machine's clock is %s %s the database's", off.Abs().Round(time.Second), way)
}
