-- The message the chat adapter is posting, saved before Slack is asked
-- (storage/sqlite's 0004); moved to deliveries by 0005.
ALTER TABLE incidents ADD COLUMN posting TEXT NOT NULL DEFAULT '';
