-- Tracking plans; the same tables and meaning as migrations/sqlite/0016_tracking_plan.sql.
CREATE TABLE tracking_plans (
  workspace_id  TEXT COLLATE "C" PRIMARY KEY,
  version       BIGINT NOT NULL,
  plan          TEXT,
  updated_at    BIGINT NOT NULL
);

ALTER TABLE events ADD COLUMN violations TEXT;
CREATE INDEX events_with_violations ON events (workspace_id, id) WHERE violations IS NOT NULL;

ALTER TABLE held_events ADD COLUMN violations TEXT;
