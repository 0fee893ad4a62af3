-- Segment-compatible ingestion (src/ingest/segment/identity-store.port.ts). Times are Unix ms.

-- userId / anonymousId -> email (or, for an alias whose target has no email yet, -> another
-- id). linked_at is the event time of the call that set the link: an older call never
-- replaces a newer link.
CREATE TABLE identity_links (
  workspace_id  TEXT NOT NULL,
  id            TEXT NOT NULL,
  email         TEXT,
  alias_of      TEXT,
  linked_at     INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id)
) WITHOUT ROWID;
CREATE INDEX identity_links_by_alias ON identity_links (workspace_id, alias_of) WHERE alias_of IS NOT NULL;

-- Validated events with no resolvable email yet; deleted when attached (appended to events)
-- or after UNIDENTIFIED_RETENTION_DAYS. One messageId is held once per workspace.
CREATE TABLE held_events (
  seq           INTEGER PRIMARY KEY,
  workspace_id  TEXT NOT NULL,
  message_id    TEXT NOT NULL,
  event         TEXT NOT NULL,
  properties    TEXT,
  traits        TEXT,
  ts            INTEGER NOT NULL,
  received_at   INTEGER NOT NULL,
  user_id       TEXT,
  anonymous_id  TEXT,
  UNIQUE (workspace_id, message_id)
);
CREATE INDEX held_events_by_user ON held_events (workspace_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX held_events_by_anonymous ON held_events (workspace_id, anonymous_id) WHERE anonymous_id IS NOT NULL;
CREATE INDEX held_events_by_received ON held_events (received_at);
