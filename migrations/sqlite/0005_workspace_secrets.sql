-- Per-workspace secrets (src/workflows/workspace-secrets.port.ts): the webhook signing
-- secret (`whsec_…`), the one it replaced and until when that one is still sent (Unix ms),
-- and the unsubscribe-token HMAC key (base64 of 32 bytes). One row per workspace, made on
-- first use with both secrets at once.
CREATE TABLE workspace_secrets (
  workspace_id            TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
  webhook_secret          TEXT NOT NULL,
  previous_webhook_secret TEXT,
  previous_valid_until    INTEGER,
  rotated_at              INTEGER,
  unsubscribe_key         TEXT NOT NULL,
  created_at              INTEGER NOT NULL
);
