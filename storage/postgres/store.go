package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sitrep-dev/sitrep/incident"
)

// selectIncident reads an incident with its roles, checklist and
// follow-ups in one statement, so that reads outside a transaction still
// see a consistent incident.
const selectIncident = `SELECT
	i.id, i.number, i.title, i.severity, i.status, i.summary, i.impact, i.root_cause,
	i.mitigation, i.contributing_factors, i.went_well, i.went_badly, i.learnings, i.remediations,
	i.services::text, i.private, i.drill, i.declared_by, i.source,
	i.declared_at, i.resolved_at, i.closed_at, i.updated_at, i.version,
	i.last_update_at, i.update_prompts, i.postmortem_at, i.postmortem_prompts, i.next_prompt_at, i.update_every,
	i.pages::text, i.next_page_at, i.public::text,
	(SELECT coalesce(jsonb_object_agg(r.role, r.user_id), '{}')::text FROM incident_roles r WHERE r.incident_id = i.id),
	(SELECT coalesce(jsonb_agg(jsonb_build_object('id', c.item_id, 'kind', c.kind, 'text', c.text, 'suggestion', c.suggestion,
		'answer', c.answer, 'answered_by', c.answered_by, 'answered_at', c.answered_at, 'suggested', c.suggested) ORDER BY c.position), '[]')::text
		FROM checklist_items c WHERE c.incident_id = i.id),
	(SELECT coalesce(jsonb_agg(jsonb_build_object('id', f.id, 'text', f.text, 'owner', f.owner, 'created_by', f.created_by,
		'created_at', f.created_at, 'done_by', f.done_by, 'done_at', f.done_at, 'export_to', f.export_to,
		'issue_tracker', f.issue_tracker, 'issue_key', f.issue_key, 'issue_url', f.issue_url) ORDER BY f.id), '[]')::text
		FROM follow_ups f WHERE f.incident_id = i.id)
FROM incidents i `

