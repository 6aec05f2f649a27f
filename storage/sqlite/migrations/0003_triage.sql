-- Triage and keeping people informed: checklists, follow-ups, and the state
-- of status-update and postmortem prompts.

-- Prompt state (incident.NextPrompt). last_update_at starts the status
-- update clock; next_prompt_at is derived by the domain and stored so that
-- the prompt scheduler reads only incidents with a prompt due.
ALTER TABLE incidents ADD COLUMN last_update_at TEXT;
ALTER TABLE incidents ADD COLUMN update_prompts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN postmortem_at TEXT;
ALTER TABLE incidents ADD COLUMN postmortem_prompts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN next_prompt_at TEXT;

UPDATE incidents SET
    last_update_at = COALESCE((SELECT MAX(e.at) FROM events e WHERE e.incident_id = incidents.id AND e.kind IN ('update', 'reopened')), declared_at),
    postmortem_at = (SELECT MAX(e.at) FROM events e WHERE e.incident_id = incidents.id AND e.kind = 'postmortem' AND e.at >= incidents.resolved_at);

-- The scheduler's query; the service sets next_prompt_at on every change
-- and at start-up, so existing incidents are scheduled then.
CREATE INDEX incidents_prompts ON incidents (next_prompt_at) WHERE next_prompt_at IS NOT NULL;

-- Chat adapter state for the checklist and follow-ups messages.
ALTER TABLE incidents ADD COLUMN checklist_ts TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN checklist_shown TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN followups_ts TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN followups_shown TEXT NOT NULL DEFAULT '';

-- The triage checklist of each incident, copied from the template when the
-- items are added so that it keeps the questions it was asked.
CREATE TABLE checklist_items (
    incident_id TEXT    NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    item_id     TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('question', 'task')),
    text        TEXT    NOT NULL,
    suggestion  TEXT    NOT NULL DEFAULT '',
    answer      TEXT    NOT NULL DEFAULT '',
    answered_by TEXT    NOT NULL DEFAULT '',
    answered_at TEXT,
    suggested   INTEGER NOT NULL DEFAULT 0 CHECK (suggested IN (0, 1)),
    PRIMARY KEY (incident_id, item_id)
) STRICT, WITHOUT ROWID;

-- Follow-ups: rows, so that "what do I own?" is one indexed query.
CREATE TABLE follow_ups (
    incident_id TEXT    NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    id          INTEGER NOT NULL CHECK (id > 0),
    text        TEXT    NOT NULL,
    owner       TEXT    NOT NULL DEFAULT '',
    created_by  TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    done_by     TEXT    NOT NULL DEFAULT '',
    done_at     TEXT,
    PRIMARY KEY (incident_id, id)
) STRICT, WITHOUT ROWID;

CREATE INDEX follow_ups_owner ON follow_ups (owner) WHERE owner <> '';
