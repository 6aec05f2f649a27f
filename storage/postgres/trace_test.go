package postgres

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/incident/storetest"
)

// TestRoundTripsCounted pins how many round trips the store's commonest
// reads and writes make, counted on the wire. The counts are exact so
// that a change in them shows here: if a change meant to save (or had to
// spend) round trips, update the numbers and BENCHMARKS.md's section on
// PostgreSQL.
//
// The pool pings a connection idle for over a second before handing it
// out, which would add a round trip; the calls measured follow each other
// at once, on the one connection the pool has, so none is idle that long.
func TestRoundTripsCounted(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	if db.RoundTrips() == 0 {
		t.Fatal("opening the store (connect, migrate) counted no round trips")
	}
	inc := storetest.Create(t, db, "Counted")

	// A read's statement is prepared on its first run on a connection:
	// Parse and Describe are a round trip of their own before the
	// statement's Bind and Execute.
	count := func(what string, fn func() error) uint64 {
		t.Helper()
		before := db.RoundTrips()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return db.RoundTrips() - before
	}
	get := func() error { _, err := db.Get(ctx, inc.Number); return err }
	if n := count("first Get", get); n != 2 {
		t.Errorf("the first Get made %d round trips, want 2 (prepare, then execute)", n)
	}
	var n uint64
	for range 10 {
		n += count("Get", get)
	}
	if n != 10 {
		t.Errorf("10 Gets of a prepared statement made %d round trips, want 10", n)
	}

	// A note: the write transaction of Update with one event. Warm the
	// statements up first, then count.
	note := func() error {
		_, err := db.Update(ctx, inc.Number, func(*incident.Incident) ([]incident.Event, error) {
			return []incident.Event{{At: inc.DeclaredAt, Kind: incident.KindNote, Actor: "U1", Text: "counted"}}, nil
		})
		return err
	}
	count("first note", note)
	if n := count("note", note); n != wantNoteRoundTrips {
		t.Errorf("a note (Update with one event) made %d round trips, want %d", n, wantNoteRoundTrips)
	}
}

// wantNoteRoundTrips is what a note's Update costs once its statements are
// prepared: BEGIN with the write lock, loading the incident, updating it
// with its event (one pipeline), COMMIT.
const wantNoteRoundTrips = 4

// TestCountedConnRoundTrip checks the counting itself, on a pipe: writes
// in a row before an answer are one round trip, an answer read in pieces
// is one, and bytes that arrive unasked are none.
func TestCountedConnRoundTrip(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	rt := &roundTrips{}
	c := &countedConn{Conn: client, rt: rt}
	defer c.Close()

	say := func(b string) {
		t.Helper()
		go server.Write([]byte(b))
		buf := make([]byte, len(b))
		for got := 0; got < len(b); {
			n, err := c.Read(buf[got:])
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
	}
	ask := func(b string) {
		t.Helper()
		go func() {
			buf := make([]byte, len(b))
			for got := 0; got < len(b); {
				n, err := server.Read(buf[got:])
				if err != nil {
					return
				}
				got += n
			}
		}()
		if _, err := c.Write([]byte(b)); err != nil {
			t.Fatal(err)
		}
	}

	say("unasked")
	if n := rt.n.Load(); n != 0 {
		t.Fatalf("bytes nobody asked for counted %d round trips, want 0", n)
	}
	ask("parse")
	ask("bind")
	say("answer")
	if n := rt.n.Load(); n != 1 {
		t.Fatalf("two writes then an answer counted %d round trips, want 1", n)
	}
	ask("q")
	say("a") // net.Pipe hands over each write in one piece: read it as two
	say("b")
	if n := rt.n.Load(); n != 2 {
		t.Fatalf("an answer read in two pieces counted %d more round trips, want 1", n-1)
	}
}

// TestCountedConnAnswerBeforeWriteReturns counts a round trip whose answer
// is read in the background before the write has returned, as pgx's
// background reader can when a write is slow: the answer must count.
func TestCountedConnAnswerBeforeWriteReturns(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	answered := make(chan struct{})
	rt := &roundTrips{}
	c := &countedConn{Conn: &slowWrite{Conn: client, after: answered}, rt: rt}
	defer c.Close()

	go func() { // the server: read the request, answer it
		buf := make([]byte, 1)
		if _, err := io.ReadFull(server, buf); err == nil {
			server.Write([]byte("a"))
		}
	}()
	go func() { // the background reader
		buf := make([]byte, 1)
		c.Read(buf)
		close(answered)
	}()
	if _, err := c.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	if n := rt.n.Load(); n != 1 {
		t.Errorf("an answer read before its write returned counted %d round trips, want 1", n)
	}
}

// slowWrite returns from Write only once after is closed.
type slowWrite struct {
	net.Conn
	after chan struct{}
}

func (c *slowWrite) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	<-c.after
	return n, err
}
