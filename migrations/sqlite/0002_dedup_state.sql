-- The dedup ledger is now written in sorted batches (event-store.sqlite.ts): keys of recently
-- accepted events are held in memory and merged into `dedup` every few seconds. merged_upto
-- is the highest events.id whose key the ledger holds; at startup the keys of later events
-- are rebuilt from the events table. Databases from 0001 hold every key already.
CREATE TABLE dedup_state (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  merged_upto  INTEGER NOT NULL
);
INSERT INTO dedup_state (id, merged_upto) VALUES (1, (SELECT COALESCE(MAX(id), 0) FROM events));