func scanIncident(row pgx.Row) (*incident.Incident, error) {
	var (
		inc                                        incident.Incident
		status, services, roles, checks, followUps string
		declared, resolved, closed, updated        *string
		lastUpdate, postmortem, nextPrompt         *string
		updateEvery                                int64
		pages                                      string
		nextPage, public                           *string
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
		src *string
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

// getIncident scans the one incident row selectIncident found, or returns
// nil if it found none.
func getIncident(row pgx.Row) (*incident.Incident, error) {
	inc, err := scanIncident(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return inc, err
}

// domainColumns are the columns the domain owns, in the order of
// domainArgs.
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
	public, err := publicArgs(inc.Public)
	if err != nil {
		return nil, err
	}
	return append(append(args, pages, next), public...), nil
}

// placeholders returns "$from, $from+1, …" for n parameters.
func placeholders(from, n int) string {
	s := ""
	for i := range n {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("$%d", from+i)
	}
	return s
}

// Create stores a new incident and its first events in one transaction.
// It assigns inc.Number (one more than the highest so far), inc.Version (1),
// inc.ID when it is empty, and each event's Seq and IncidentID, and changes
// none of them unless it succeeds.
func (db *DB) Create(ctx context.Context, inc *incident.Incident, events []incident.Event) error {
	var (
		id     string
		number int64
		seqs   []int64
	)
	err := db.writeTx(ctx, "create incident", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		id, number, seqs, err = db.createIn(ctx, tx, inc, events)
		return err
	})
	if err != nil {
		return err
	}
	inc.ID, inc.Number, inc.Version = id, number, 1
	for i := range events {
		events[i].Seq, events[i].IncidentID = seqs[i], id
	}
	return nil
}

// createIn is Create's work inside tx, which holds the write lock, leaving
// inc and events unchanged. Holding the lock, no other writer in any
// replica can commit between reading MAX(number) and inserting, so numbers
// have no gaps or duplicates; the UNIQUE constraint is the backstop.
func (db *DB) createIn(ctx context.Context, tx pgx.Tx, inc *incident.Incident, events []incident.Event) (id string, number int64, seqs []int64, err error) {
	id = inc.ID
	if id == "" {
		id = uuid.NewString()
	}
	args, err := domainArgs(inc)
	if err != nil {
		return "", 0, nil, fmt.Errorf("create incident: %w", err)
	}
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM incidents`).Scan(&number); err != nil {
		return "", 0, nil, fmt.Errorf("next incident number: %w", err)
	}
	const version = 1
	args = append([]any{id, number, version}, args...)
	var q pipeline
	q.exec("insert incident", `INSERT INTO incidents (id, number, version, `+domainColumns+`, change_seq)
		VALUES (`+placeholders(1, len(args))+`, `+nextChange+`)`, args...)
	if err := queueParts(&q, id, &incident.Incident{}, inc); err != nil {
		return "", 0, nil, err
	}
	if seqs, err = db.queueEvents(&q, id, events); err != nil {
		return "", 0, nil, err
	}
	if err := q.send(ctx, tx); err != nil {
		return "", 0, nil, err
	}
	return id, number, seqs, nil
}

// Update changes incident number in one transaction: it loads it, calls fn,
// and stores the incident's domain fields, its parts and the events fn
// returns, with Version incremented. Changes fn makes to ID, Number or
// Version are ignored. If fn returns an error, Update stores nothing and
// returns that error as it is. The transaction holds the write lock while
// fn runs, so fn must be quick and must not write through the Store.
func (db *DB) Update(ctx context.Context, number int64, fn func(*incident.Incident) ([]incident.Event, error)) (*incident.Incident, error) {
	var (
		inc    *incident.Incident
		commit func()
	)
	err := db.writeTx(ctx, "update incident", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		inc, commit, err = db.updateIn(ctx, tx, number, fn)
		return err
	})
	if err != nil {
		return nil, err
	}
	commit()
	return inc, nil
}

// updateIn is Update's work inside tx. commit gives the events fn returned
// their Seq and IncidentID, once tx has committed.
func (db *DB) updateIn(ctx context.Context, tx pgx.Tx, number int64, fn func(*incident.Incident) ([]incident.Event, error)) (_ *incident.Incident, commit func(), _ error) {
	inc, err := getIncident(tx.QueryRow(ctx, selectIncident+`WHERE i.number = $1`, number))
	if err != nil {
		return nil, nil, fmt.Errorf("load incident %d: %w", number, err)
	}
	if inc == nil {
		return nil, nil, incident.Errorf(incident.ENOTFOUND, "There is no incident #%d.", number)
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
	// The version condition cannot fail while writers hold the write lock;
	// it guards against that ever changing.
	// The row, the parts and the events go in one round trip.
	var q pipeline
	q.execThen("update incident", func(tag pgconn.CommandTag) error {
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("update incident %d: changed by another writer", number)
		}
		return nil
	}, updateIncident, args...)
	if err := queueParts(&q, id, before, inc); err != nil {
		return nil, nil, err
	}
	seqs, err := db.queueEvents(&q, id, events)
	if err != nil {
		return nil, nil, err
	}
	if err := q.send(ctx, tx); err != nil {
		return nil, nil, err
	}
	inc.ID, inc.Number, inc.Version = id, number, version+1
	return stored(inc), func() {
		for i := range events {
			events[i].Seq, events[i].IncidentID = seqs[i], id
		}
	}, nil
}

// stored puts a changed incident in the form Get returns it in: times in
// UTC without monotonic readings, and empty lists nil, as they read back.
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
	inc.Public = storedPublic(inc.Public)
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
	title = $1, severity = $2, status = $3, summary = $4, impact = $5, root_cause = $6,
	mitigation = $7, contributing_factors = $8, went_well = $9, went_badly = $10, learnings = $11, remediations = $12, services = $13,
	private = $14, drill = $15, declared_by = $16, source = $17, update_prompts = $18, postmortem_prompts = $19, update_every = $20,
	declared_at = $21, resolved_at = $22, closed_at = $23, updated_at = $24, last_update_at = $25, postmortem_at = $26, next_prompt_at = $27,
	pages = $28, next_page_at = $29, public = $30, public_at = $31, public_open = $32,
	version = $33, change_seq = ` + nextChange + `
	WHERE id = $34 AND version = $35`

// nextChange numbers a change: one more than the latest, read through the
// incidents_change_seq index. Every writer that numbers a change holds the
// write lock, so no two changes get the same number, and a change numbered
// later also commits later.
const nextChange = `(SELECT COALESCE(MAX(change_seq), 0) + 1 FROM incidents)`

// insertEvent appends one event to a timeline. A keyed event whose key the
// incident already has inserts nothing, which queueEvents reports as
// ECONFLICT; leaving the statement to fail would abort the transaction.
const insertEvent = `INSERT INTO events (incident_id, at, kind, actor, text, source, data, recorded_at, key, names)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
	ON CONFLICT (incident_id, key) WHERE key <> '' DO NOTHING
	RETURNING seq`

// queueEvents queues the statements that append events to the incident's
// timeline. The seqs it returns are filled in when q is sent; the events
// are left unchanged until the transaction commits.
func (db *DB) queueEvents(q *pipeline, incidentID string, events []incident.Event) ([]int64, error) {
	if len(events) == 0 {
		return nil, nil
	}
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
		q.queryRow(func(row pgx.Row) error {
			err := row.Scan(&seqs[i])
			if errors.Is(err, pgx.ErrNoRows) {
				return &incident.Error{Code: incident.ECONFLICT, Message: "That is already on the timeline.", Field: "key"}
			}
			if err != nil {
				return fmt.Errorf("insert event: %w", err)
			}
			return nil
		}, insertEvent, incidentID, at, string(e.Kind), e.Actor, e.Text, e.Source, data, recorded, e.Key, names)
	}
	return seqs, nil
}

// Get returns incident number, or an ENOTFOUND error.
func (db *DB) Get(ctx context.Context, number int64) (*incident.Incident, error) {
	inc, err := getIncident(db.pool.QueryRow(ctx, selectIncident+`WHERE i.number = $1`, number))
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
	var limit *int64 // NULL: no limit
	if f.Limit > 0 {
		l := int64(f.Limit)
		limit = &l
	}
	rows, err := db.pool.Query(ctx, selectIncident+where+`ORDER BY i.number DESC LIMIT $1`, limit)
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
	rows, err := db.pool.Query(ctx, `SELECT seq, incident_id, at, kind, actor, text, source, data::text, key, names::text
		FROM events WHERE incident_id = $1 AND seq > $2 ORDER BY seq`, incidentID, afterSeq)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var events []incident.Event
	for rows.Next() {
		var (
			e               incident.Event
			kind            string
			at, data, names *string
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

// Claim records key and reports whether this was the first claim of it,
// in any replica: two replicas claiming the same key at once are ordered
// by the primary key, and the second finds it taken. Claims older than a
// day are pruned as new ones are made.
func (db *DB) Claim(ctx context.Context, key string, at time.Time) (bool, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("claim: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	tag, err := tx.Exec(ctx, `INSERT INTO claims (key, claimed_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, formatTime(at))
	if err != nil {
		return false, fmt.Errorf("claim %q: %w", key, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM claims WHERE claimed_at < $1`, formatTime(at.Add(-claimRetention))); err != nil {
		return false, fmt.Errorf("prune claims: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("claim %q: commit: %w", key, err)
	}
	return tag.RowsAffected() == 1, nil
}

// DuePrompts returns the incidents with a prompt due at now, oldest due
// first, and the earliest prompt due after now (zero if none). Both
// queries read only the incidents_prompts index.
func (db *DB) DuePrompts(ctx context.Context, now time.Time) ([]int64, time.Time, error) {
	at := formatTime(now)
	rows, err := db.pool.Query(ctx, `SELECT number FROM incidents
		WHERE next_prompt_at IS NOT NULL AND next_prompt_at <= $1 ORDER BY next_prompt_at`, at)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("due prompts: %w", err)
	}
	due, err := collectNumbers(rows)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("due prompts: %w", err)
	}
	var next *string
	if err := db.pool.QueryRow(ctx, `SELECT MIN(next_prompt_at) FROM incidents
		WHERE next_prompt_at IS NOT NULL AND next_prompt_at > $1`, at).Scan(&next); err != nil {
		return nil, time.Time{}, fmt.Errorf("next prompt: %w", err)
	}
	t, err := parseTime(next)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("next prompt: %w", err)
	}
	return due, t, nil
}

// collectNumbers reads a column of numbers; none is nil.
func collectNumbers(rows pgx.Rows) ([]int64, error) {
	ns, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if len(ns) == 0 {
		ns = nil
	}
	return ns, err
}
