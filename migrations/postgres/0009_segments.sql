-- Segments (src/segments/segment-store.port.ts); the same tables and meaning as
-- migrations/sqlite/0005_segments.sql. Times are Unix ms.
CREATE TABLE segments (
  id             TEXT COLLATE "C" PRIMARY KEY,
  workspace_id   TEXT COLLATE "C" NOT NULL,
  name           TEXT NOT NULL,
  rule           TEXT NOT NULL,
  version        INTEGER NOT NULL,
  status         TEXT NOT NULL,
  build_total    INTEGER NOT NULL DEFAULT 0,
  build_done     INTEGER NOT NULL DEFAULT 0,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL
);
CREATE INDEX segments_by_workspace ON segments (workspace_id, created_at, id);

CREATE TABLE segment_members (
  segment_id   TEXT COLLATE "C" NOT NULL,
  contact_id   TEXT COLLATE "C" NOT NULL,
  entered_at   BIGINT NOT NULL,
  PRIMARY KEY (segment_id, contact_id)
);
CREATE INDEX segment_members_by_contact ON segment_members (contact_id);

CREATE TABLE segment_transitions (
  id           BIGSERIAL PRIMARY KEY,
  workspace_id TEXT COLLATE "C" NOT NULL,
  segment_id   TEXT COLLATE "C" NOT NULL,
  contact_id   TEXT COLLATE "C" NOT NULL,
  kind         TEXT NOT NULL,
  at           BIGINT NOT NULL
);
CREATE INDEX segment_transitions_by_contact ON segment_transitions (contact_id, id);

CREATE TABLE segment_contacts (
  contact_id   TEXT COLLATE "C" PRIMARY KEY,
  workspace_id TEXT COLLATE "C" NOT NULL,
  version      INTEGER NOT NULL
);

CREATE TABLE segment_hits (
  contact_id   TEXT COLLATE "C" NOT NULL,
  node_key     TEXT COLLATE "C" NOT NULL,
  seq          BIGINT NOT NULL,
  ts           BIGINT NOT NULL,
  PRIMARY KEY (contact_id, node_key, seq)
);
CREATE INDEX segment_hits_by_time ON segment_hits (contact_id, node_key, ts);
