package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/mattn/go-sqlite3"

	"github.com/sitrep-dev/sitrep/incident"
)

// selectIncident reads an incident with its roles in one statement, so that
// reads outside a transaction still see a consistent incident. The
// checklist and follow-ups are put in order in Go (parseChecklist,
// parseFollowUps): with an ORDER BY in both aggregates SQLite took five
// times as long over the whole statement (BenchmarkPromptPass).
const selectIncident = `SELECT
	i.id, i.number, i.title, i.severity, i.status, i.summary, i.impact, i.root_cause,
	i.mitigation, i.contributing_factors, i.went_well, i.went_badly, i.learnings, i.remediations,
	i.services, i.private, i.drill, i.declared_by, i.source,
	i.declared_at, i.resolved_at, i.closed_at, i.updated_at, i.version,
	i.last_update_at, i.update_prompts, i.postmortem_at, i.postmortem_prompts, i.next_prompt_at, i.update_every,
	i.pages, i.next_page_at, i.public,
	(SELECT json_group_object(r.role, r.user_id) FROM incident_roles r WHERE r.incident_id = i.id),
	(SELECT json_group_array(json_object('id', c.item_id, 'kind', c.kind, 'text', c.text, 'suggestion', c.suggestion,
		'answer', c.answer, 'answered_by', c.answered_by, 'answered_at', c.answered_at, 'suggested', c.suggested, 'position', c.position))
		FROM checklist_items c WHERE c.incident_id = i.id),
	(SELECT json_group_array(json_object('id', f.id, 'text', f.text, 'owner', f.owner, 'created_by', f.created_by,
		'created_at', f.created_at, 'done_by', f.done_by, 'done_at', f.done_at, 'export_to', f.export_to,
		'issue_tracker', f.issue_tracker, 'issue_key', f.issue_key, 'issue_url', f.issue_url))
		FROM follow_ups f WHERE f.incident_id = i.id)
FROM incidents i `

func scanIncident(row interface{ Scan(...any) error }) (*incident.Incident, error) {
	var (
		inc                                        incident.Incident
		status, services, roles, checks, followUps string
		declared, resolved, closed, updated        sql.NullString
		lastUpdate, postmortem, nextPrompt, public sql.NullString
		updateEvery                                int64
		pages                                      string
		nextPage                                   sql.NullString
	)
	if err := row.Scan(
		&inc.ID, &inc.Number, &inc.Title, &inc.Severity, &status, &inc.Summary, &inc.Impact, &inc.RootCause,
		&inc.Mitigation, &inc.ContributingFactors, &inc.WentWell, &inc.WentBadly, &inc.Learnings, &inc.Remediations,
		&services, &inc.Private, &inc.Drill, &inc.DeclaredBy, &inc.Source,
		&declared, &resolved, &closed, &updated, &inc.Version,
		&lastUpdate, &inc.UpdatePrompts, &postmortem, &inc.PostmortemPrompts, &nextPrompt, &updateEvery,
		&pages, &nextPage, &public,
		&roles, &checks, &followUps,
	); err != nil {
		return nil, err
	}
	inc.Status = incident.Status(status)
	inc.UpdateEvery = time.Duration(updateEvery) * time.Second
	var err error
	if inc.Services, err = parseServices(services); err != nil {
		return nil, err
	}
	if inc.Roles, err = parseRoles(roles); err != nil {
		return nil, err
	}
	if inc.Checklist, err = parseChecklist(checks); err != nil {
		return nil, err
	}
	if inc.FollowUps, err = parseFollowUps(followUps); err != nil {
		return nil, err
	}
	if inc.Pages, err = parsePages(pages); err != nil {
		return nil, err
	}
	if inc.Public, err = parsePublic(public); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		dst *time.Time
		src sql.NullString
	}{
		{&inc.DeclaredAt, declared}, {&inc.ResolvedAt, resolved}, {&inc.ClosedAt, closed}, {&inc.UpdatedAt, updated},
		{&inc.LastUpdateAt, lastUpdate}, {&inc.PostmortemAt, postmortem}, {&inc.NextPromptAt, nextPrompt},
		{&inc.NextPageAt, nextPage},
	} {
		if *t.dst, err = parseTime(t.src); err != nil {
			return nil, err
		}
	}
	return &inc, nil
}

