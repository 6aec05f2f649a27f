-- Deliveries: each integration's progress with each incident, beside the
-- incident rather than in it (storage/sqlite's 0005).
--
-- change_seq numbers every Create and Update across all incidents and all
-- replicas, so that a replica finds changes others made by asking for
-- those after the last it saw. It is assigned under the store's write lock
-- (store.go), so it only grows in commit order.

CREATE TABLE deliveries (
    integration TEXT    NOT NULL,
    incident_id TEXT    NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    cursor      BIGINT  NOT NULL DEFAULT 0,
    version     BIGINT  NOT NULL DEFAULT 0,
    problem     TEXT    NOT NULL DEFAULT '',
    -- json, not jsonb: the integration's own text, kept byte for byte.
    state       JSON    NOT NULL DEFAULT '{}',
    saved_at    UTC_TIME    NOT NULL,
    PRIMARY KEY (integration, incident_id)
);

CREATE TABLE delivery_refs (
    integration TEXT NOT NULL,
    ref         TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    PRIMARY KEY (integration, ref),
    FOREIGN KEY (integration, incident_id) REFERENCES deliveries (integration, incident_id) ON DELETE CASCADE
);
CREATE INDEX delivery_refs_incident ON delivery_refs (integration, incident_id);

INSERT INTO deliveries (integration, incident_id, cursor, version, problem, state, saved_at)
SELECT 'slack', id, LEAST(cursor, announce_cursor), card_version, problem,
    json_build_object(
        'channel_id', channel_id, 'channel_name', channel_name,
        'card_ts', card_ts, 'card_pinned', card_pinned,
        'card_version', card_version, 'topic', topic,
        'cursor', cursor, 'announce_cursor', announce_cursor,
        'checklist_ts', checklist_ts, 'checklist_shown', checklist_shown,
        'followups_ts', followups_ts, 'followups_shown', followups_shown,
        'posting', posting),
    updated_at
FROM incidents
WHERE channel_id <> '' OR posting <> '' OR problem <> '';

INSERT INTO delivery_refs (integration, ref, incident_id)
SELECT 'slack', channel_id, id FROM incidents WHERE channel_id <> '';

DROP INDEX incidents_unsynced;
DROP INDEX incidents_channel;
ALTER TABLE incidents
    DROP COLUMN channel_id, DROP COLUMN channel_name, DROP COLUMN card_ts, DROP COLUMN card_pinned,
    DROP COLUMN card_version, DROP COLUMN topic, DROP COLUMN cursor, DROP COLUMN announce_cursor,
    DROP COLUMN problem, DROP COLUMN checklist_ts, DROP COLUMN checklist_shown,
    DROP COLUMN followups_ts, DROP COLUMN followups_shown, DROP COLUMN posting;

ALTER TABLE incidents ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
UPDATE incidents SET change_seq = number;
CREATE INDEX incidents_change_seq ON incidents (change_seq);

-- What Sitrep declared an incident for (an alert source) when no person
-- declared it: declared_by is '' then.
ALTER TABLE incidents ADD COLUMN source TEXT NOT NULL DEFAULT '';
