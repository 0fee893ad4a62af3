-- Workflows (src/workflows/workflow-store.port.ts). Times are Unix ms; JSON columns are text.
-- workflows holds the current version of each; workflow_versions every version, so a run
-- finishes on the version it started with. workflow_revisions counts changes per workspace:
-- the trigger stage reads it per job to know its cache of definitions is still current.
CREATE TABLE workflows (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT NOT NULL,
  version       INTEGER NOT NULL,
  status        TEXT NOT NULL,
  definition    TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  deleted_at    INTEGER
);
CREATE INDEX workflows_by_ws ON workflows (workspace_id, created_at, id) WHERE deleted_at IS NULL;
CREATE TABLE workflow_versions (
  workflow_id   TEXT NOT NULL,
  version       INTEGER NOT NULL,
  definition    TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (workflow_id, version)
);
CREATE TABLE workflow_revisions (
  workspace_id  TEXT PRIMARY KEY,
  revision      INTEGER NOT NULL
);
-- One run per (workflow, trigger): trigger_key is the event's messageId or the segment
-- transition's id. once_key is the contact id for `frequency: once` (null otherwise): a
-- contact enters such a workflow once ever. Both unique keys make a run start exactly once.
CREATE TABLE workflow_runs (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT NOT NULL,
  workflow_id   TEXT NOT NULL,
  version       INTEGER NOT NULL,
  contact_id    TEXT NOT NULL,
  trigger_key   TEXT NOT NULL,
  trigger_message_id TEXT,
  once_key      TEXT,
  status        TEXT NOT NULL,
  steps         TEXT NOT NULL,
  wake_at       INTEGER,
  trigger_event TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX workflow_runs_by_trigger ON workflow_runs (workflow_id, trigger_key);
CREATE UNIQUE INDEX workflow_runs_once ON workflow_runs (workflow_id, once_key) WHERE once_key IS NOT NULL;
CREATE INDEX workflow_runs_by_workflow ON workflow_runs (workflow_id, created_at, id);
CREATE INDEX workflow_runs_by_contact ON workflow_runs (workspace_id, contact_id, workflow_id);
-- Per (event, workflow): what the event did to the workflow (the event trace of GET /v1/events/:messageId).
CREATE TABLE workflow_traces (
  workspace_id  TEXT NOT NULL,
  message_id    TEXT NOT NULL,
  workflow_id   TEXT NOT NULL,
  run_id        TEXT,
  outcome       TEXT NOT NULL,
  reason        TEXT,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, message_id, workflow_id)
);
-- One delivery per (run, webhook step); attempts is a JSON array of what each attempt got.
CREATE TABLE webhook_deliveries (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT NOT NULL,
  workflow_id   TEXT NOT NULL,
  run_id        TEXT NOT NULL,
  step_id       TEXT NOT NULL,
  url           TEXT NOT NULL,
  headers       TEXT NOT NULL,
  body          TEXT NOT NULL,
  status        TEXT NOT NULL,
  attempts      TEXT NOT NULL,
  next_attempt_at INTEGER,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX webhook_deliveries_by_step ON webhook_deliveries (run_id, step_id);
CREATE INDEX webhook_deliveries_by_ws ON webhook_deliveries (workspace_id, created_at, id);
