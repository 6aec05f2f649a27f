-- Deliveries: each integration's progress with each incident, beside the
-- incident rather than in it (incident.Delivery). Until now Slack's
-- progress was fourteen columns of incidents; every new integration
-- (a pager, a status page, a tracker) would have widened it again.
--
-- change_seq numbers every Create and Update across all incidents and all
-- processes sharing the file, so that a process finds changes others made
-- by asking for those after the last it saw (IncidentStore.Changes). It is
-- assigned under the write lock, so it only grows.

CREATE TABLE deliveries (
    integration TEXT    NOT NULL,
    incident_id TEXT    NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    cursor      INTEGER NOT NULL DEFAULT 0,  -- Seq of the last event finished with
    version     INTEGER NOT NULL DEFAULT 0,  -- incidents.version last finished showing
    problem     TEXT    NOT NULL DEFAULT '',
    state       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(state)),
    saved_at    TEXT    NOT NULL,
    PRIMARY KEY (integration, incident_id)
) STRICT, WITHOUT ROWID;

-- An integration's names for an incident (a Slack channel ID): each names
-- one incident per integration, which the primary key enforces.
CREATE TABLE delivery_refs (
    integration TEXT NOT NULL,
    ref         TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    PRIMARY KEY (integration, ref),
    FOREIGN KEY (integration, incident_id) REFERENCES deliveries (integration, incident_id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX delivery_refs_incident ON delivery_refs (integration, incident_id);

-- Slack's progress moves over as it was. The generic cursor is the lower of
-- Slack's two (channel and announcements): both must pass an event for it
-- to be done with.
INSERT INTO deliveries (integration, incident_id, cursor, version, problem, state, saved_at)
SELECT 'slack', id, min(cursor, announce_cursor), card_version, problem,
    json_object(
        'channel_id', channel_id, 'channel_name', channel_name,
        'card_ts', card_ts, 'card_pinned', json(CASE card_pinned WHEN 1 THEN 'true' ELSE 'false' END),
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
ALTER TABLE incidents DROP COLUMN channel_id;
ALTER TABLE incidents DROP COLUMN channel_name;
ALTER TABLE incidents DROP COLUMN card_ts;
ALTER TABLE incidents DROP COLUMN card_pinned;
ALTER TABLE incidents DROP COLUMN card_version;
ALTER TABLE incidents DROP COLUMN topic;
ALTER TABLE incidents DROP COLUMN cursor;
ALTER TABLE incidents DROP COLUMN announce_cursor;
ALTER TABLE incidents DROP COLUMN problem;
ALTER TABLE incidents DROP COLUMN checklist_ts;
ALTER TABLE incidents DROP COLUMN checklist_shown;
ALTER TABLE incidents DROP COLUMN followups_ts;
ALTER TABLE incidents DROP COLUMN followups_shown;
ALTER TABLE incidents DROP COLUMN posting;

ALTER TABLE incidents ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
UPDATE incidents SET change_seq = number;
CREATE INDEX incidents_change_seq ON incidents (change_seq);

-- What Sitrep declared an incident for (an alert source) when no person
-- declared it: declared_by is '' then.
ALTER TABLE incidents ADD COLUMN source TEXT NOT NULL DEFAULT '';
