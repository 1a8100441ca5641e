-- Each event's link in its run's hash chain: sha256(previous link || event
-- JSON). A changed, removed or reordered event breaks every link after it.
ALTER TABLE events ADD COLUMN hash TEXT;
