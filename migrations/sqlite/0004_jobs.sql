-- Durable background jobs and timers (src/processing/job-queue.port.ts).
-- status: 0 queued (leased while lease_until > now), 1 done, 2 dead. Times are Unix ms.
-- jobs_due holds only queued rows, ordered by due time: a claim is one index range scan
-- from its left edge, whatever the number of done or dead jobs.
CREATE TABLE jobs (
  id            INTEGER PRIMARY KEY,
  kind          TEXT NOT NULL,
  key           TEXT,
  payload       TEXT NOT NULL,
  status        INTEGER NOT NULL DEFAULT 0,
  run_at        INTEGER NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  max_attempts  INTEGER NOT NULL,
  lease_owner   TEXT,
  lease_until   INTEGER NOT NULL DEFAULT 0,
  last_error    TEXT,
  created_at    INTEGER NOT NULL,
  finished_at   INTEGER
);
CREATE UNIQUE INDEX jobs_by_key ON jobs (kind, key) WHERE key IS NOT NULL;
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE status = 0;
CREATE INDEX jobs_dead ON jobs (kind, id) WHERE status = 2;
CREATE INDEX jobs_done ON jobs (finished_at) WHERE status = 1;
