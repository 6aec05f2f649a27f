-- Routes' noise controls (incident.AlertHold): a declare group waits in
-- triage until it has gathered min_alerts within its window and has fired
-- for hold_for, then declares itself. Durations in milliseconds.
ALTER TABLE alert_groups ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0 CHECK (waiting IN (0, 1));
ALTER TABLE alert_groups ADD COLUMN min_alerts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_groups ADD COLUMN hold_window_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_groups ADD COLUMN hold_for_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_groups ADD COLUMN gathered INTEGER NOT NULL DEFAULT 0 CHECK (gathered IN (0, 1));
-- When the group will have fired for hold_for; '' while it does not fire.
ALTER TABLE alert_groups ADD COLUMN declare_at TEXT NOT NULL DEFAULT '';

-- The prompter finds the waits that have ended through this index.
CREATE INDEX alert_groups_held ON alert_groups (declare_at) WHERE waiting = 1 AND declare_at <> '';

-- GroupFiring counts a group's firing alerts by when they began to fire.
CREATE INDEX alerts_group_firing ON alerts (group_key, updated_at) WHERE status = 'firing';

-- The sender's own grouping of an alert (incident.Alert.Group), kept so
-- that "sitrep alerts replay" groups recorded alerts as routing did.
ALTER TABLE alerts ADD COLUMN sender_group TEXT NOT NULL DEFAULT '';
