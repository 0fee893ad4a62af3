-- What ingest did (src/activity/activity.port.ts); the same tables and meaning as
-- migrations/sqlite/0012_ingest_activity.sql.
CREATE TABLE event_counts (
  workspace_id  TEXT COLLATE "C" NOT NULL,
  minute        BIGINT NOT NULL,
  event         TEXT COLLATE "C" NOT NULL,
  accepted      BIGINT NOT NULL DEFAULT 0,
  duplicate     BIGINT NOT NULL DEFAULT 0,
  rejected      BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace_id, minute, event)
);

CREATE TABLE ingest_activity (
  id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id  TEXT COLLATE "C" NOT NULL,
  at            BIGINT NOT NULL,
  kind          SMALLINT NOT NULL,
  source        TEXT NOT NULL,
  message_id    TEXT,
  event         TEXT,
  email         TEXT,
  errors        TEXT
);
CREATE INDEX ingest_activity_by_workspace ON ingest_activity (workspace_id, id);
CREATE INDEX ingest_activity_by_time ON ingest_activity (at);
