-- On call and paging (oncall, incident/page.go, incident/oncall.go).
-- Numbered 0012: the numbers between are taken by work merged beside this.
--
-- An incident's pages: each an escalation in progress or finished (who
-- was paged, at which step, acknowledged by whom). JSON, since they are
-- read and written only with their incident, in its transaction.
ALTER TABLE incidents ADD COLUMN pages TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(pages) AND json_type(pages) = 'array');

-- When the earliest open page's next step is due; NULL for never. Derived
-- by the domain on every change, like next_prompt_at, so that the
-- escalator's pass reads only the incidents with a step due: escalation
-- deadlines are data, and a restart neither skips nor repeats a step.
ALTER TABLE incidents ADD COLUMN next_page_at TEXT;

-- The escalator's query. The WHERE must match the query's text.
CREATE INDEX incidents_pages_due ON incidents (next_page_at) WHERE next_page_at IS NOT NULL;

-- Overrides people record with /incident oncall override: someone on call
-- for a schedule in place of the rotation, from starts_at until ends_at.
CREATE TABLE oncall_overrides (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule  TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at   TEXT NOT NULL,
    set_by    TEXT NOT NULL DEFAULT '',
    set_at    TEXT NOT NULL,
    CHECK (ends_at > starts_at)
) STRICT;

-- Overrides reads those that have not ended yet.
CREATE INDEX oncall_overrides_ends ON oncall_overrides (ends_at);

-- The Slack paging lane (bot's "slack-pages") starts caught up with every
-- incident that exists before paging did: none has a page to send, and
-- otherwise the first start after upgrading would make one pass per
-- incident ever recorded, closed ones included, to find nothing.
INSERT INTO deliveries (integration, incident_id, cursor, version, state, saved_at)
SELECT 'slack-pages', id, last_seq, version, '{"seq":' || last_seq || '}', updated_at
FROM incidents
WHERE true
ON CONFLICT (integration, incident_id) DO NOTHING;
