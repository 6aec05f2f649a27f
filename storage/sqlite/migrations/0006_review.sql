-- What people record for the postmortem besides the summary, the impact and
-- the root cause (incident.Field): the latest value of each. Every edit is
-- also an event, so the history stays on the timeline.
ALTER TABLE incidents ADD COLUMN mitigation TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN contributing_factors TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN went_well TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN went_badly TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN learnings TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN remediations TEXT NOT NULL DEFAULT '';

-- events.names: the display names of the people an event concerns, by user
-- ID, as the chat knew them when it happened (incident.Event.Names), so
-- that an export made without Slack names people. NULL when none are known.
ALTER TABLE events ADD COLUMN names TEXT CHECK (names IS NULL OR (json_valid(names) AND json_type(names) = 'object'));
