-- What ingest did, for the dashboard and GET /v1/stats/events (src/activity/activity.port.ts).
-- Written in batches by each API process (activity-recorder.ts), never inside an append.
-- event_counts: per workspace, minute (Unix ms of its start, by receipt) and event name
-- ('' when a rejected event had no usable name). Stats read ranges of it, never events.
CREATE TABLE event_counts (
  workspace_id  TEXT NOT NULL,
  minute        INTEGER NOT NULL,
  event         TEXT NOT NULL,
  accepted      INTEGER NOT NULL DEFAULT 0,
  duplicate     INTEGER NOT NULL DEFAULT 0,
  rejected      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace_id, minute, event)
) WITHOUT ROWID;

-- Duplicates and rejected events, for the live view (accepted ones are read from events).
-- kind: 1 duplicate, 2 rejected. Bounded: rows older than the retention are purged on write.
CREATE TABLE ingest_activity (
  id            INTEGER PRIMARY KEY,
  workspace_id  TEXT NOT NULL,
  at            INTEGER NOT NULL,
  kind          INTEGER NOT NULL,
  source        TEXT NOT NULL,
  message_id    TEXT,
  event         TEXT,
  email         TEXT,
  errors        TEXT
);
CREATE INDEX ingest_activity_by_workspace ON ingest_activity (workspace_id, id);
CREATE INDEX ingest_activity_by_time ON ingest_activity (at);