// txReads are the incident reads made inside write transactions. Their
// statements are prepared on the write pool when the database is opened:
// the pool's one connection is taken while a transaction runs, so they
// could not be prepared then.
var txReads = []string{`WHERE i.number = ?`, `WHERE i.id = ?`}

// getIncident returns the one incident matching where, or nil if none does.
// It reads in tx, or from the read pool when tx is nil. Statements are
// prepared once per pool: preparing selectIncident cost more than running
// it.
func (db *DB) getIncident(ctx context.Context, tx *sql.Tx, where string, args ...any) (*incident.Incident, error) {
	var stmt *sql.Stmt
	if tx != nil {
		st, ok := db.writeStmts.lookup(selectIncident + where)
		if !ok {
			return nil, fmt.Errorf("read incident %s: not among txReads", where)
		}
		stmt = tx.StmtContext(ctx, st)
	} else {
		var err error
		if stmt, err = db.readStmts.prepare(ctx, db.read, selectIncident+where); err != nil {
			return nil, err
		}
	}
	inc, err := scanIncident(stmt.QueryRowContext(ctx, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return inc, err
}

// stmtCache holds statements prepared on one pool, by query.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func (c *stmtCache) prepare(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = st
	return st, nil
}

// writeStmt returns a statement of writeStmts, which Open prepares on the
// write pool, for a transaction to run with tx.StmtContext. Preparing in
// each transaction cost more than running them (sitrep-bench).
func (db *DB) writeStmt(query string) (*sql.Stmt, error) {
	st, ok := db.writeStmts.lookup(query)
	if !ok {
		return nil, fmt.Errorf("statement not prepared at Open: %.40s", query)
	}
	return st, nil
}

func (c *stmtCache) lookup(query string) (*sql.Stmt, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.stmts[query]
	return st, ok
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.stmts {
		errs = append(errs, st.Close())
	}
	c.stmts = nil
	return errors.Join(errs...)
}

// domainArgs are the values of the columns the domain owns, in the order of
// domainColumns.
const domainColumns = `title, severity, status, summary, impact, root_cause,
	mitigation, contributing_factors, went_well, went_badly, learnings, remediations, services, private, drill,
	declared_by, source, update_prompts, postmortem_prompts, update_every,
	declared_at, resolved_at, closed_at, updated_at, last_update_at, postmortem_at, next_prompt_at,
	pages, next_page_at, public, public_at, public_open`

func domainArgs(inc *incident.Incident) ([]any, error) {
	services, err := servicesArg(inc.Services)
	if err != nil {
		return nil, err
	}
	args := []any{inc.Title, inc.Severity, string(inc.Status), inc.Summary, inc.Impact, inc.RootCause,
		inc.Mitigation, inc.ContributingFactors, inc.WentWell, inc.WentBadly, inc.Learnings, inc.Remediations,
		services, inc.Private, inc.Drill, inc.DeclaredBy, inc.Source, inc.UpdatePrompts, inc.PostmortemPrompts,
		int64(inc.UpdateEvery / time.Second)}
	for _, t := range []time.Time{inc.DeclaredAt, inc.ResolvedAt, inc.ClosedAt, inc.UpdatedAt, inc.LastUpdateAt, inc.PostmortemAt, inc.NextPromptAt} {
		a, err := timeArg(t)
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	}
	pages, err := pagesArg(inc.Pages)
	if err != nil {
		return nil, err
	}
	next, err := timeArg(inc.NextPageAt)
	if err != nil {
		return nil, err
	}
	args = append(args, pages, next)
	public, err := publicArgs(inc.Public)
	if err != nil {
		return nil, err
	}
	return append(args, public...), nil
}

// Create stores a new incident and its first events in one transaction.
// It assigns inc.Number (one more than the highest so far), inc.Version (1),
// inc.ID when it is empty, and each event's Seq and IncidentID, and changes
// none of them unless it succeeds.
func (db *DB) Create(ctx context.Context, inc *incident.Incident, events []incident.Event) error {
	// The transaction begins IMMEDIATE (see dsn): no other writer, in this
	// process or another, can commit between reading MAX(number) and
	// inserting, so numbers have no gaps or duplicates. The UNIQUE
	// constraint on number is the backstop.
	return db.writeTx(ctx, "create incident", func(ctx context.Context, tx *sql.Tx) (func(), error) {
		id, number, seqs, err := db.createIn(ctx, tx, inc, events)
		if err != nil {
			return nil, err
		}
		return func() {
			inc.ID, inc.Number, inc.Version = id, number, 1
			for i := range events {
				events[i].Seq, events[i].IncidentID = seqs[i], id
			}
		}, nil
	})
}

// createIn is Create's work inside tx, leaving inc and events unchanged.
func (db *DB) createIn(ctx context.Context, tx *sql.Tx, inc *incident.Incident, events []incident.Event) (id string, number int64, seqs []int64, err error) {
	id = inc.ID
	if id == "" {
		id = uuid.NewString()
	}
	args, err := domainArgs(inc)
	if err != nil {
		return "", 0, nil, fmt.Errorf("create incident: %w", err)
	}
	insert, err := db.writeStmt(insertEvent)
	if err != nil {
		return "", 0, nil, fmt.Errorf("create incident: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM incidents`).Scan(&number); err != nil {
		return "", 0, nil, fmt.Errorf("next incident number: %w", err)
	}
	const version = 1
	args = append([]any{id, number, version}, args...)
	if _, err := tx.ExecContext(ctx, `INSERT INTO incidents (id, number, version, `+domainColumns+`, change_seq)
		VALUES (`+placeholders(len(args))+`, `+nextChange+`)`, args...); err != nil {
		return "", 0, nil, fmt.Errorf("insert incident: %w", err)
	}
	if err := writeParts(ctx, tx, id, &incident.Incident{}, inc); err != nil {
		return "", 0, nil, err
	}
	if seqs, err = db.insertEvents(ctx, tx, insert, id, events); err != nil {
		return "", 0, nil, err
	}
	return id, number, seqs, nil
}

// Update changes incident number in one transaction: it loads it, calls fn,
// and stores the incident's domain fields, its roles and the events fn
// returns, with Version incremented. Changes fn makes to ID, Number or
// Version are ignored. If fn returns an error, Update stores nothing and
// returns that error as it is. The transaction holds the write lock while fn
// runs, so fn should be quick and must not write through the Store (it would
// wait for itself); it may read.
//
// Update returns the incident as stored: what fn made of it, in the form Get
// returns (see stored). It is not read back, which would cost a third of a
// note's time in the store (sitrep-bench).
func (db *DB) Update(ctx context.Context, number int64, fn func(*incident.Incident) ([]incident.Event, error)) (*incident.Incident, error) {
	var inc *incident.Incident
	err := db.writeTx(ctx, "update incident", func(ctx context.Context, tx *sql.Tx) (func(), error) {
		var (
			commit func()
			err    error
		)
		inc, commit, err = db.updateIn(ctx, tx, number, fn)
		return commit, err
	})
	if err != nil {
		return nil, err
	}
	return inc, nil
}

// updateIn is Update's work inside tx. commit gives the events fn returned
// their Seq and IncidentID, once tx has committed.
func (db *DB) updateIn(ctx context.Context, tx *sql.Tx, number int64, fn func(*incident.Incident) ([]incident.Event, error)) (_ *incident.Incident, commit func(), _ error) {
	update, err := db.writeStmt(updateIncident)
	if err != nil {
		return nil, nil, fmt.Errorf("update incident: %w", err)
	}
	insert, err := db.writeStmt(insertEvent)
	if err != nil {
		return nil, nil, fmt.Errorf("update incident: %w", err)
	}
	inc, err := db.loadForChange(ctx, tx, number)
	if err != nil {
		return nil, nil, err
	}
	id, version := inc.ID, inc.Version
	before := parts(inc)

	events, err := fn(inc)
	if err != nil {
		return nil, nil, err
	}

	args, err := domainArgs(inc)
	if err != nil {
		return nil, nil, fmt.Errorf("update incident: %w", err)
	}
	args = append(args, version+1, id, version)
	// The version condition cannot fail while transactions take the write
	// lock at BEGIN; it guards against that ever changing.
	res, err := tx.StmtContext(ctx, update).ExecContext(ctx, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("update incident: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, nil, fmt.Errorf("update incident: %w", err)
	} else if n != 1 {
		return nil, nil, fmt.Errorf("update incident %d: changed by another writer", number)
	}
	if err := writeParts(ctx, tx, id, before, inc); err != nil {
		return nil, nil, err
	}
	seqs, err := db.insertEvents(ctx, tx, insert, id, events)
	if err != nil {
		return nil, nil, err
	}
	inc.ID, inc.Number, inc.Version = id, number, version+1
	inc = stored(inc)
	db.inBatch[number] = cloneIncident(inc)
	return inc, func() {
		for i := range events {
			events[i].Seq, events[i].IncidentID = seqs[i], id
		}
		db.cache.put(inc)
	}, nil
}

// selectVersion reads what names an incident's state: its ID and version.
const selectVersion = `SELECT id, version FROM incidents WHERE number = ?`

// loadForChange reads incident number in tx for a change: from the cache
// when it holds the version the database has, else in full.
func (db *DB) loadForChange(ctx context.Context, tx *sql.Tx, number int64) (*incident.Incident, error) {
	st, err := db.writeStmt(selectVersion)
	if err != nil {
		return nil, err
	}
	var (
		id      string
		version int64
	)
	err = tx.StmtContext(ctx, st).QueryRowContext(ctx, number).Scan(&id, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, incident.Errorf(incident.ENOTFOUND, "There is no incident #%d.", number)
	}
	if err != nil {
		return nil, fmt.Errorf("load incident %d: %w", number, err)
	}
	if inc := db.inBatch[number]; inc != nil && inc.Version == version {
		return cloneIncident(inc), nil
	}
	if inc := db.cache.get(number, version); inc != nil {
		return inc, nil
	}
	inc, err := db.getIncident(ctx, tx, `WHERE i.number = ?`, number)
	if err != nil {
		return nil, fmt.Errorf("load incident %d: %w", number, err)
	}
	if inc == nil {
		return nil, incident.Errorf(incident.ENOTFOUND, "There is no incident #%d.", number)
	}
	return inc, nil
}

// stored puts a changed incident in the form Get returns it in: times in
// UTC without monotonic readings, and empty lists nil, as they read back.
// The store's tests compare Update's result with Get's after every kind of
// change.
func stored(inc *incident.Incident) *incident.Incident {
	for _, t := range []*time.Time{&inc.DeclaredAt, &inc.ResolvedAt, &inc.ClosedAt, &inc.UpdatedAt, &inc.LastUpdateAt, &inc.PostmortemAt, &inc.NextPromptAt, &inc.NextPageAt} {
		*t = utc(*t)
	}
	if len(inc.Pages) == 0 {
		inc.Pages = nil
	}
	for i := range inc.Pages {
		p := &inc.Pages[i]
		p.At, p.Due, p.AckAt = utc(p.At), utc(p.Due), utc(p.AckAt)
	}
	if len(inc.Services) == 0 {
		inc.Services = nil
	}
	if inc.Roles == nil {
		inc.Roles = map[string]string{}
	}
	if len(inc.Checklist) == 0 {
		inc.Checklist = nil
	}
	for i := range inc.Checklist {
		inc.Checklist[i].AnsweredAt = utc(inc.Checklist[i].AnsweredAt)
	}
	if len(inc.FollowUps) == 0 {
		inc.FollowUps = nil
	}
	inc.Public = storedPublic(inc.Public)
	for i := range inc.FollowUps {
		f := &inc.FollowUps[i]
		f.CreatedAt, f.DoneAt = utc(f.CreatedAt), utc(f.DoneAt)
	}
	return inc
}

// utc is t as stored and read back: UTC, no monotonic reading, and the zero
// time for "not yet".
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// updateIncident stores the domain's columns of an incident and its new
// version (domainArgs, then version, id and the version read).
const updateIncident = `UPDATE incidents SET
	title = ?, severity = ?, status = ?, summary = ?, impact = ?, root_cause = ?,
	mitigation = ?, contributing_factors = ?, went_well = ?, went_badly = ?, learnings = ?, remediations = ?, services = ?,
	private = ?, drill = ?, declared_by = ?, source = ?, update_prompts = ?, postmortem_prompts = ?, update_every = ?,
	declared_at = ?, resolved_at = ?, closed_at = ?, updated_at = ?, last_update_at = ?, postmortem_at = ?, next_prompt_at = ?,
	pages = ?, next_page_at = ?, public = ?, public_at = ?, public_open = ?,
	version = ?, change_seq = ` + nextChange + `
	WHERE id = ? AND version = ?`

// nextChange numbers a change: one more than the latest, read through the
// incidents_change_seq index. Every write transaction holds the database's
// write lock from BEGIN, so no two changes get the same number, in this
// process or another.
const nextChange = `(SELECT COALESCE(MAX(change_seq), 0) + 1 FROM incidents)`

// insertEvent appends one event to a timeline.
const insertEvent = `INSERT INTO events (incident_id, at, kind, actor, text, source, data, recorded_at, key, names)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertEvents appends events to the incident's timeline with insert (the
// write pool's insertEvent) and returns their seqs, leaving the events
// unchanged until the transaction commits.
func (db *DB) insertEvents(ctx context.Context, tx *sql.Tx, insert *sql.Stmt, incidentID string, events []incident.Event) ([]int64, error) {
	if len(events) == 0 {
		return nil, nil
	}
	stmt := tx.StmtContext(ctx, insert)
	defer stmt.Close()
	recorded := formatTime(db.Now())
	seqs := make([]int64, len(events))
	for i, e := range events {
		at, err := timeArg(e.At)
		if err != nil {
			return nil, fmt.Errorf("insert event: %w", err)
		}
		data, err := dataArg(e.Data)
		if err != nil {
			return nil, fmt.Errorf("insert event: %w", err)
		}
		names, err := dataArg(e.Names)
		if err != nil {
			return nil, fmt.Errorf("insert event: %w", err)
		}
		res, err := stmt.ExecContext(ctx, incidentID, at, string(e.Kind), e.Actor, e.Text, e.Source, data, recorded, e.Key, names)
		var se sqlite3.Error
		if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique && e.Key != "" {
			return nil, &incident.Error{Code: incident.ECONFLICT, Message: "That is already on the timeline.", Field: "key"}
		}
		if err != nil {
			return nil, fmt.Errorf("insert event: %w", err)
		}
		// seq is the rowid, so the last insert ID is the seq.
		if seqs[i], err = res.LastInsertId(); err != nil {
			return nil, fmt.Errorf("insert event: %w", err)
		}
	}
	return seqs, nil
}

// Get returns incident number, or an ENOTFOUND error.
func (db *DB) Get(ctx context.Context, number int64) (*incident.Incident, error) {
	inc, err := db.getIncident(ctx, nil, `WHERE i.number = ?`, number)
	if err != nil {
		return nil, fmt.Errorf("get incident %d: %w", number, err)
	}
	if inc == nil {
		return nil, incident.Errorf(incident.ENOTFOUND, "There is no incident #%d.", number)
	}
	return inc, nil
}

// List returns incidents, newest (highest number) first.
func (db *DB) List(ctx context.Context, f incident.ListFilter) ([]*incident.Incident, error) {
	where := ``
	if f.OpenOnly {
		// Matches the incidents_open partial index; keep them in step.
		where = `WHERE i.status NOT IN ('resolved', 'closed') `
	}
	limit := int64(-1) // SQLite: no limit
	if f.Limit > 0 {
		limit = int64(f.Limit)
	}
	rows, err := db.read.QueryContext(ctx, selectIncident+where+`ORDER BY i.number DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	var incs []*incident.Incident
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		incs = append(incs, inc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return incs, nil
}

// Events returns the incident's events with Seq > afterSeq, by Seq. An
// unknown incident has no events.
func (db *DB) Events(ctx context.Context, incidentID string, afterSeq int64) ([]incident.Event, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT seq, incident_id, at, kind, actor, text, source, data, key, names
		FROM events WHERE incident_id = ? AND seq > ? ORDER BY seq`, incidentID, afterSeq)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var events []incident.Event
	for rows.Next() {
		var (
			e               incident.Event
			kind            string
			at, data, names sql.NullString
		)
		if err := rows.Scan(&e.Seq, &e.IncidentID, &at, &kind, &e.Actor, &e.Text, &e.Source, &data, &e.Key, &names); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		e.Kind = incident.EventKind(kind)
		if e.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		if e.Data, err = parseData(data); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		if e.Names, err = parseData(names); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return events, nil
}

// claimRetention is how long claims are kept. Slack retries an event for
// about an hour at most; a day leaves room for a long outage.
const claimRetention = 24 * time.Hour

// Claim records key and reports whether this was the first claim of it.
// Claims older than a day are pruned as new ones are made.
func (db *DB) Claim(ctx context.Context, key string, at time.Time) (bool, error) {
	var first bool
	err := db.writeTx(ctx, "claim", func(ctx context.Context, tx *sql.Tx) (func(), error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO claims (key, claimed_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, formatTime(at))
		if err != nil {
			return nil, fmt.Errorf("claim %q: %w", key, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, fmt.Errorf("claim %q: %w", key, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM claims WHERE claimed_at < ?`, formatTime(at.Add(-claimRetention))); err != nil {
			return nil, fmt.Errorf("prune claims: %w", err)
		}
		first = n == 1
		return nil, nil
	})
	return first, err
}

// DuePrompts returns the incidents with a prompt due at now, oldest due
// first, and the earliest prompt due after now (zero if none). Both
// queries read only the incidents_prompts index.
func (db *DB) DuePrompts(ctx context.Context, now time.Time) ([]int64, time.Time, error) {
	at := formatTime(now)
	rows, err := db.read.QueryContext(ctx, `SELECT number FROM incidents
		WHERE next_prompt_at IS NOT NULL AND next_prompt_at <= ? ORDER BY next_prompt_at`, at)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("due prompts: %w", err)
	}
	defer rows.Close()
	var due []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, time.Time{}, fmt.Errorf("due prompts: %w", err)
		}
		due = append(due, n)
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("due prompts: %w", err)
	}
	var next sql.NullString
	if err := db.read.QueryRowContext(ctx, `SELECT MIN(next_prompt_at) FROM incidents
		WHERE next_prompt_at IS NOT NULL AND next_prompt_at > ?`, at).Scan(&next); err != nil {
		return nil, time.Time{}, fmt.Errorf("next prompt: %w", err)
	}
	t, err := parseTime(next)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("next prompt: %w", err)
	}
	return due, t, nil
}
