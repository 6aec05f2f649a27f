-- Things that must happen at most once (storage/sqlite's 0002).
--
-- events.key: a timeline event that may be offered many times carries a
-- key; the same key is stored once per incident.
ALTER TABLE events ADD COLUMN key TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX events_key ON events (incident_id, key) WHERE key <> '';

-- claims: keys of deliveries already handled, such as the event_id of a
-- Slack Events API callback, so that Slack's retries are ignored across
-- restarts and across replicas.
CREATE TABLE claims (
    key        TEXT NOT NULL PRIMARY KEY,
    claimed_at UTC_TIME NOT NULL
);
CREATE INDEX claims_claimed_at ON claims (claimed_at);
