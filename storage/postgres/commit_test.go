package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/incident/storetest"
	"github.com/sitrep-dev/sitrep/storage/postgres/pgtest"
)

// queued waits until n writes wait in db's queue.
func queued(t *testing.T, db *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := db.commit.queue.len()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// holdTurn keeps batches from running, as a batch in progress does, until
// the returned function is called.
func holdTurn(db *DB) (release func()) {
	db.commit.init()
	db.commit.turn <- struct{}{}
	return func() { <-db.commit.turn }
}

// note adds a note to incident number, through Update or, with extra (a
// test's statement to run in the same write), through writeTx as Update
// does, and returns the note's seq once committed.
func note(ctx context.Context, db *DB, number int64, text string, extra writeFunc) (int64, error) {
	var commit func()
	events := []incident.Event{{At: time.Now(), Kind: incident.KindNote, Actor: "U1", Text: text}}
	if extra == nil {
		_, err := db.Update(ctx, number, func(*incident.Incident) ([]incident.Event, error) { return events, nil })
		return events[0].Seq, err
	}
	err := db.writeTx(ctx, "note", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		_, commit, err = db.updateIn(ctx, tx, number, func(*incident.Incident) ([]incident.Event, error) {
			return events, nil
		})
		if err != nil {
			return err
		}
		return extra(ctx, tx)
	})
	if err != nil {
		return 0, err
	}
	commit()
	return events[0].Seq, nil
}

