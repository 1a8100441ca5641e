-- The last machine draft of each SOP, as shown to people: what their edits
-- started from, and the base of the three-way merge when the SOP's runs are
-- drafted again (so people's edits win and only new evidence is proposed).
CREATE TABLE draft_bases (
    sop_id          TEXT PRIMARY KEY,
    body            TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL
);
