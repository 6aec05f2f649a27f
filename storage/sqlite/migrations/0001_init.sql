-- The first schema: incidents, their roles, and their timelines.
--
-- Conventions, so that later migrations stay consistent:
--   * Tables are STRICT: a wrongly typed value is an error, not a silent
--     conversion.
--   * Times are UTC text in a fixed-width RFC 3339 form with nanoseconds
--     (2006-01-02T15:04:05.000000000Z), so they sort as text and read well in
--     the sqlite3 shell. NULL means the zero time ("not yet").
--   * Booleans are INTEGER 0/1. Absent strings are '' rather than NULL, so
--     that Go scans them without sql.NullString.
--   * Statuses and severities are not CHECKed: they are the domain's (and the
--     severities are configurable); changing a CHECK means rebuilding a table.

CREATE TABLE incidents (
    id          TEXT    NOT NULL PRIMARY KEY,            -- UUID
    number      INTEGER NOT NULL UNIQUE CHECK (number > 0),
    title       TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    summary     TEXT    NOT NULL DEFAULT '',
    impact      TEXT    NOT NULL DEFAULT '',
    root_cause  TEXT    NOT NULL DEFAULT '',
    services    TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(services) AND json_type(services) = 'array'),
    private     INTEGER NOT NULL DEFAULT 0 CHECK (private IN (0, 1)),
    drill       INTEGER NOT NULL DEFAULT 0 CHECK (drill IN (0, 1)),
    declared_by TEXT    NOT NULL,
    declared_at TEXT    NOT NULL,
    resolved_at TEXT,
    closed_at   TEXT,
    updated_at  TEXT    NOT NULL,
    version     INTEGER NOT NULL CHECK (version > 0),
    -- The Seq of the incident's newest event, kept by the events_last_seq
    -- trigger. It is derived data, stored so that Unsynced can compare it
    -- with cursor inside one row and so use the incidents_unsynced index.
    last_seq    INTEGER NOT NULL DEFAULT 0,

    -- Chat adapter state (incident.Chat). Only SaveChat writes these.
    channel_id   TEXT    NOT NULL DEFAULT '',
    channel_name TEXT    NOT NULL DEFAULT '',
    card_ts      TEXT    NOT NULL DEFAULT '',
    card_pinned  INTEGER NOT NULL DEFAULT 0 CHECK (card_pinned IN (0, 1)),
    card_version INTEGER NOT NULL DEFAULT 0,
    topic        TEXT    NOT NULL DEFAULT '',
    cursor       INTEGER NOT NULL DEFAULT 0,
    announce_cursor INTEGER NOT NULL DEFAULT 0,
    problem      TEXT    NOT NULL DEFAULT ''
) STRICT;

-- One channel belongs to at most one incident; incidents without a channel
-- yet ('') are exempt.
CREATE UNIQUE INDEX incidents_channel ON incidents (channel_id) WHERE channel_id <> '';

-- List(OpenOnly) reads the open incidents newest first without scanning the
-- closed ones, which are nearly all of them after a while. The WHERE must
-- match the query's text for SQLite to use the index.
CREATE INDEX incidents_open ON incidents (number) WHERE status NOT IN ('resolved', 'closed');

-- Unsynced runs on every reconciler pass; this index holds exactly the rows
-- it returns, so the pass costs nothing when everything is delivered.
CREATE INDEX incidents_unsynced ON incidents (number) WHERE card_version < version OR last_seq > cursor OR last_seq > announce_cursor;

-- Roles are rows rather than a JSON column so that the database enforces one
-- holder per role, they are deleted with their incident, and "what is this
-- person commanding?" is an indexed query.
CREATE TABLE incident_roles (
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    PRIMARY KEY (incident_id, role)
) STRICT, WITHOUT ROWID;

CREATE INDEX incident_roles_user ON incident_roles (user_id);

-- The append-only timeline. AUTOINCREMENT guarantees that a seq is never
-- reused, even after deletions: the chat adapter's cursor points at seqs.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT    NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          TEXT    NOT NULL,             -- when the fact happened
    kind        TEXT    NOT NULL,
    actor       TEXT    NOT NULL DEFAULT '',
    text        TEXT    NOT NULL DEFAULT '',
    source      TEXT    NOT NULL DEFAULT '',
    data        TEXT CHECK (data IS NULL OR (json_valid(data) AND json_type(data) = 'object')), -- NULL when empty
    recorded_at TEXT    NOT NULL              -- when the store wrote it
) STRICT;

CREATE INDEX events_incident_seq ON events (incident_id, seq);

-- Keeps incidents.last_seq current whatever code path appends an event.
CREATE TRIGGER events_last_seq AFTER INSERT ON events
BEGIN
    UPDATE incidents SET last_seq = NEW.seq WHERE id = NEW.incident_id AND last_seq < NEW.seq;
END;
