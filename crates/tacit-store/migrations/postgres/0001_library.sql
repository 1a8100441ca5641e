-- The library on PostgreSQL: the same tables as the SQLite migrations
-- 0001-0012 reach, in one step. Every integer is BIGINT so both backends
-- decode the same Rust types. Search is a tsvector with a GIN index.
CREATE TABLE runs (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    shell           TEXT NOT NULL,
    started_at_ms   BIGINT NOT NULL,
    ended_at_ms     BIGINT,
    status          TEXT NOT NULL,
    host            TEXT NOT NULL,
    username        TEXT NOT NULL,
    start_cwd       TEXT NOT NULL,
    recorder_pid    BIGINT,
    tacit_version   TEXT NOT NULL,
    cols            BIGINT NOT NULL,
    rows            BIGINT NOT NULL,
    journal_bytes   BIGINT NOT NULL DEFAULT 0,
    sop_id          TEXT,
    sop_version     BIGINT,
    outcome         TEXT,
    imported_at_ms  BIGINT
);
CREATE INDEX runs_by_name ON runs (name, started_at_ms);
CREATE INDEX runs_by_sop ON runs (sop_id, started_at_ms);
CREATE INDEX runs_by_name_user ON runs (name, username);

CREATE TABLE events (
    run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    at_ms        BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    body         TEXT NOT NULL,
    command      TEXT,
    exit_code    BIGINT,
    duration_ms  BIGINT,
    hash         TEXT,
    step         TEXT,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX events_by_run_kind ON events (run_id, kind);
CREATE INDEX events_deviations ON events (run_id, step) WHERE kind = 'deviation';

CREATE TABLE sop_versions (
    sop_id             TEXT NOT NULL,
    version            BIGINT NOT NULL,
    title              TEXT NOT NULL,
    created_at_ms      BIGINT NOT NULL,
    author             TEXT NOT NULL,
    summary            TEXT NOT NULL,
    body               TEXT NOT NULL,
    owner              TEXT,
    review_every_days  BIGINT,
    PRIMARY KEY (sop_id, version)
);

CREATE TABLE proposals (
    id             TEXT PRIMARY KEY,
    sop_id         TEXT NOT NULL,
    sop_version    BIGINT NOT NULL,
    run_id         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    summary        TEXT NOT NULL,
    body           TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'pending',
    created_at_ms  BIGINT NOT NULL,
    resolution     TEXT
);
CREATE INDEX proposals_by_sop ON proposals (sop_id, status);
CREATE INDEX proposals_pending ON proposals (status, sop_id);

CREATE TABLE reviews (
    sop_id    TEXT NOT NULL,
    version   BIGINT NOT NULL,
    reviewer  TEXT NOT NULL,
    at_ms     BIGINT NOT NULL
);
CREATE INDEX reviews_by_sop ON reviews (sop_id, at_ms);

CREATE TABLE teams (
    name     TEXT PRIMARY KEY,
    members  TEXT NOT NULL
);

-- The latest version of each SOP, for search. The 'simple' configuration
-- (no stemming, no stop words) matches what SQLite's FTS5 finds; titles
-- weigh more than the rest, as bm25's column weights do there.
CREATE TABLE sop_search (
    sop_id   TEXT PRIMARY KEY,
    title    TEXT NOT NULL,
    content  TEXT NOT NULL,
    doc      tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', content), 'B')
    ) STORED
);
CREATE INDEX sop_search_doc ON sop_search USING GIN (doc);

-- Same encoding as SQLite's: runs separated by GS, a run's fields by RS,
-- deviated steps by US; people comma-separated.
CREATE TABLE health_summary (
    name    TEXT PRIMARY KEY,
    runs    TEXT,
    people  TEXT
);

CREATE TABLE draft_bases (
    sop_id         TEXT PRIMARY KEY,
    body           TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL
);
