-- Runs and their events. Types are kept to TEXT / BIGINT / INTEGER so the
-- PostgreSQL migrations can mirror this schema one to one.
CREATE TABLE runs (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    shell          TEXT NOT NULL,
    started_at_ms  BIGINT NOT NULL,
    ended_at_ms    BIGINT,
    status         TEXT NOT NULL,
    host           TEXT NOT NULL,
    username       TEXT NOT NULL,
    start_cwd      TEXT NOT NULL,
    recorder_pid   BIGINT,
    tacit_version  TEXT NOT NULL,
    cols           INTEGER NOT NULL,
    rows           INTEGER NOT NULL,
    -- How much of the run's journal has been imported, so unchanged journals
    -- are skipped cheaply.
    journal_bytes  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_name ON runs (name, started_at_ms);

CREATE TABLE events (
    run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    at_ms        BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    -- The whole event as JSON; the columns below are copies for queries.
    body         TEXT NOT NULL,
    command      TEXT,
    exit_code    INTEGER,
    duration_ms  BIGINT,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX events_by_kind ON events (kind);
