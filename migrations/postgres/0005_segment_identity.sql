-- Segment-compatible ingestion (src/ingest/segment/identity-store.port.ts); the same tables
-- and meaning as migrations/sqlite/0005_segment_identity.sql. Times are Unix ms.
CREATE TABLE identity_links (
  workspace_id  TEXT COLLATE "C" NOT NULL,
  id            TEXT COLLATE "C" NOT NULL,
  email         TEXT,
  alias_of      TEXT COLLATE "C",
  linked_at     BIGINT NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX identity_links_by_alias ON identity_links (workspace_id, alias_of) WHERE alias_of IS NOT NULL;

CREATE TABLE held_events (
  seq           BIGSERIAL PRIMARY KEY,
  workspace_id  TEXT COLLATE "C" NOT NULL,
  message_id    TEXT COLLATE "C" NOT NULL,
  event         TEXT NOT NULL,
  properties    TEXT,
  traits        TEXT,
  ts            BIGINT NOT NULL,
  received_at   BIGINT NOT NULL,
  user_id       TEXT COLLATE "C",
  anonymous_id  TEXT COLLATE "C",
  UNIQUE (workspace_id, message_id)
);
CREATE INDEX held_events_by_user ON held_events (workspace_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX held_events_by_anonymous ON held_events (workspace_id, anonymous_id) WHERE anonymous_id IS NOT NULL;
CREATE INDEX held_events_by_received ON held_events (received_at);