// notes counts the incident's notes by text, and checks that no two events
// share a seq.
func notes(t *testing.T, db *DB, inc *incident.Incident) map[string]int {
	t.Helper()
	evs, err := db.Events(context.Background(), inc.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	seen := map[int64]bool{}
	for _, e := range evs {
		if seen[e.Seq] {
			t.Errorf("two events numbered %d", e.Seq)
		}
		seen[e.Seq] = true
		if e.Kind == incident.KindNote {
			n[e.Text]++
		}
	}
	return n
}

// raise is a statement failing with the given SQLSTATE, as the server
// fails a deadlock's victim (40P01).
func raise(code string) writeFunc {
	return func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '`+code+`'; END $$`)
		return err
	}
}

// TestGroupCommit: writes that queue while a batch runs are committed
// together, in one transaction, in the order they came; a refusal and a
// panic among them fail alone (the panic in its writer's goroutine), and
// every other write is answered as committed, with its event numbered.
func TestGroupCommit(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	inc := storetest.Create(t, db, "Checkout failing")
	before := db.commit.batches.Load()

	release := holdTurn(db)
	const n = 12
	type outcome struct {
		seq      int64
		err      error
		panicked any
	}
	outcomes := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { outcomes[i].panicked = recover() }()
			if i == 3 || i == 6 {
				_, err := db.Update(ctx, inc.Number, func(got *incident.Incident) ([]incident.Event, error) {
					got.Title = "undone"
					if i == 6 {
						panic("bug in a rule")
					}
					return nil, incident.Errorf(incident.ECONFLICT, "refused")
				})
				outcomes[i].err = err
				return
			}
			outcomes[i].seq, outcomes[i].err = note(ctx, db, inc.Number, fmt.Sprint("note ", i), nil)
		}()
		queued(t, db, i+1) // in a known order
	}
	release()
	wg.Wait()

	if got := db.commit.batches.Load() - before; got != 1 {
		t.Errorf("%d writes queued behind a batch went in %d transactions, want 1", n, got)
	}
	var seqs []int64
	for i, o := range outcomes {
		switch i {
		case 3:
			var e *incident.Error
			if !errors.As(o.err, &e) || e.Code != incident.ECONFLICT {
				t.Errorf("write 3: %v, want its own refusal", o.err)
			}
		case 6:
			if o.panicked != "bug in a rule" {
				t.Errorf("write 6 panicked with %v in its own goroutine, want its panic", o.panicked)
			}
		default:
			if o.err != nil || o.panicked != nil || o.seq == 0 {
				t.Errorf("write %d: seq %d, %v %v; want it committed and numbered", i, o.seq, o.err, o.panicked)
				continue
			}
			seqs = append(seqs, o.seq)
		}
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Errorf("events numbered %v: not in the order the writes came", seqs)
			break
		}
	}
	got, err := db.Get(ctx, inc.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Checkout failing" || got.Version != 1+n-2 {
		t.Errorf("after the batch: title %q, version %d; want the refused and panicking writes undone, %d versions", got.Title, got.Version, 1+n-2)
	}
	if c := notes(t, db, inc); len(c) != n-2 {
		t.Errorf("notes %v, want the %d committed writes' once each", c, n-2)
	}
}

// TestGroupCommitGivenUp: a write whose context ends while it waits is not
// run; the others in its batch are.
func TestGroupCommitGivenUp(t *testing.T) {
	db, _ := openTest(t)
	inc := storetest.Create(t, db, "Checkout failing")
	release := holdTurn(db)
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := note(ctx, db, inc.Number, "given up", nil)
		gaveUp <- err
	}()
	queued(t, db, 1)
	kept := make(chan error, 1)
	go func() {
		_, err := note(context.Background(), db, inc.Number, "kept", nil)
		kept <- err
	}()
	queued(t, db, 2)
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Errorf("given-up write: %v, want context.Canceled", err)
	}
	release()
	if err := <-kept; err != nil {
		t.Fatal(err)
	}
	if c := notes(t, db, inc); c["given up"] != 0 || c["kept"] != 1 {
		t.Errorf("notes %v, want the kept one only", c)
	}
}

// TestGroupCommitGivenUpInBatch: a writer that gives up once a batch has
// its write sees it through: the write runs to the end with its context's
// cancellation detached (a cancelled query would close the batch's
// connection), and the writer is told it committed, as it did.
func TestGroupCommitGivenUpInBatch(t *testing.T) {
	db, _ := openTest(t)
	inc := storetest.Create(t, db, "Checkout failing")
	before := db.commit.batches.Load()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := holdTurn(db)
	errs := make(chan error, 3)
	for i := range 3 {
		go func() {
			wctx, extra := context.Background(), writeFunc(nil)
			if i == 1 {
				wctx = ctx
				extra = func(ctx context.Context, tx pgx.Tx) error {
					cancel()
					_, err := tx.Exec(ctx, `SELECT 1`)
					return err
				}
			}
			_, err := note(wctx, db, inc.Number, fmt.Sprint("note ", i), extra)
			errs <- err
		}()
		queued(t, db, i+1)
	}
	release()
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("write: %v, want each committed", err)
		}
	}
	if got := db.commit.batches.Load() - before; got != 1 {
		t.Errorf("%d transactions, want the one batch", got)
	}
	if c := notes(t, db, inc); len(c) != 3 {
		t.Errorf("notes %v, want all 3", c)
	}
}

// TestGroupCommitQueueWhileLocked: while another replica holds the write
// lock, the writes that arrive wait in the queue and join the batch once
// it has the lock; one given up meanwhile is dropped, never run.
func TestGroupCommitQueueWhileLocked(t *testing.T) {
	db, u := openTest(t)
	ctx := context.Background()
	inc := storetest.Create(t, db, "Checkout failing")
	other, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	otherTx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer otherTx.Rollback(ctx)
	if _, err := otherTx.Exec(ctx, writeLock); err != nil {
		t.Fatal(err)
	}
	before := db.commit.batches.Load()
	errs := make([]chan error, 3)
	gaveUp, giveUp := context.WithCancel(ctx)
	defer giveUp()
	for i := range errs {
		errs[i] = make(chan error, 1)
		wctx := ctx
		if i == 2 {
			wctx = gaveUp
		}
		go func() {
			_, err := note(wctx, db, inc.Number, fmt.Sprint("note ", i), nil)
			errs[i] <- err
		}()
		queued(t, db, i+1)
		if i == 0 {
			// The first is the batch's: it waits for the lock.
			deadline := time.Now().Add(30 * time.Second)
			for {
				var n int
				if err := other.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE relation = 'incidents'::regclass AND NOT granted`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the batch never waited for the write lock")
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	giveUp()
	if err := <-errs[2]; !errors.Is(err, context.Canceled) {
		t.Errorf("write given up while the lock was held: %v, want context.Canceled", err)
	}
	if err := otherTx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := <-errs[i]; err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if got := db.commit.batches.Load() - before; got != 1 {
		t.Errorf("%d transactions, want one batch of the two writes", got)
	}
	if c := notes(t, db, inc); len(c) != 2 || c["note 2"] != 0 {
		t.Errorf("notes %v, want notes 0 and 1", c)
	}
}

// TestGroupCommitBatchLimit: no batch runs more than maxBatch writes; the
// rest wait for the next.
func TestGroupCommitBatchLimit(t *testing.T) {
	db, _ := openTest(t)
	inc := storetest.Create(t, db, "Checkout failing")
	before := db.commit.batches.Load()
	extras := make([]writeFunc, maxBatch+2)
	_, errs := runBatch(t, db, inc, extras...)
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if got := db.commit.batches.Load() - before; got != 2 {
		t.Errorf("%d writes in %d transactions, want 2", len(extras), got)
	}
	if c := notes(t, db, inc); len(c) != len(extras) {
		t.Errorf("%d notes, want %d", len(c), len(extras))
	}
}

// TestRefused: only a COMMIT the server answered with an ERROR, keeping the
// session, is known not to have committed; a FATAL one or a lost
// connection may have come after the commit.
func TestRefused(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "40001"}, true},
		{fmt.Errorf("commit: %w", &pgconn.PgError{Severity: "ERROR", Code: "23514"}), true},
		{pgx.ErrTxCommitRollback, true},
		{&pgconn.PgError{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "57P01"}, false},
		{&pgconn.PgError{Severity: "FEHLER", SeverityUnlocalized: "FATAL", Code: "57P01"}, false},
		{io.ErrUnexpectedEOF, false},
		{errors.New("conn closed"), false},
	} {
		if got := refused(c.err); got != c.want {
			t.Errorf("refused(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// runBatch queues one note per extra (nil: a plain note) behind a held
// turn, in order, lets them run as one batch and returns each one's seq
// and error.
func runBatch(t *testing.T, db *DB, inc *incident.Incident, extras ...writeFunc) ([]int64, []error) {
	t.Helper()
	release := holdTurn(db)
	seqs, errs := make([]int64, len(extras)), make([]error, len(extras))
	var wg sync.WaitGroup
	for i, extra := range extras {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seqs[i], errs[i] = note(context.Background(), db, inc.Number, fmt.Sprint("note ", i), extra)
		}()
		queued(t, db, i+1)
	}
	release()
	wg.Wait()
	return seqs, errs
}

// TestGroupCommitVictimRunsAgain: a write the server fails as a deadlock's
// victim (40P01), which the batch's locks may have caused, is rolled back
// to its savepoint and run again alone after the batch; the others commit
// in the batch, and every write is applied once.
func TestGroupCommitVictimRunsAgain(t *testing.T) {
	db, _ := openTest(t)
	inc := storetest.Create(t, db, "Checkout failing")
	before := db.commit.batches.Load()
	var runs atomic.Int32
	victim := func(ctx context.Context, tx pgx.Tx) error {
		if runs.Add(1) == 1 {
			return raise("40P01")(ctx, tx)
		}
		return nil
	}
	seqs, errs := runBatch(t, db, inc, nil, victim, nil, nil)
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d: %v, want it committed", i, err)
		}
	}
	if runs.Load() != 2 {
		t.Errorf("the victim ran %d times, want twice: in the batch and alone", runs.Load())
	}
	if got := db.commit.batches.Load() - before; got != 2 {
		t.Errorf("%d transactions, want 2: the batch and the victim's own", got)
	}
	if seqs[1] <= seqs[3] {
		t.Errorf("seqs %v: the victim's note is not numbered after the batch's", seqs)
	}
	if c := notes(t, db, inc); len(c) != 4 || c["note 1"] != 1 {
		t.Errorf("notes %v, want each of the 4 once", c)
	}
	if got, err := db.Get(context.Background(), inc.Number); err != nil || got.Version != 5 {
		t.Errorf("version after: %v, %v; want 5", got.Version, err)
	}
}

