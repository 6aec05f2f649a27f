package postgres

import (
	"context"
	"net"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
)

// Round trips to the database are counted on the connections themselves,
// not with pgx's tracers. A tracer sees statements, and a statement is not
// always one round trip: in pgx's default mode a statement's first run on
// a connection is preceded by its own Parse/Describe round trip; the pool
// pings a connection that has been idle for over a second before handing
// it out; the claims' connection pings every lockPing; and neither the
// pings nor the startup handshake pass through a tracer. What goes over
// the wire is what costs time, so that is what is counted: a round trip is
// a write to the server followed by the first bytes of its answer. Bytes
// the server sends unasked (a notice, a parameter change) count nothing,
// and a pipeline of statements sent in one write counts once.

// roundTrips counts the round trips of every connection a DB opens: its
// pool's and its claims' (exclusive.go).
type roundTrips struct {
	n atomic.Uint64
}

// countRoundTrips makes every connection made with cfg count its round
// trips in the returned counter. Call it before the config is copied for
// other connections, so that they count too.
func countRoundTrips(cfg *pgconn.Config) *roundTrips {
	rt := &roundTrips{}
	dial := cfg.DialFunc
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countedConn{Conn: conn, rt: rt}, nil
	}
	return rt
}

// countedConn is a connection to the server that counts its round trips.
// pgx may read in the background while it writes (pgconn's bgreader), so
// the flag is atomic.
type countedConn struct {
	net.Conn
	rt   *roundTrips
	sent atomic.Bool // written to since the last answer began
}

func (c *countedConn) Write(b []byte) (int, error) {
	// Marked before writing: the answer may be read (by pgx's reader in
	// the background) before Write returns here.
	if len(b) > 0 {
		c.sent.Store(true)
	}
	return c.Conn.Write(b)
}

func (c *countedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && c.sent.CompareAndSwap(true, false) {
		c.rt.n.Add(1)
	}
	return n, err
}

// RoundTrips returns how many round trips to the server this DB's
// connections have made since it was opened, the opening's own included.
func (db *DB) RoundTrips() uint64 { return db.wire.n.Load() }
