package postgres

import (
	"context"
	"fmt"
	"time"
)

// clockSamples is how many readings of the server's clock one measurement
// takes; the one with the shortest round trip is kept, as it brackets the
// server's reading most tightly.
const clockSamples = 5

// ClockOffset measures how far the database server's clock is ahead of
// now (negative when behind): replicas on several machines use the
// server's clock as the installation's, so that one whose own clock is
// wrong records the same times as the others and acts neither early nor
// late. The server's reading is taken to be from halfway through its
// round trip; uncertain is half the round trip, the most it can be off
// by that.
func (db *DB) ClockOffset(ctx context.Context, now func() time.Time) (offset, uncertain time.Duration, err error) {
	best := time.Duration(-1)
	for range clockSamples {
		var server time.Time
		sent := now()
		if err := db.pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&server); err != nil {
			return 0, 0, fmt.Errorf("read the database's clock: %w", err)
		}
		rtt := now().Sub(sent)
		if best >= 0 && rtt >= best {
			continue
		}
		best = rtt
		offset = server.Sub(sent.Add(rtt / 2))
	}
	return offset, best / 2, nil
}
