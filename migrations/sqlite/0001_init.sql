-- Initial schema of the embedded store. Times are Unix milliseconds (INTEGER).

CREATE TABLE workspaces (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
  name          TEXT NOT NULL,
  key_prefix    TEXT NOT NULL,
  -- SHA-256 hex of the secret: keys are 192-bit random, so a fast hash is enough.
  key_hash      TEXT NOT NULL UNIQUE,
  created_at    INTEGER NOT NULL,
  revoked_at    INTEGER
);

-- Dedup ledger, separate from events so that erasing a contact's events keeps their
-- messageIds reserved for the window (SPEC.md, dedup). Keyed by the first 64 bits of
-- SHA-256(workspace_id NUL message_id), with the next 64 bits beside them: an integer
-- key keeps the B-tree small and its pages dense (measured here: ~118k vs ~82k reserved
-- ids/s with 2,000-row transactions against a (workspace_id, message_id) text key).
-- A 64-bit key collision (h equal, h2 different) falls back to dedup_collisions.
CREATE TABLE dedup (
  h            INTEGER PRIMARY KEY,
  h2           INTEGER NOT NULL,
  accepted_at  INTEGER NOT NULL
);
CREATE INDEX dedup_by_accepted_at ON dedup (accepted_at);
CREATE TABLE dedup_collisions (
  workspace_id  TEXT NOT NULL,
  message_id    TEXT NOT NULL,
  accepted_at   INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, message_id)
) WITHOUT ROWID;

-- status: 0 queued, 1 processed, 2 failed. id is the acceptance order.
-- Only two indexes are written on the hot path (by time, and the queue); both grow at
-- their right edge. The email, messageId and contact indexes are partial (status <> 0):
-- their random-order inserts happen when the worker marks an event processed, off the
-- request path. Reads add the queued rows through the queue index (small when the
-- worker keeps up).
CREATE TABLE events (
  id               INTEGER PRIMARY KEY,
  workspace_id     TEXT NOT NULL,
  message_id       TEXT NOT NULL,
  event            TEXT NOT NULL,
  email            TEXT NOT NULL,
  properties       TEXT,
  traits           TEXT,
  ts               INTEGER NOT NULL,
  received_at      INTEGER NOT NULL,
  status           INTEGER NOT NULL DEFAULT 0,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL DEFAULT 0,
  lease_owner      TEXT,
  lease_until      INTEGER NOT NULL DEFAULT 0,
  error            TEXT,
  contact_id       TEXT,
  processed_at     INTEGER
);
CREATE INDEX events_by_time ON events (workspace_id, ts, id);
CREATE INDEX events_queue ON events (id) WHERE status = 0;
CREATE INDEX events_by_email ON events (workspace_id, email, ts, id) WHERE status <> 0;
CREATE INDEX events_by_message ON events (workspace_id, message_id) WHERE status <> 0;
CREATE INDEX events_by_contact ON events (contact_id) WHERE status <> 0;
CREATE INDEX events_failed ON events (id) WHERE status = 2;

CREATE TABLE contacts (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT NOT NULL,
  email         TEXT NOT NULL,
  -- JSON object of every property (email and status included).
  properties    TEXT NOT NULL,
  -- JSON object: property name -> [event time ms, acceptance seq] of the write that set it.
  clocks        TEXT NOT NULL,
  status        TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  UNIQUE (workspace_id, email)
);
CREATE INDEX contacts_by_created ON contacts (workspace_id, created_at, id);

CREATE TABLE contact_property_names (
  workspace_id  TEXT NOT NULL,
  name          TEXT NOT NULL,
  type          TEXT NOT NULL,
  PRIMARY KEY (workspace_id, name)
) WITHOUT ROWID;
