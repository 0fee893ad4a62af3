-- Tracking plans (src/tracking-plan/tracking-plan-store.port.ts): at most one plan per
-- workspace. `version` grows on every PUT and DELETE (a delete keeps the row with plan NULL),
-- so an API process compares one integer, at most once a second, to know its compiled copy
-- is current (tracking-plan-cache.ts).
CREATE TABLE tracking_plans (
  workspace_id  TEXT PRIMARY KEY,
  version       INTEGER NOT NULL,
  plan          TEXT,
  updated_at    INTEGER NOT NULL
) WITHOUT ROWID;

-- What a warn-mode plan found wrong with an accepted event ([{rule, path, message}], JSON),
-- written by the same append as the event; NULL for the vast majority. The partial index
-- holds only flagged events: the violations summary reads a workspace's newest ones.
ALTER TABLE events ADD COLUMN violations TEXT;
CREATE INDEX events_with_violations ON events (workspace_id, id) WHERE violations IS NOT NULL;

-- A Segment event held as unidentified keeps its flags until it is attached (appended).
ALTER TABLE held_events ADD COLUMN violations TEXT;
