-- Covers library health's deviation lookup without reading event bodies.
CREATE INDEX events_deviations ON events (run_id, step) WHERE kind = 'deviation';
CREATE INDEX runs_by_name_user ON runs (name, username);
