-- When an imported run (a cast, shell history) was imported: runs list by it.
ALTER TABLE runs ADD COLUMN imported_at_ms INTEGER;
