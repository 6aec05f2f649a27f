-- The first schema: incidents, their roles, and their timelines. Versioned
-- together with storage/sqlite/migrations: version N here leaves the same
-- tables, columns and meaning as version N there, so that a SQLite
-- installation at version N copies into PostgreSQL at version N
-- (sitrep migrate --from).
--
-- Conventions, shared with SQLite's so that rows copy over unchanged:
--   * Times are UTC text in a fixed-width RFC 3339 form with nanoseconds
--     (2006-01-02T15:04:05.000000000Z). timestamptz keeps microseconds only,
--     and the store contract keeps every time.Time exactly; the fixed width
--     makes text order time order. NULL means the zero time ("not yet").
--     The utc_time domain holds that form: its CHECK refuses any other, and
--     its "C" collation keeps text order time order whatever the
--     database's default collation is.
--   * Absent strings are '' rather than NULL.
--   * Statuses and severities are not CHECKed: they are the domain's (and
--     the severities are configurable).
--   * JSON that the store reads is jsonb; JSON kept for others byte for
--     byte (a delivery's state) is json, which keeps its text as given.

CREATE DOMAIN utc_time AS TEXT COLLATE "C"
    CHECK (VALUE ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$');

CREATE TABLE incidents (
    id          TEXT    NOT NULL PRIMARY KEY,            -- UUID
    number      BIGINT  NOT NULL UNIQUE CHECK (number > 0),
    title       TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    summary     TEXT    NOT NULL DEFAULT '',
    impact      TEXT    NOT NULL DEFAULT '',
    root_cause  TEXT    NOT NULL DEFAULT '',
    services    JSONB   NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(services) = 'array'),
    private     BOOLEAN NOT NULL DEFAULT false,
    drill       BOOLEAN NOT NULL DEFAULT false,
    declared_by TEXT    NOT NULL,
    declared_at UTC_TIME    NOT NULL,
    resolved_at UTC_TIME,
    closed_at   UTC_TIME,
    updated_at  UTC_TIME    NOT NULL,
    version     BIGINT  NOT NULL CHECK (version > 0),
    -- The Seq of the incident's newest event, kept by the events_last_seq
    -- trigger, so that "behind" compares it with a cursor inside one row.
    last_seq    BIGINT  NOT NULL DEFAULT 0,

    -- Chat adapter state, moved to deliveries by 0005.
    channel_id      TEXT    NOT NULL DEFAULT '',
    channel_name    TEXT    NOT NULL DEFAULT '',
    card_ts         TEXT    NOT NULL DEFAULT '',
    card_pinned     BOOLEAN NOT NULL DEFAULT false,
    card_version    BIGINT  NOT NULL DEFAULT 0,
    topic           TEXT    NOT NULL DEFAULT '',
    cursor          BIGINT  NOT NULL DEFAULT 0,
    announce_cursor BIGINT  NOT NULL DEFAULT 0,
    problem         TEXT    NOT NULL DEFAULT ''
);

CREATE UNIQUE INDEX incidents_channel ON incidents (channel_id) WHERE channel_id <> '';

-- List(OpenOnly) reads the open incidents newest first without scanning the
-- closed ones.
CREATE INDEX incidents_open ON incidents (number) WHERE status NOT IN ('resolved', 'closed');

CREATE INDEX incidents_unsynced ON incidents (number) WHERE card_version < version OR last_seq > cursor OR last_seq > announce_cursor;

-- Roles are rows, so that the database enforces one holder per role.
CREATE TABLE incident_roles (
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    PRIMARY KEY (incident_id, role)
);

CREATE INDEX incident_roles_user ON incident_roles (user_id);

-- The append-only timeline. An identity column is never reused, even after
-- a rolled-back insert: the integrations' cursors point at seqs. Writers
-- that append events hold the store's write lock (see store.go), so seqs
-- are also committed in order, which cursors rely on.
CREATE TABLE events (
    seq         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id TEXT    NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          UTC_TIME    NOT NULL,             -- when the fact happened
    kind        TEXT    NOT NULL,
    actor       TEXT    NOT NULL DEFAULT '',
    text        TEXT    NOT NULL DEFAULT '',
    source      TEXT    NOT NULL DEFAULT '',
    data        JSONB CHECK (data IS NULL OR jsonb_typeof(data) = 'object'), -- NULL when empty
    recorded_at UTC_TIME    NOT NULL              -- when the store wrote it
);

CREATE INDEX events_incident_seq ON events (incident_id, seq);

-- Keeps incidents.last_seq current whatever code path appends an event.
CREATE FUNCTION events_last_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE incidents SET last_seq = NEW.seq WHERE id = NEW.incident_id AND last_seq < NEW.seq;
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_last_seq AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_last_seq();
