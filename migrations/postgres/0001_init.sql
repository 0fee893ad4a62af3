-- Initial schema of the PostgreSQL store; the same tables and meaning as
-- migrations/sqlite/0001_init.sql.
-- Times are Unix milliseconds (BIGINT). JSON columns hold the compact text the API
-- produced (TEXT, not JSONB): key order is kept as sent, and nothing parses it on the
-- way in. Measured here for a 330-byte properties object, 200,000 rows per INSERT:
-- TEXT 2.5 us/row and 136 MB, JSON 2.9 us/row, JSONB 5-6 us/row and 174 MB.
-- Ids, names and other keys are COLLATE "C": byte order, as in SQLite, whatever the
-- database's locale, so ORDER BY and keyset paging agree across adapters; byte
-- comparison is also the cheapest.

CREATE TABLE workspaces (
  id          TEXT COLLATE "C" PRIMARY KEY,
  name        TEXT COLLATE "C" NOT NULL UNIQUE,
  created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
  id            TEXT COLLATE "C" PRIMARY KEY,
  workspace_id  TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id),
  name          TEXT NOT NULL,
  key_prefix    TEXT NOT NULL,
  -- SHA-256 hex of the secret: keys are 192-bit random, so a fast hash is enough.
  key_hash      TEXT COLLATE "C" NOT NULL UNIQUE,
  created_at    BIGINT NOT NULL,
  revoked_at    BIGINT
);

-- Dedup ledger, separate from events so that erasing a contact's events keeps
-- their messageIds reserved for the window (SPEC.md, dedup). Its primary key is
-- what makes two processes racing on one messageId accept it exactly once.
CREATE TABLE dedup (
  workspace_id  TEXT COLLATE "C" NOT NULL,
  message_id    TEXT COLLATE "C" NOT NULL,
  accepted_at   BIGINT NOT NULL,
  PRIMARY KEY (workspace_id, message_id)
);
CREATE INDEX dedup_by_accepted_at ON dedup (accepted_at);

-- status: 0 queued, 1 processed, 2 failed. id is the acceptance order.
CREATE TABLE events (
  id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id     TEXT COLLATE "C" NOT NULL,
  message_id       TEXT COLLATE "C" NOT NULL,
  event            TEXT COLLATE "C" NOT NULL,
  email            TEXT COLLATE "C" NOT NULL,
  properties       TEXT,
  traits           TEXT,
  ts               BIGINT NOT NULL,
  received_at      BIGINT NOT NULL,
  status           SMALLINT NOT NULL DEFAULT 0,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  BIGINT NOT NULL DEFAULT 0,
  lease_owner      TEXT,
  lease_until      BIGINT NOT NULL DEFAULT 0,
  error            TEXT,
  contact_id       TEXT COLLATE "C",
  processed_at     BIGINT
);
CREATE INDEX events_by_time ON events (workspace_id, ts, id);
CREATE INDEX events_by_email ON events (workspace_id, email, ts, id);
-- id last: "newest event with this messageId" is read straight off the index.
CREATE INDEX events_by_message ON events (workspace_id, message_id, id);
CREATE INDEX events_by_contact ON events (contact_id) WHERE contact_id IS NOT NULL;
-- The queue: only queued rows are in this index, so claiming never scans history.
CREATE INDEX events_queue ON events (id) WHERE status = 0;
CREATE INDEX events_failed ON events (id) WHERE status = 2;

CREATE TABLE contacts (
  id            TEXT COLLATE "C" PRIMARY KEY,
  workspace_id  TEXT COLLATE "C" NOT NULL,
  email         TEXT COLLATE "C" NOT NULL,
  -- JSON object of every property (email and status included).
  properties    TEXT NOT NULL,
  -- JSON object: property name -> [event time ms, acceptance seq] of the write that set it.
  clocks        TEXT NOT NULL,
  status        TEXT NOT NULL,
  -- firstName and lastName as the contact search matches them (lower-cased text), kept
  -- beside the JSON: reading them out of it in SQL (properties::json ->> 'firstName')
  -- fails on a value holding \u0000, which PostgreSQL text cannot represent.
  search_first  TEXT,
  search_last   TEXT,
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL,
  UNIQUE (workspace_id, email)
);
CREATE INDEX contacts_by_created ON contacts (workspace_id, created_at, id);

CREATE TABLE contact_property_names (
  workspace_id  TEXT COLLATE "C" NOT NULL,
  name          TEXT COLLATE "C" NOT NULL,
  type          TEXT NOT NULL,
  PRIMARY KEY (workspace_id, name)
);
