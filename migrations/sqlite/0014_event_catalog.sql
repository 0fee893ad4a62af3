-- The event catalogue (src/catalog/catalog-store.port.ts): per workspace, every event name
-- processed, with when it was first and last received and how many, and the JSON types seen
-- at each property path. Maintained by a processing stage after the contact merge
-- (catalog.stage.ts), one write per processed batch, never on the ingest path.
-- types: a bit set (1 string, 2 number, 4 boolean, 8 object, 16 array, 32 null).
CREATE TABLE catalog_events (
  workspace_id         TEXT NOT NULL,
  name                 TEXT NOT NULL,
  first_seen           INTEGER NOT NULL,
  last_seen            INTEGER NOT NULL,
  count                INTEGER NOT NULL,
  properties_truncated INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace_id, name)
) WITHOUT ROWID;

CREATE TABLE catalog_properties (
  workspace_id  TEXT NOT NULL,
  event         TEXT NOT NULL,
  path          TEXT NOT NULL,
  types         INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, event, path)
) WITHOUT ROWID;

-- One row per processed batch already counted (its pipeline job's key): a stage job run
-- again (at-least-once processing) finds its row and counts nothing twice. Purged after the
-- retention of done jobs by the catalogue's housekeeping task.
CREATE TABLE catalog_batches (
  batch_key   TEXT PRIMARY KEY,
  applied_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX catalog_batches_by_time ON catalog_batches (applied_at);
