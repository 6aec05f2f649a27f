package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync"
)

// Group commit. Every write of this process goes through writeTx: the writes
// that arrive while one transaction commits wait together, and the next of
// them to get the write connection runs them all in one transaction, each
// in a savepoint of its own, and commits once. A commit's cost is mostly
// its fsync, so fifty notes typed at once cost one fsync, not fifty, and
// none is answered before the commit that makes it durable. A write that
// fails (a refusal, a broken rule) rolls back to its savepoint and fails
// alone. A lone write runs at once: nothing waits for company, so under
// light load a write costs what it did before, and batches grow only as
// writes queue behind a commit.

// writeFunc is one write: it runs in tx and returns what to do once tx has
// committed (give events their numbers, say), or an error to undo it.
type writeFunc func(ctx context.Context, tx *sql.Tx) (after func(), err error)

// pendingWrite is a write waiting for, or in, a batch.
type pendingWrite struct {
	fn   writeFunc
	ctx  context.Context
	done chan writeResult
}

type writeResult struct {
	after func()
	err   error
	// batch says err is the batch's (its begin or commit failed), not
	// the write's own.
	batch bool
	// panicked is what the write's fn panicked with: it is raised again
	// in the writer's own goroutine, as it would have been without
	// batching, and fails only that write.
	panicked any
}

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

func (q *writeQueue) take() []*pendingWrite {
	q.mu.Lock()
	defer q.mu.Unlock()
	batch := q.pending
	q.pending = nil
	return batch
}

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

// writeTx runs fn in a write transaction, batched with the writes waiting
// beside it, and returns once that transaction has committed (or fn's
// error, or the commit's). If ctx ends before a batch takes the write, it
// is dropped and ctx's error returned; once taken, it is seen through, so
// that what is reported is what happened.
func (db *DB) writeTx(ctx context.Context, what string, fn writeFunc) error {
	w := &pendingWrite{fn: fn, ctx: ctx, done: make(chan writeResult, 1)}
	db.queue.push(w)
	for {
		select {
		case r := <-w.done:
			return w.finish(what, r)
		case db.writeTurn <- struct{}{}:
			// This goroutine has the write connection: it commits
			// everything waiting, its own write among them unless an
			// earlier batch took it.
			// Yield once first: writers already running on other
			// threads join this batch rather than wait out its commit.
			// It costs a lone writer microseconds, not a wait.
			runtime.Gosched()
			db.commitBatch(db.queue.take())
			<-db.writeTurn
		case <-ctx.Done():
			if db.queue.remove(w) {
				return fmt.Errorf("%s: %w", what, ctx.Err())
			}
			return w.finish(what, <-w.done)
		}
	}
}

func (w *pendingWrite) finish(what string, r writeResult) error {
	if r.panicked != nil {
		panic(r.panicked)
	}
	if r.batch {
		return fmt.Errorf("%s: %w", what, r.err)
	}
	if r.err != nil {
		return r.err
	}
	if r.after != nil {
		r.after()
	}
	return nil
}

// commitBatch runs batch in one transaction and tells each write how it
// ended, only after the commit.
func (db *DB) commitBatch(batch []*pendingWrite) {
	if len(batch) == 0 {
		return
	}
	db.batches.Add(1)
	// The transaction is the batch's, not any one writer's: a writer that
	// gives up must not undo the others' writes.
	ctx := context.Background()
	results := make([]writeResult, len(batch))
	fail := func(err error) {
		for i, w := range batch {
			if results[i].err == nil && results[i].panicked == nil {
				results[i] = writeResult{err: err, batch: true}
			}
			w.done <- results[i]
		}
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		fail(fmt.Errorf("begin: %w", err))
		return
	}
	defer tx.Rollback()
	defer clear(db.inBatch)
	alone := len(batch) == 1
	ok := 0
	for i, w := range batch {
		if err := w.ctx.Err(); err != nil {
			// Given up on while it waited: not run.
			results[i] = writeResult{err: err}
			continue
		}
		if !alone {
			if _, err := tx.ExecContext(ctx, `SAVEPOINT write`); err != nil {
				fail(fmt.Errorf("savepoint: %w", err))
				return
			}
		}
		results[i] = runWrite(ctx, tx, w.fn)
		if alone {
			break
		}
		undo := results[i].err != nil || results[i].panicked != nil
		if undo {
			// What the batch's changes left behind may be undone too.
			clear(db.inBatch)
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO write`); err != nil {
				fail(fmt.Errorf("roll back a failed write: %w", err))
				return
			}
		} else {
			ok++
		}
		if _, err := tx.ExecContext(ctx, `RELEASE write`); err != nil {
			fail(fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	if alone && (results[0].err != nil || results[0].panicked != nil) {
		batch[0].done <- results[0] // rolled back by the deferred Rollback
		return
	}
	if alone || ok > 0 {
		if err := tx.Commit(); err != nil {
			fail(fmt.Errorf("commit: %w", err))
			return
		}
	}
	for i, w := range batch {
		w.done <- results[i]
	}
}

// runWrite runs one write, catching its panic so that it fails that write
// alone.
func runWrite(ctx context.Context, tx *sql.Tx, fn writeFunc) (r writeResult) {
	defer func() {
		if p := recover(); p != nil {
			r = writeResult{panicked: p}
		}
	}()
	after, err := fn(ctx, tx)
	return writeResult{after: after, err: err}
}
