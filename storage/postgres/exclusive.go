package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sitrep-dev/sitrep/incident"
)

var _ incident.ExclusiveStore = (*DB)(nil)

// Exclusive work is claimed with PostgreSQL's session advisory locks, held
// on one connection of the process's own. The database releases them the
// moment that connection ends, so a process that dies (killed, crashed,
// cut off) gives up its claims without anyone waiting out a lease, and no
// clock is involved: a process whose clock is off claims nothing it should
// not. The connection is pinged every lockPing; when it fails, every claim
// it held is reported lost, because the database may already have handed
// the keys to another process.
const lockPing = 2 * time.Second

// lockIdle is how long the database keeps the claims of a connection it
// hears nothing from (PostgreSQL's idle_session_timeout, from version 14).
// A holder cut off by the network, rather than dead, leaves the database a
// connection that looks alive until TCP gives up on it, which takes hours
// by default; with this, the database ends it and hands its keys on. The
// holder's own ping fails within two lockPings, so it has stopped working
// long before: lockIdle must stay well above 2*lockPing, or a holder that
// is merely slow would lose its claim while still working.
const lockIdle = 30 * time.Second

// locker holds this process's claims.
type locker struct {
	cfg  *pgx.ConnConfig
	idle time.Duration // lockIdle; shorter in tests

	mu     sync.Mutex
	conn   *pgx.Conn
	held   map[string]chan struct{} // key → closed when the claim is lost
	closed bool
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once // close
}

func newLocker(cfg *pgx.ConnConfig) *locker {
	l := &locker{cfg: cfg, idle: lockIdle, held: map[string]chan struct{}{}, stop: make(chan struct{}), done: make(chan struct{})}
	go l.watch()
	return l
}

// TryExclusive implements incident.ExclusiveStore.
func (db *DB) TryExclusive(ctx context.Context, key string) (release func(), lost <-chan struct{}, ok bool, err error) {
	return db.locks.try(ctx, key)
}

// lockArgs names key's advisory lock: the schema's and the key's hashes,
// so that installations sharing a database do not hold each other up. Two
// keys whose hashes collide are merely claimed together.
const lockArgs = `hashtext('sitrep ' || current_schema()), hashtext($1)`

func (l *locker) try(ctx context.Context, key string) (func(), <-chan struct{}, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, nil, false, fmt.Errorf("claim %s: the database is closed", key)
	}
	if _, mine := l.held[key]; mine {
		return nil, nil, false, nil // advisory locks nest; claims do not
	}
	var ok bool
	for attempt := 0; ; attempt++ {
		if err := l.connectLocked(ctx); err != nil {
			return nil, nil, false, fmt.Errorf("claim %s: %w", key, err)
		}
		err := l.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+lockArgs+`)`, key).Scan(&ok)
		if err == nil {
			break
		}
		// A connection that held nothing may have been ended by the
		// database (idle, restarted); a new one loses nothing.
		retry := len(l.held) == 0 && attempt == 0 && ctx.Err() == nil
		l.failLocked()
		if !retry {
			return nil, nil, false, fmt.Errorf("claim %s: %w", key, err)
		}
	}
	if !ok {
		return nil, nil, false, nil
	}
	lost := make(chan struct{})
	l.held[key] = lost
	var once sync.Once
	release := func() { once.Do(func() { l.release(key, lost) }) }
	return release, lost, true, nil
}

// undefinedObject is PostgreSQL's error code for a setting it does not
// know.
const undefinedObject = "42704"

// connectLocked opens the connection that holds the claims, if it is not
// open, telling the database to end it when it goes quiet for l.idle.
func (l *locker) connectLocked(ctx context.Context) error {
	if l.conn != nil {
		return nil
	}
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("SET idle_session_timeout = %d", l.idle.Milliseconds())); err != nil {
		if code, _ := pgError(err); code != undefinedObject {
			conn.Close(context.Background())
			return err
		}
		// Before PostgreSQL 14 there is no such setting: a holder cut
		// off by the network keeps its claims until TCP gives up.
	}
	l.conn = conn
	return nil
}

func (l *locker) release(key string, lost chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[key] != lost {
		return // lost already, with the connection that held it
	}
	delete(l.held, key)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var released bool
	if err := l.conn.QueryRow(ctx, `SELECT pg_advisory_unlock(`+lockArgs+`)`, key).Scan(&released); err != nil || !released {
		// Ending the connection releases whatever it held.
		l.failLocked()
	}
}

// failLocked ends the connection, which releases its locks in the
// database, and tells every holder its claim is lost.
func (l *locker) failLocked() {
	if l.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		l.conn.Close(ctx)
		cancel()
		l.conn = nil
	}
	for key, lost := range l.held {
		close(lost)
		delete(l.held, key)
	}
}

// watch pings the connection every lockPing, so that a connection the
// database has dropped is noticed within lockPing, and so that the
// database, hearing from it, does not end it as idle.
func (l *locker) watch() {
	defer close(l.done)
	t := time.NewTicker(lockPing)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		if l.conn != nil {
			ctx, cancel := context.WithTimeout(context.Background(), lockPing)
			if err := l.conn.Ping(ctx); err != nil {
				l.failLocked()
			}
			cancel()
		}
		l.mu.Unlock()
	}
}

// close releases every claim and stops watching. Closing twice is
// harmless.
func (l *locker) close() {
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.failLocked()
		l.mu.Unlock()
		close(l.stop)
		<-l.done
	})
}
