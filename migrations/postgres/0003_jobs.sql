-- Durable background jobs and timers (src/processing/job-queue.port.ts); the same table and
-- meaning as migrations/sqlite/0004_jobs.sql. status: 0 queued (leased while
-- lease_until > now), 1 done, 2 dead. Times are Unix ms. payload is JSON text, as the
-- events' columns are (nothing queries inside it).
CREATE TABLE jobs (
  id            BIGSERIAL PRIMARY KEY,
  kind          TEXT COLLATE "C" NOT NULL,
  key           TEXT COLLATE "C",
  payload       TEXT NOT NULL,
  status        SMALLINT NOT NULL DEFAULT 0,
  run_at        BIGINT NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  max_attempts  INTEGER NOT NULL,
  lease_owner   TEXT,
  lease_until   BIGINT NOT NULL DEFAULT 0,
  last_error    TEXT,
  created_at    BIGINT NOT NULL,
  finished_at   BIGINT
);
CREATE UNIQUE INDEX jobs_by_key ON jobs (kind, key) WHERE key IS NOT NULL;
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE status = 0;
CREATE INDEX jobs_dead ON jobs (kind, id) WHERE status = 2;
CREATE INDEX jobs_done ON jobs (finished_at) WHERE status = 1;
