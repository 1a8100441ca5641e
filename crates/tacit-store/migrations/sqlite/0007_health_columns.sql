-- Library health reads these for thousands of SOPs at once, without
-- parsing every SOP's JSON or every run's events.
ALTER TABLE sop_versions ADD COLUMN owner TEXT;
ALTER TABLE sop_versions ADD COLUMN review_every_days INTEGER;
ALTER TABLE runs ADD COLUMN outcome TEXT;
CREATE INDEX runs_by_sop ON runs (sop_id, started_at_ms);
CREATE INDEX proposals_pending ON proposals (status, sop_id);
CREATE INDEX events_by_run_kind ON events (run_id, kind);
