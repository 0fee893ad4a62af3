-- The event catalogue (src/catalog/catalog-store.port.ts); the same tables and meaning as
-- migrations/sqlite/0014_event_catalog.sql.
CREATE TABLE catalog_events (
  workspace_id         TEXT COLLATE "C" NOT NULL,
  name                 TEXT COLLATE "C" NOT NULL,
  first_seen           BIGINT NOT NULL,
  last_seen            BIGINT NOT NULL,
  count                BIGINT NOT NULL,
  properties_truncated BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (workspace_id, name)
);

CREATE TABLE catalog_properties (
  workspace_id  TEXT COLLATE "C" NOT NULL,
  event         TEXT COLLATE "C" NOT NULL,
  path          TEXT COLLATE "C" NOT NULL,
  types         INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, event, path)
);

CREATE TABLE catalog_batches (
  batch_key   TEXT COLLATE "C" PRIMARY KEY,
  applied_at  BIGINT NOT NULL
);
CREATE INDEX catalog_batches_by_time ON catalog_batches (applied_at);
