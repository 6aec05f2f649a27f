-- Alerts from monitoring systems and what they became (incident.AlertStore).
-- Numbered 0008: 0006 and 0007 are taken by work merged beside this.
--
-- One row per alert, named by its source and the source's own key: the
-- primary key makes a repeated delivery, even one racing the original,
-- replace the row rather than add one.
CREATE TABLE alerts (
    source      TEXT NOT NULL,
    key         TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
    title       TEXT NOT NULL,
    labels      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels) AND json_type(labels) = 'object'),
    annotations TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(annotations) AND json_type(annotations) = 'object'),
    links       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(links) AND json_type(links) = 'array'),
    starts_at   TEXT NOT NULL,
    ends_at     TEXT,
    route       TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    group_key   TEXT NOT NULL DEFAULT '',
    -- '' while attached to no incident; no foreign key, so that an alert
    -- is never lost with what it was attached to.
    incident_id TEXT NOT NULL DEFAULT '',
    received_at TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (source, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX alerts_incident ON alerts (incident_id, received_at) WHERE incident_id <> '';
CREATE INDEX alerts_group ON alerts (group_key);

-- What each group of alerts became: an incident, triage, or dismissed. One
-- row per group key, so two deliveries cannot declare a group twice.
CREATE TABLE alert_groups (
    key             TEXT NOT NULL PRIMARY KEY,
    route           TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL CHECK (state IN ('incident', 'triage', 'dismissed', '')),
    incident_id     TEXT NOT NULL DEFAULT '',
    incident_number INTEGER NOT NULL DEFAULT 0,
    capped          INTEGER NOT NULL DEFAULT 0 CHECK (capped IN (0, 1)),
    severity        TEXT NOT NULL DEFAULT '',
    services        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(services) AND json_type(services) = 'array'),
    decided_by      TEXT NOT NULL DEFAULT '',
    -- The group's message in the triage channel (incident.AlertGroup).
    version         INTEGER NOT NULL DEFAULT 0,
    triage_ts       TEXT NOT NULL DEFAULT '',
    triage_shown    INTEGER NOT NULL DEFAULT 0,
    triage_posting  INTEGER NOT NULL DEFAULT 0 CHECK (triage_posting IN (0, 1)),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- TriageBehind reads only the groups whose triage message is behind.
CREATE INDEX alert_groups_triage_behind ON alert_groups (key)
    WHERE version > triage_shown AND (state = 'triage' OR triage_ts <> '' OR triage_posting = 1);

-- The cap on declarations counts the incidents declared for a source in
-- the last minute.
CREATE INDEX incidents_declared_for_source ON incidents (declared_at) WHERE source <> '';
