-- Full-text search over the latest version of each SOP: titles, steps,
-- commands, rules, reasons and notes, ranked with bm25().
CREATE VIRTUAL TABLE sop_search USING fts5(sop_id UNINDEXED, title, content);
