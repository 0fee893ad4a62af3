-- Dashboard users and their sessions (src/users/user-store.port.ts). Times are Unix ms.
-- Passwords are scrypt hashes (src/users/password.ts); session and setup tokens are stored
-- as SHA-256 hex only (256-bit random secrets, so a fast hash is enough, as for API keys).
CREATE TABLE users (
  id             TEXT PRIMARY KEY,
  email          TEXT NOT NULL UNIQUE,
  password_hash  TEXT,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);

CREATE TABLE user_workspaces (
  user_id       TEXT NOT NULL REFERENCES users(id),
  workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
  PRIMARY KEY (user_id, workspace_id)
) WITHOUT ROWID;

CREATE TABLE sessions (
  token_hash    TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL REFERENCES users(id),
  workspace_id  TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- One-time sign-in links printed by `serve` while no user exists.
CREATE TABLE setup_tokens (
  token_hash  TEXT PRIMARY KEY,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER
) WITHOUT ROWID;
