-- Routes' noise controls (incident.AlertHold; storage/sqlite's 0009): a
-- declare group waits in triage until it has gathered min_alerts within
-- its window and has fired for hold_for, then declares itself. Durations
-- in milliseconds.
ALTER TABLE alert_groups
    ADD COLUMN waiting        BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN min_alerts     BIGINT  NOT NULL DEFAULT 0,
    ADD COLUMN hold_window_ms BIGINT  NOT NULL DEFAULT 0,
    ADD COLUMN hold_for_ms    BIGINT  NOT NULL DEFAULT 0,
    ADD COLUMN gathered       BOOLEAN NOT NULL DEFAULT false,
    -- When the group will have fired for hold_for; NULL while it does not
    -- fire. (SQLite keeps '' there; sitrep migrate --from turns it into
    -- NULL, since utc_time holds only times.)
    ADD COLUMN declare_at     UTC_TIME;

-- The prompter finds the waits that have ended through this index. The
-- WHERE must match HeldGroups' queries.
CREATE INDEX alert_groups_held ON alert_groups (declare_at) WHERE waiting AND declare_at IS NOT NULL;

-- GroupFiring counts a group's firing alerts by when they began to fire.
CREATE INDEX alerts_group_firing ON alerts (group_key, updated_at) WHERE status = 'firing';

-- The sender's own grouping of an alert (incident.Alert.Group), kept so
-- that "sitrep alerts replay" groups recorded alerts as routing did.
ALTER TABLE alerts ADD COLUMN sender_group TEXT NOT NULL DEFAULT '';
