-- The interval the last status update promised until the next one
-- (incident.Incident.UpdateEvery), in seconds; 0 means the severity's
-- cadence. The prompt clock follows what the update told people.
ALTER TABLE incidents ADD COLUMN update_every INTEGER NOT NULL DEFAULT 0 CHECK (update_every >= 0);
