-- A guided run follows one SOP version.
ALTER TABLE runs ADD COLUMN sop_id TEXT;
ALTER TABLE runs ADD COLUMN sop_version INTEGER;

-- What runs propose to an SOP's owner: new edge cases and rules, with the
-- evidence (command, output, the operator's answer) as JSON.
CREATE TABLE proposals (
    id             TEXT PRIMARY KEY,
    sop_id         TEXT NOT NULL,
    sop_version    INTEGER NOT NULL,
    run_id         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    summary        TEXT NOT NULL,
    body           TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'pending',
    created_at_ms  BIGINT NOT NULL
);
CREATE INDEX proposals_by_sop ON proposals (sop_id, status);
