-- Per-workspace secrets (src/workflows/workspace-secrets.port.ts); the same table and
-- meaning as migrations/sqlite/0005_workspace_secrets.sql. Times are Unix ms.
CREATE TABLE workspace_secrets (
  workspace_id            TEXT COLLATE "C" PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
  webhook_secret          TEXT NOT NULL,
  previous_webhook_secret TEXT,
  previous_valid_until    BIGINT,
  rotated_at              BIGINT,
  unsubscribe_key         TEXT NOT NULL,
  created_at              BIGINT NOT NULL
);
