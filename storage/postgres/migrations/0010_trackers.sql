-- Follow-ups tracked in an issue tracker (GitHub, Jira, Asana, Linear;
-- storage/sqlite's 0010).
--
-- export_to names the tracker an issue was asked for in, until the issue
-- exists: the request is recorded before any call to the tracker, so that
-- a crash neither loses it nor makes a second issue. issue_* name the
-- issue once made. Every existing follow-up is untracked.
ALTER TABLE follow_ups
    ADD COLUMN export_to     TEXT NOT NULL DEFAULT '',
    ADD COLUMN issue_tracker TEXT NOT NULL DEFAULT '',
    ADD COLUMN issue_key     TEXT NOT NULL DEFAULT '',
    ADD COLUMN issue_url     TEXT NOT NULL DEFAULT '';

-- The secrets a tracker hands Sitrep at a webhook's handshake (Asana's
-- X-Hook-Secret), by which it signs that webhook's deliveries afterwards.
-- Each webhook has its own; a delivery signed with any of a tracker's is
-- taken. Any replica may take the handshake and any other the deliveries,
-- so the secrets live here rather than in a replica's memory.
CREATE TABLE hook_secrets (
    tracker    TEXT     NOT NULL,
    secret     TEXT     NOT NULL,
    created_at UTC_TIME NOT NULL,
    PRIMARY KEY (tracker, secret)
);
