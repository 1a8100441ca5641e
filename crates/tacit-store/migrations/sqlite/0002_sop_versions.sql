-- Every version of every SOP, immutable once written. The body is the SOP as
-- schema-versioned JSON; the columns beside it are for listings.
CREATE TABLE sop_versions (
    sop_id         TEXT NOT NULL,
    version        INTEGER NOT NULL,
    title          TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    author         TEXT NOT NULL,
    summary        TEXT NOT NULL,
    body           TEXT NOT NULL,
    PRIMARY KEY (sop_id, version)
);
