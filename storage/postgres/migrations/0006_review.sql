-- What people record for the postmortem besides the summary, the impact and
-- the root cause (storage/sqlite's 0006).
ALTER TABLE incidents
    ADD COLUMN mitigation TEXT NOT NULL DEFAULT '',
    ADD COLUMN contributing_factors TEXT NOT NULL DEFAULT '',
    ADD COLUMN went_well TEXT NOT NULL DEFAULT '',
    ADD COLUMN went_badly TEXT NOT NULL DEFAULT '',
    ADD COLUMN learnings TEXT NOT NULL DEFAULT '',
    ADD COLUMN remediations TEXT NOT NULL DEFAULT '';

-- events.names: the display names of the people an event concerns, by user
-- ID, as the chat knew them when it happened. NULL when none are known.
ALTER TABLE events ADD COLUMN names JSONB CHECK (names IS NULL OR jsonb_typeof(names) = 'object');
