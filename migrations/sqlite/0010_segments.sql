-- Segments (src/segments/segment-store.port.ts). Times are Unix ms.
-- rule is the condition as sent (JSON); version grows at every edit, so a backfill of an
-- older rule stops when it sees a newer one. build_total/build_done: backfill progress.
CREATE TABLE segments (
  id             TEXT PRIMARY KEY,
  workspace_id   TEXT NOT NULL,
  name           TEXT NOT NULL,
  rule           TEXT NOT NULL,
  version        INTEGER NOT NULL,
  status         TEXT NOT NULL,
  build_total    INTEGER NOT NULL DEFAULT 0,
  build_done     INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE INDEX segments_by_workspace ON segments (workspace_id, created_at, id);

-- Current members. Paged by contact_id (a stable cursor).
CREATE TABLE segment_members (
  segment_id   TEXT NOT NULL,
  contact_id   TEXT NOT NULL,
  entered_at   INTEGER NOT NULL,
  PRIMARY KEY (segment_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX segment_members_by_contact ON segment_members (contact_id);

-- Every enter and exit, in the order recorded.
CREATE TABLE segment_transitions (
  id           INTEGER PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  segment_id   TEXT NOT NULL,
  contact_id   TEXT NOT NULL,
  kind         TEXT NOT NULL,
  at           INTEGER NOT NULL
);
CREATE INDEX segment_transitions_by_contact ON segment_transitions (contact_id, id);

-- The evaluation version of each contact's memberships: a compare-and-set on it makes
-- concurrent evaluations of one contact serialise (the loser evaluates again).
CREATE TABLE segment_contacts (
  contact_id   TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  version      INTEGER NOT NULL
) WITHOUT ROWID;

-- The events each `performed` node (by its key) has counted for a contact, keyed by seq so
-- that a stage job delivered twice counts an event once; ts is the event's own time.
CREATE TABLE segment_hits (
  contact_id   TEXT NOT NULL,
  node_key     TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  ts           INTEGER NOT NULL,
  PRIMARY KEY (contact_id, node_key, seq)
) WITHOUT ROWID;
CREATE INDEX segment_hits_by_time ON segment_hits (contact_id, node_key, ts);
