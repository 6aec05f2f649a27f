package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Group commit. Every write that holds the write lock goes through writeTx.
// The lock makes those writes take turns, in every replica, and each held
// it for its whole transaction, commit and WAL flush included, so the
// server could never flush two of them at once. Now the writes of this
// process that arrive while one transaction runs wait together, and the
// next of them to get the turn takes the lock once, runs them all in one
// transaction, each in a savepoint of its own, and commits once. None is
// answered before the commit that makes it durable. A write that fails (a
// refusal, a broken rule) rolls back to its savepoint and fails alone; a
// panic does too, and is raised again in the writer's goroutine. A lone
// write runs at once, as it did before: batches grow only as writes queue.
//
// The batch waits for the lock before it takes the queue, so writes that
// arrive while another replica holds the lock join it, and a writer that
// gives up while it waits is dropped, never run.
//
// Several replicas share the database, and a batch holds the locks of all
// its writes until it commits. Batches cannot deadlock one another: each
// takes the write lock first, and that lock is exclusive among them. The
// writes that take no write lock touch no row a batch's writes do (a
// delivery, a claim) or lock one row for one statement (a triage
// message), so today they cannot deadlock with a batch either; but a trigger, an administrator's session or a later
// change could, and a database whose default isolation is serializable
// fails statements and COMMITs with serialization failures. When the
// server fails a write of a batch that way (SQLSTATE class 40), the batch's
// locks may have made it the victim, and it may have done nothing wrong:
// it is rolled back to its savepoint and, once the batch is over, run
// again alone. A write that ran alone fails as it did before group
// commit: its failure is its own. When the batch itself fails before its
// COMMIT is sent (a savepoint that cannot be made, a lost connection),
// nothing of it was committed, and every write that did not fail on its
// own is run again alone, in a transaction of its own as before group
// commit, where what fails is its own. A COMMIT the server refused with
// an error committed nothing too, and is handled alike. Either way each
// write is applied once: a savepoint rollback undid the one, the
// transaction's rollback the other. A COMMIT whose answer never came (the
// connection lost) may have committed: each writer is told it failed, as
// before group commit, and nothing is run again.
//
// So a write's function may run more than once; only the run that
// committed counts. The store's callers keep what a run found in
// variables they reset at the start of the run and read only once
// writeTx returned nil, after the commit.
//
// A writer whose context ends while its write waits in the queue gets the
// context's error and its write is never run. Once a batch has taken it,
// the write is seen through with its context's cancellation detached (pgx
// closes a connection whose query is cancelled, which would end the whole
// batch), and the writer is told what happened: committed or failed.

// writeFunc is one write: it runs in tx and returns an error to undo it.
// It must use ctx, not its caller's context.
type writeFunc func(ctx context.Context, tx pgx.Tx) error

// committer is the group commit state of a DB. Its zero value is ready.
type committer struct {
	once sync.Once
	// turn is held by the goroutine running a batch.
	turn  chan struct{}
	queue writeQueue
	// batches counts the transactions writes were committed in (or tried
	// to be); writes counts the writes committed.
	batches, writes atomic.Int64
}

func (c *committer) init() {
	c.once.Do(func() { c.turn = make(chan struct{}, 1) })
}

// pendingWrite is a write waiting for, or in, a batch.
type pendingWrite struct {
	fn   writeFunc
	ctx  context.Context
	done chan writeResult
}

type writeResult struct {
	err error
	// batch says err is the batch's, not the write's own: the writer's
	// message names what it was doing.
	batch bool
	// alone says the write was undone through no fault of its own: the
	// writer runs it again, alone.
	alone bool
	// panicked is what the write's fn panicked with: it is raised again
	// in the writer's own goroutine and fails only that write.
	panicked any
}

func (r writeResult) failed() bool { return r.err != nil || r.panicked != nil || r.alone }

// writeQueue is the writes waiting for the next batch.
type writeQueue struct {
	mu      sync.Mutex
	pending []*pendingWrite
}

