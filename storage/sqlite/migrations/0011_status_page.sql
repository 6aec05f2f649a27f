-- What an incident has published to the public status page
-- (incident.Incident.Public): its public ID, the published updates and a
-- draft awaiting approval, as one JSON object. NULL until something is
-- published or drafted. Numbered 0011: 0009 and 0010 are taken by work
-- beside this.
ALTER TABLE incidents ADD COLUMN public TEXT CHECK (public IS NULL OR (json_valid(public) AND json_type(public) = 'object'));

-- When the latest update went out to the public page, NULL when none has;
-- and whether the public page still shows the incident as ongoing. Both
-- derived from public, kept so that the status page reads only the
-- incidents it shows, through public_recent, however many incidents there
-- are.
ALTER TABLE incidents ADD COLUMN public_at TEXT;
ALTER TABLE incidents ADD COLUMN public_open INTEGER NOT NULL DEFAULT 0 CHECK (public_open IN (0, 1));

CREATE INDEX incidents_public ON incidents (public_at) WHERE public_at IS NOT NULL;
