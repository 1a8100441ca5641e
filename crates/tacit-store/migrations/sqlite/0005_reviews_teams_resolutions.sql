-- Owners keep SOPs alive: who confirmed an SOP is still true, and when.
CREATE TABLE reviews (
    sop_id       TEXT NOT NULL,
    version      INTEGER NOT NULL,
    reviewer     TEXT NOT NULL,
    at_ms        BIGINT NOT NULL
);
CREATE INDEX reviews_by_sop ON reviews (sop_id, at_ms);

-- A team owns SOPs by name; changing its members rotates ownership
-- without touching any SOP.
CREATE TABLE teams (
    name     TEXT PRIMARY KEY,
    members  TEXT NOT NULL
);

-- Why a proposal was accepted or rejected, so it is not raised again.
ALTER TABLE proposals ADD COLUMN resolution TEXT;
