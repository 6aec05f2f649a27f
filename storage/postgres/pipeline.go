package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pipeline gathers the statements of a write that do not depend on each
// other's answers (an incident's row, its changed parts, its new events)
// and sends them together, in one round trip: every write holds the write
// lock while its statements go back and forth, so each round trip saved is
// saved for every writer waiting behind it.
type pipeline struct {
	batch pgx.Batch
	// reads take each statement's answer, in the order queued, and say
	// what was wrong with it.
	reads []func(pgx.BatchResults) error
}

// exec queues a statement whose answer only has to be success; what names
// it in an error.
func (p *pipeline) exec(what, sql string, args ...any) {
	p.execThen(what, nil, sql, args...)
}

// execThen queues a statement and check, which looks at its command tag.
func (p *pipeline) execThen(what string, check func(pgconn.CommandTag) error, sql string, args ...any) {
	p.batch.Queue(sql, args...)
	p.reads = append(p.reads, func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if check != nil {
			return check(tag)
		}
		return nil
	})
}

// queryRow queues a statement answering one row, which scan reads.
func (p *pipeline) queryRow(scan func(pgx.Row) error, sql string, args ...any) {
	p.batch.Queue(sql, args...)
	p.reads = append(p.reads, func(br pgx.BatchResults) error { return scan(br.QueryRow()) })
}

// send sends what was queued and reads every answer, returning the first
// error: a statement that failed aborts the transaction, so those after it
// fail too, and say less.
func (p *pipeline) send(ctx context.Context, tx pgx.Tx) error {
	if len(p.reads) == 0 {
		return nil
	}
	br := tx.SendBatch(ctx, &p.batch)
	var first error
	for _, read := range p.reads {
		if err := read(br); err != nil && first == nil {
			first = err
		}
	}
	if err := br.Close(); err != nil && first == nil {
		first = err
	}
	return first
}