func (q *writeQueue) push(w *pendingWrite) {
	q.mu.Lock()
	q.pending = append(q.pending, w)
	q.mu.Unlock()
}

func (q *writeQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}

// take takes the first limit writes waiting.
func (q *writeQueue) take(limit int) []*pendingWrite {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(limit, len(q.pending))
	batch := slices.Clone(q.pending[:n])
	q.pending = slices.Delete(q.pending, 0, n)
	return batch
}

// maxBatch is the most writes one transaction runs. A write in a
// savepoint is a subtransaction with an XID of its own, and the server
// caches 64 of a transaction's in shared memory; past that its snapshots
// overflow, and other sessions look the transaction's XIDs up in
// pg_subtrans while it runs, which slows reads across the database. The
// writes beyond it wait for the next batch.
const maxBatch = 64

// remove takes w out of the queue, reporting false if a batch already has it.
func (q *writeQueue) remove(w *pendingWrite) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, p := range q.pending {
		if p == w {
			q.pending = append(q.pending[:i], q.pending[i+1:]...)
			return true
		}
	}
	return false
}

// writeTx runs fn in a transaction holding the write lock, batched with the
// writes waiting beside it, and returns once that transaction has committed
// (or fn's error, or the batch's).
func (db *DB) writeTx(ctx context.Context, what string, fn writeFunc) error {
	c := &db.commit
	c.init()
	w := &pendingWrite{fn: fn, ctx: ctx, done: make(chan writeResult, 1)}
	c.queue.push(w)
	for {
		select {
		case r := <-w.done:
			return db.finish(ctx, what, w, r)
		case c.turn <- struct{}{}:
			// This goroutine runs the next batch, its own write among
			// them unless an earlier batch took it. Yield once first:
			// writers already running on other threads join this batch
			// rather than wait out its commit.
			runtime.Gosched()
			db.runBatch(ctx)
			<-c.turn
		case <-ctx.Done():
			if c.queue.remove(w) {
				return fmt.Errorf("%s: %w", what, ctx.Err())
			}
			return db.finish(ctx, what, w, <-w.done)
		}
	}
}

func (db *DB) finish(ctx context.Context, what string, w *pendingWrite, r writeResult) error {
	switch {
	case r.panicked != nil:
		panic(r.panicked)
	case r.alone:
		return db.soloTx(ctx, what, w.fn)
	case r.batch:
		return fmt.Errorf("%s: %w", what, r.err)
	}
	return r.err
}

// soloTx runs fn alone in a transaction of its own holding the write lock,
// with the writer's own context: how every write ran before group commit,
// and how a write undone with its batch runs again. A panic in fn rolls
// the transaction back and releases the lock.
func (db *DB) soloTx(ctx context.Context, what string, fn writeFunc) error {
	db.commit.batches.Add(1)
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	db.commit.writes.Add(1)
	return nil
}

// beginWrite begins a transaction holding the write lock. BEGIN and LOCK go
// together, in one round trip: every write waits on the lock, so what is
// sent while holding it, or before taking it, is what writes cost.
func (db *DB) beginWrite(ctx context.Context) (pgx.Tx, error) {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: "BEGIN; " + writeLock})
	if err != nil {
		return nil, fmt.Errorf("begin and lock: %w", err)
	}
	return tx, nil
}

