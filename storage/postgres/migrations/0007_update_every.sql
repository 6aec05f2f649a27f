-- The interval the last status update promised until the next one, in
-- seconds; 0 means the severity's cadence (storage/sqlite's 0007).
ALTER TABLE incidents ADD COLUMN update_every BIGINT NOT NULL DEFAULT 0 CHECK (update_every >= 0);
