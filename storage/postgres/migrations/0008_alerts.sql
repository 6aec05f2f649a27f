-- Alerts from monitoring systems and what they became (storage/sqlite's
-- 0008). One row per alert, named by its source and the source's own key,
-- so a repeated delivery replaces the row rather than adding one.
CREATE TABLE alerts (
    source      TEXT  NOT NULL,
    key         TEXT  NOT NULL,
    status      TEXT  NOT NULL CHECK (status IN ('firing', 'resolved')),
    title       TEXT  NOT NULL,
    labels      JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
    annotations JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(annotations) = 'object'),
    links       JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(links) = 'array'),
    starts_at   UTC_TIME  NOT NULL,
    ends_at     UTC_TIME,
    route       TEXT  NOT NULL DEFAULT '',
    action      TEXT  NOT NULL,
    group_key   TEXT  NOT NULL DEFAULT '',
    -- '' while attached to no incident; no foreign key, so that an alert
    -- is never lost with what it was attached to.
    incident_id TEXT  NOT NULL DEFAULT '',
    received_at UTC_TIME  NOT NULL,
    updated_at  UTC_TIME  NOT NULL,
    PRIMARY KEY (source, key)
);

CREATE INDEX alerts_incident ON alerts (incident_id, received_at) WHERE incident_id <> '';
CREATE INDEX alerts_group ON alerts (group_key);

-- What each group of alerts became: one row per group key, so two
-- deliveries cannot declare a group twice.
CREATE TABLE alert_groups (
    key             TEXT    NOT NULL PRIMARY KEY,
    route           TEXT    NOT NULL DEFAULT '',
    state           TEXT    NOT NULL CHECK (state IN ('incident', 'triage', 'dismissed', '')),
    incident_id     TEXT    NOT NULL DEFAULT '',
    incident_number BIGINT  NOT NULL DEFAULT 0,
    capped          BOOLEAN NOT NULL DEFAULT false,
    severity        TEXT    NOT NULL DEFAULT '',
    services        JSONB   NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(services) = 'array'),
    decided_by      TEXT    NOT NULL DEFAULT '',
    version         BIGINT  NOT NULL DEFAULT 0,
    triage_ts       TEXT    NOT NULL DEFAULT '',
    triage_shown    BIGINT  NOT NULL DEFAULT 0,
    triage_posting  BOOLEAN NOT NULL DEFAULT false,
    created_at      UTC_TIME    NOT NULL,
    updated_at      UTC_TIME    NOT NULL
);

CREATE INDEX alert_groups_triage_behind ON alert_groups (key)
    WHERE version > triage_shown AND (state = 'triage' OR triage_ts <> '' OR triage_posting);

-- The cap on declarations counts the incidents declared for a source in
-- the last minute.
CREATE INDEX incidents_declared_for_source ON incidents (declared_at) WHERE source <> '';