// runBatch takes the write lock with ctx, the leader's, then the writes
// queued by then, runs them in one transaction and tells each how it
// ended, only after the commit.
func (db *DB) runBatch(ctx context.Context) {
	c := &db.commit
	if c.queue.len() == 0 || ctx.Err() != nil {
		return
	}
	// Statements after the lock are the batch's, not any one writer's: a
	// writer that gives up must not end the others' writes.
	bg := context.WithoutCancel(ctx)
	tx, err := db.beginWrite(ctx)
	if err == nil {
		defer tx.Rollback(bg)
	}
	if err != nil && ctx.Err() != nil {
		// The leader gave up waiting; the queue waits for the next.
		return
	}
	batch := c.queue.take(maxBatch)
	if len(batch) == 0 {
		return
	}
	c.batches.Add(1)
	results := make([]writeResult, len(batch))
	deliver := func() {
		for i, w := range batch {
			w.done <- results[i]
		}
	}
	// undone ends a batch that failed before its COMMIT was sent: nothing
	// of it was committed, and each write that did not fail of itself
	// runs again alone. A lone write's failure is its own, as before.
	undone := func(err error) {
		for i := range results {
			r := &results[i]
			switch {
			case len(batch) == 1:
				*r = writeResult{err: err, batch: true}
			case r.panicked != nil || r.err != nil:
				// Failed of itself, or given up on: as it is.
			default:
				*r = writeResult{alone: true}
			}
		}
		deliver()
	}
	if err != nil {
		undone(err)
		return
	}
	alone := len(batch) == 1
	ok := 0
	for i, w := range batch {
		if err := w.ctx.Err(); err != nil {
			// Given up on after the batch took it: not run.
			results[i] = writeResult{err: err, batch: true}
			continue
		}
		wctx := context.WithoutCancel(w.ctx)
		if alone {
			results[i] = runWrite(wctx, tx, w.fn)
			break
		}
		// Each write's savepoint is made inside the one before, not
		// released: ROLLBACK TO names the latest, the write's own, and
		// a release would cost a round trip a write.
		if _, err := tx.Exec(bg, `SAVEPOINT write`); err != nil {
			undone(fmt.Errorf("savepoint: %w", err))
			return
		}
		results[i] = runWrite(wctx, tx, w.fn)
		if results[i].failed() {
			if _, err := tx.Exec(bg, `ROLLBACK TO SAVEPOINT write`); err != nil {
				// Its error may have been the connection's too.
				if results[i].panicked == nil {
					results[i] = writeResult{alone: true}
				}
				undone(fmt.Errorf("roll back a failed write: %w", err))
				return
			}
			if retryable(results[i].err) {
				// The batch's locks may have made it the victim.
				results[i] = writeResult{alone: true}
			}
		} else {
			ok++
		}
	}
	if alone {
		if !results[0].failed() {
			ok = 1
		}
	}
	if ok == 0 {
		deliver() // rolled back by the deferred Rollback
		return
	}
	if err := tx.Commit(bg); err != nil {
		err = fmt.Errorf("commit: %w", err)
		if !alone && refused(err) {
			undone(err)
			return
		}
		for i := range results {
			if !results[i].failed() {
				results[i] = writeResult{err: err, batch: true}
			}
		}
		deliver()
		return
	}
	c.writes.Add(int64(ok))
	deliver()
}

// runWrite runs one write, catching its panic so that it fails that write
// alone.
func runWrite(ctx context.Context, tx pgx.Tx, fn writeFunc) (r writeResult) {
	defer func() {
		if p := recover(); p != nil {
			r = writeResult{panicked: p}
		}
	}()
	return writeResult{err: fn(ctx, tx)}
}

// retryable reports whether err is the server ending a statement to break
// a deadlock or a serialization failure (SQLSTATE class 40), which running
// again may not meet.
func retryable(err error) bool {
	code, _ := pgError(err)
	return strings.HasPrefix(code, "40")
}

// refused reports whether a failed COMMIT was answered by the server with
// an error, after which it rolled the transaction back and kept the
// session: a serialization failure or a deferred constraint found at
// commit. Any other failure may have come after the server committed: the
// connection lost, or the session ended (a FATAL error, such as an
// administrator's termination, which can arrive once the commit is made).
func refused(err error) bool {
	if errors.Is(err, pgx.ErrTxCommitRollback) {
		return true
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	severity := pe.SeverityUnlocalized
	if severity == "" {
		severity = pe.Severity
	}
	return severity == "ERROR"
}
