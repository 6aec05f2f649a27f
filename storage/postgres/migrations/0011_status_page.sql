-- What an incident has published to the public status page
-- (incident.Incident.Public; storage/sqlite's 0011): its public ID, the
-- published updates and a draft awaiting approval, as one JSON object. NULL
-- until something is published or drafted. JSON, not JSONB: it is decoded
-- whole, and kept as written.
ALTER TABLE incidents ADD COLUMN public JSON CHECK (public IS NULL OR json_typeof(public) = 'object');

-- When the latest update went out to the public page, NULL when none has;
-- and whether the public page still shows the incident as ongoing. Both
-- derived from public, kept so that the status page reads only the
-- incidents it shows, through incidents_public, however many there are.
ALTER TABLE incidents ADD COLUMN public_at UTC_TIME;
ALTER TABLE incidents ADD COLUMN public_open BOOLEAN NOT NULL DEFAULT false;

CREATE INDEX incidents_public ON incidents (public_at) WHERE public_at IS NOT NULL;
