-- The message the chat adapter is posting (incident.Chat.Posting), saved
-- before Slack is asked, so that after a crash it looks for the message
-- instead of posting it twice.
ALTER TABLE incidents ADD COLUMN posting TEXT NOT NULL DEFAULT '';
