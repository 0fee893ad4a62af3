-- Dashboard users and their sessions (src/users/user-store.port.ts); the same tables and
-- meaning as migrations/sqlite/0011_users.sql. Times are Unix ms.
CREATE TABLE users (
  id             TEXT COLLATE "C" PRIMARY KEY,
  email          TEXT COLLATE "C" NOT NULL UNIQUE,
  password_hash  TEXT,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL
);

CREATE TABLE user_workspaces (
  user_id       TEXT COLLATE "C" NOT NULL REFERENCES users(id),
  workspace_id  TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id),
  PRIMARY KEY (user_id, workspace_id)
);

CREATE TABLE sessions (
  token_hash    TEXT COLLATE "C" PRIMARY KEY,
  user_id       TEXT COLLATE "C" NOT NULL REFERENCES users(id),
  workspace_id  TEXT COLLATE "C" NOT NULL,
  created_at    BIGINT NOT NULL,
  expires_at    BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE setup_tokens (
  token_hash  TEXT COLLATE "C" PRIMARY KEY,
  created_at  BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL,
  used_at     BIGINT
);
