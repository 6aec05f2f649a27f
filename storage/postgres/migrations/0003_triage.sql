-- Checklists, follow-ups, and the state of status-update and postmortem
-- prompts (storage/sqlite's 0003).

ALTER TABLE incidents ADD COLUMN last_update_at UTC_TIME;
ALTER TABLE incidents ADD COLUMN update_prompts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN postmortem_at UTC_TIME;
ALTER TABLE incidents ADD COLUMN postmortem_prompts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN next_prompt_at UTC_TIME;

UPDATE incidents SET
    last_update_at = COALESCE((SELECT MAX(e.at) FROM events e WHERE e.incident_id = incidents.id AND e.kind IN ('update', 'reopened')), declared_at),
    postmortem_at = (SELECT MAX(e.at) FROM events e WHERE e.incident_id = incidents.id AND e.kind = 'postmortem' AND e.at >= incidents.resolved_at);

-- The prompt scheduler's query.
CREATE INDEX incidents_prompts ON incidents (next_prompt_at) WHERE next_prompt_at IS NOT NULL;

ALTER TABLE incidents ADD COLUMN checklist_ts TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN checklist_shown TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN followups_ts TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN followups_shown TEXT NOT NULL DEFAULT '';

CREATE TABLE checklist_items (
    incident_id TEXT    NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    item_id     TEXT    NOT NULL,
    position    BIGINT  NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('question', 'task')),
    text        TEXT    NOT NULL,
    suggestion  TEXT    NOT NULL DEFAULT '',
    answer      TEXT    NOT NULL DEFAULT '',
    answered_by TEXT    NOT NULL DEFAULT '',
    answered_at UTC_TIME,
    suggested   BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (incident_id, item_id)
);

CREATE TABLE follow_ups (
    incident_id TEXT    NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    id          BIGINT  NOT NULL CHECK (id > 0),
    text        TEXT    NOT NULL,
    owner       TEXT    NOT NULL DEFAULT '',
    created_by  TEXT    NOT NULL,
    created_at  UTC_TIME    NOT NULL,
    done_by     TEXT    NOT NULL DEFAULT '',
    done_at     UTC_TIME,
    PRIMARY KEY (incident_id, id)
);

CREATE INDEX follow_ups_owner ON follow_ups (owner) WHERE owner <> '';
