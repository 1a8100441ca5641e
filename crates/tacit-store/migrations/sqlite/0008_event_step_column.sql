-- The step an event belongs to (deviations, finished steps), as a column so
-- library health does not parse JSON for every deviation.
ALTER TABLE events ADD COLUMN step TEXT;
UPDATE events SET step = json_extract(body, '$.step') WHERE kind = 'deviation';
UPDATE events SET step = json_extract(body, '$.title') WHERE kind = 'step_done';