// TestGroupCommitLostConnectionRunsInnocentAgain: a batch whose connection
// dies before its COMMIT committed nothing; the writes that did nothing
// wrong, those run before and those not run yet, each run again alone and
// are applied once. The write that killed the connection does so again
// alone, and fails.
func TestGroupCommitLostConnectionRunsInnocentAgain(t *testing.T) {
	db, _ := openTest(t)
	inc := storetest.Create(t, db, "Checkout failing")
	before := db.commit.batches.Load()
	kill := func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SELECT pg_terminate_backend(pg_backend_pid())`)
		return err
	}
	seqs, errs := runBatch(t, db, inc, nil, nil, kill, nil, nil)
	for i, err := range errs {
		if (err != nil) != (i == 2) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	// Each writer is given its note's seq as committed, by the run that
	// committed, not the undone batch's.
	evs, err := db.Events(context.Background(), inc.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int64{}
	for _, e := range evs {
		stored[e.Text] = e.Seq
	}
	for i, seq := range seqs {
		if text := fmt.Sprint("note ", i); i != 2 && seq != stored[text] {
			t.Errorf("write %d was told seq %d, stored as %d", i, seq, stored[text])
		}
	}
	if got := db.commit.batches.Load() - before; got != 1+5 {
		t.Errorf("%d transactions, want the batch and one each alone, 6", got)
	}
	c := notes(t, db, inc)
	for i := range 5 {
		want := 1
		if i == 2 {
			want = 0
		}
		if c[fmt.Sprint("note ", i)] != want {
			t.Errorf("notes %v: note %d there %d times, want %d", c, i, c[fmt.Sprint("note ", i)], want)
		}
	}
}

// TestGroupCommitRefusedCommitRunsAgain: a COMMIT the server refuses (here
// a deferred constraint, as a serialization failure would be) rolled the
// whole batch back; each write runs again alone, and only the one that
// broke the constraint fails.
func TestGroupCommitRefusedCommitRunsAgain(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	if _, err := db.pool.Exec(ctx, `
		CREATE FUNCTION no_poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.text = 'note 1' THEN RAISE EXCEPTION 'poisoned note' USING ERRCODE = '23514'; END IF;
			RETURN NULL;
		END $$;
		CREATE CONSTRAINT TRIGGER no_poison AFTER INSERT ON events DEFERRABLE INITIALLY DEFERRED
			FOR EACH ROW EXECUTE FUNCTION no_poison();`, pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	inc := storetest.Create(t, db, "Checkout failing")
	before := db.commit.batches.Load()
	_, errs := runBatch(t, db, inc, nil, nil, nil)
	for i, err := range errs {
		if (err != nil) != (i == 1) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if errs[1] == nil || !strings.Contains(errs[1].Error(), "poisoned note") {
		t.Errorf("poisoned write: %v, want its own refusal", errs[1])
	}
	if got := db.commit.batches.Load() - before; got != 1+3 {
		t.Errorf("%d transactions, want the batch and one each alone, 4", got)
	}
	if c := notes(t, db, inc); len(c) != 2 || c["note 0"] != 1 || c["note 2"] != 1 {
		t.Errorf("notes %v, want notes 0 and 2 once each", c)
	}
}

// TestGroupCommitLostCommitNotRunAgain: when the connection is lost after
// COMMIT was sent, the batch may have committed (here it did), so each
// writer is told its write failed and nothing is run again: no write is
// applied twice.
func TestGroupCommitLostCommitNotRunAgain(t *testing.T) {
	u := pgtest.Schema(t)
	p := newCommitCutter(t, u)
	db := openURL(t, p.url)
	inc := storetest.Create(t, db, "Checkout failing")
	before := db.commit.batches.Load()
	p.armed.Store(true)
	_, errs := runBatch(t, db, inc, nil, nil, nil)
	if p.armed.Load() {
		t.Fatal("the batch's COMMIT was not seen")
	}
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "update incident: commit: ") {
			t.Errorf("write %d: %v, want the commit's failure", i, err)
		}
	}
	if got := db.commit.batches.Load() - before; got != 1 {
		t.Errorf("%d transactions, want the batch's alone: nothing run again", got)
	}
	if c := notes(t, openURL(t, u), inc); len(c) != 3 || c["note 0"] != 1 || c["note 1"] != 1 || c["note 2"] != 1 {
		t.Errorf("notes %v, want the batch's 3 once each, committed before the connection was lost", c)
	}
}

// commitCutter is a TCP proxy to the PostgreSQL server that, once armed,
// passes the next COMMIT on to the server, waits for its answer and then
// closes the client's connection instead of passing the answer back.
type commitCutter struct {
	url   string
	armed atomic.Bool
}

func newCommitCutter(t *testing.T, u string) *commitCutter {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	server := parsed.Host
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	parsed.Host = ln.Addr().String()
	p := &commitCutter{url: parsed.String()}
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(client, server)
		}
	}()
	return p
}

func (p *commitCutter) serve(client net.Conn, server string) {
	defer client.Close()
	up, err := net.Dial("tcp", server)
	if err != nil {
		return
	}
	defer up.Close()
	var cut atomic.Bool
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := up.Read(buf)
			if cut.Load() {
				// The COMMIT's answer: dropped, and the client cut off.
				client.Close()
				return
			}
			if n > 0 {
				if _, err := client.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				client.Close()
				return
			}
		}
	}()
	// The client's messages: the startup message (length first), then
	// each a type byte and a length.
	if !relay(client, up) {
		return
	}
	for {
		var typ [1]byte
		if _, err := io.ReadFull(client, typ[:]); err != nil {
			return
		}
		body, ok := readMessage(client)
		if !ok {
			return
		}
		if typ[0] == 'Q' && strings.EqualFold(strings.TrimRight(string(body[4:]), "\x00"), "commit") && p.armed.CompareAndSwap(true, false) {
			cut.Store(true)
		}
		if _, err := up.Write(append(typ[:], body...)); err != nil {
			return
		}
	}
}

// relay passes one length-prefixed message from src to dst.
func relay(src, dst net.Conn) bool {
	body, ok := readMessage(src)
	if !ok {
		return false
	}
	_, err := dst.Write(body)
	return err == nil
}

// readMessage reads a message's length (which counts itself) and the rest,
// returning both.
func readMessage(r io.Reader) ([]byte, bool) {
	var l [4]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, false
	}
	n := int(l[0])<<24 | int(l[1])<<16 | int(l[2])<<8 | int(l[3])
	if n < 4 {
		return nil, false
	}
	body := make([]byte, n)
	copy(body, l[:])
	if _, err := io.ReadFull(r, body[4:]); err != nil {
		return nil, false
	}
	return body, true
}

// TestGroupCommitDeadlockVictimRunsAgain provokes a real deadlock between
// a batch and another transaction: the batch's first write takes lock 1,
// its second waits for lock 2, which the other holds while it waits for
// lock 1. The server fails the second write (the other's deadlock_timeout
// is long, so it is never the one chosen); the write is rolled back to its
// savepoint, the batch commits and releases lock 1, the other finishes,
// and the write runs again alone and commits. It did nothing wrong: alone
// it would only have waited.
func TestGroupCommitDeadlockVictimRunsAgain(t *testing.T) {
	db, u := openTest(t)
	ctx := context.Background()
	inc := storetest.Create(t, db, "Checkout failing")
	other, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	if _, err := other.Exec(ctx, `SET deadlock_timeout = '10min'`); err != nil {
		t.Skipf("cannot make the other transaction wait out the deadlock (%v): it needs a superuser", err)
	}
	// Should the deadlock go unseen, the test fails rather than hangs.
	if _, err := other.Exec(ctx, `SET lock_timeout = '2min'`); err != nil {
		t.Fatal(err)
	}
	// Advisory locks are the database's, shared with other tests' schemas.
	k1, k2 := rand.Int64N(1<<31), rand.Int64N(1<<31)
	otherTx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer otherTx.Rollback(ctx)
	if _, err := otherTx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, k2); err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	lock := func(k int64) writeFunc {
		return func(ctx context.Context, tx pgx.Tx) error {
			if k == k2 {
				runs.Add(1)
				// The server looks for a deadlock once, when a wait has
				// lasted deadlock_timeout: leave the other transaction
				// time to close the circle first, on a busy machine.
				if _, err := tx.Exec(ctx, `SET LOCAL deadlock_timeout = '3s'`); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, k)
			return err
		}
	}
	otherDone := make(chan error, 1)
	go func() {
		// Once the batch's second write waits for lock 2, close the
		// circle.
		deadline := time.Now().Add(30 * time.Second)
		for {
			var n int
			if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
				AND NOT granted AND classid = 0 AND objid::bigint = $1 AND objsubid = 1`, k2).Scan(&n); err != nil {
				otherDone <- err
				return
			}
			if n > 0 {
				break
			}
			if time.Now().After(deadline) {
				otherDone <- errors.New("the batch's second write never waited for lock 2")
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		if _, err := otherTx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, k1); err != nil {
			otherDone <- err
			return
		}
		otherDone <- otherTx.Commit(ctx)
	}()
	seqs, errs := runBatch(t, db, inc, lock(k1), lock(k2), nil)
	if err := <-otherDone; err != nil {
		t.Fatalf("the other transaction: %v", err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d: %v, want it committed", i, err)
		}
	}
	if runs.Load() != 2 {
		t.Errorf("the waiting write ran %d times, want twice: in the batch, failed as the deadlock's victim, and alone", runs.Load())
	}
	if seqs[1] <= seqs[2] {
		t.Errorf("seqs %v: the victim's note is not numbered after the batch's", seqs)
	}
	if c := notes(t, db, inc); len(c) != 3 || c["note 1"] != 1 {
		t.Errorf("notes %v, want each of the 3 once", c)
	}
}

