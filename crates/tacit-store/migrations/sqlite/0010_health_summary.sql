-- Per procedure: its last ten guided runs and everyone who ran it, kept up
-- to date as runs are stored, so `tacit status` reads one row per SOP
-- instead of aggregating a million events each time. Lists are strings with
-- ASCII separators: GS between runs, RS between a run's fields, US between
-- deviated steps; people are comma-separated.
CREATE TABLE health_summary (
    name    TEXT PRIMARY KEY,
    runs    TEXT,
    people  TEXT
);

-- Fill it for the runs already stored.
INSERT INTO health_summary (name, runs, people)
SELECT n.name,
  (SELECT group_concat(started_at_ms || char(30) || username || char(30)
           || coalesce(outcome, '') || char(30) || coalesce(steps, ''), char(29))
   FROM (SELECT r.started_at_ms, r.username, r.outcome,
                (SELECT group_concat(e.step, char(31)) FROM events e
                 WHERE e.run_id = r.id AND e.kind = 'deviation') AS steps
         FROM runs r WHERE r.sop_id = n.name
         ORDER BY r.started_at_ms DESC LIMIT 10)),
  (SELECT group_concat(DISTINCT username) FROM runs WHERE name = n.name)
FROM (SELECT DISTINCT name FROM runs) n;