// TestGroupCommitTwoProcesses: two stores on one database, as two replicas
// have, each with writers adding notes to the same incidents at once, some
// of them failed once as a deadlock's victim: every write reported
// committed is stored once, every write reported failed not at all, every
// write stored is a version, and no two events share a seq. A victim fails
// only when its write ran alone (a lone write's failure is its own, as
// before group commit); in a batch it runs again.
func TestGroupCommitTwoProcesses(t *testing.T) {
	db, u := openTest(t)
	dbs := []*DB{db, openURL(t, u)}
	incs := []*incident.Incident{storetest.Create(t, db, "Checkout failing"), storetest.Create(t, db, "Search slow")}
	const writers, each = 6, 15
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed = map[string]bool{}
	)
	for p, db := range dbs {
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					inc := incs[(w+i)%len(incs)]
					var extra writeFunc
					if i%5 == 0 {
						var runs atomic.Int32
						extra = func(ctx context.Context, tx pgx.Tx) error {
							if runs.Add(1) == 1 {
								return raise("40P01")(ctx, tx)
							}
							return nil
						}
					}
					text := fmt.Sprintf("p%d w%d n%d", p, w, i)
					if _, err := note(context.Background(), db, inc.Number, text, extra); err != nil {
						if code, _ := pgError(err); code != "40P01" || extra == nil {
							t.Errorf("%s: %v", text, err)
						}
						mu.Lock()
						failed[text] = true
						mu.Unlock()
					}
				}
			}()
		}
	}
	wg.Wait()
	total := 0
	for _, inc := range incs {
		c := notes(t, db, inc)
		for text, n := range c {
			if n != 1 || failed[text] {
				t.Errorf("%s: stored %d times, reported failed %v", text, n, failed[text])
			}
		}
		got, err := db.Get(context.Background(), inc.Number)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != int64(1+len(c)) {
			t.Errorf("incident %d: version %d after %d notes", inc.Number, got.Version, len(c))
		}
		total += len(c)
	}
	if want := len(dbs)*writers*each - len(failed); total != want {
		t.Errorf("%d notes stored, want %d: all but the %d failed", total, want, len(failed))
	}
	var batches, writes int64
	for _, db := range dbs {
		batches += db.commit.batches.Load()
		writes += db.commit.writes.Load()
	}
	t.Logf("%d writes in %d transactions; %d victims failed alone", writes, batches, len(failed))
}
