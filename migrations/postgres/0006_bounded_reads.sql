-- Every read is an index seek bounded by its limit (issue #15, src/storage/read-bounds.ts).
-- The append statement gains no index: all of these are written off the ingest path.
-- Measured (200-event appends, 50,000 events, three alternating runs): 19,000–25,300
-- events/s with them against 19,900–27,500 without; processing (claims of 200 + applyBatch,
-- 30,000 events, two sets of three pairs) 5,000–7,300 against 6,000–8,100 events/s: within
-- the noise of a machine shared with other jobs.

-- GET /v1/events?event=: processed and failed events. A row enters it when the worker sets
-- its status: that UPDATE is never HOT (status is in the predicate of events_queue), so it
-- writes a new entry in every index of the row already; queued rows are read through the
-- queue, as on SQLite.
CREATE INDEX events_by_event ON events (workspace_id, event, ts, id) WHERE status <> 0;

-- GET /v1/events?status=failed: failed events in page order (rows enter it when the worker
-- gives up on them: rare). It replaces events_failed (id) WHERE status = 2: while it
-- existed the planner read a few failed rows through it and sorted them (fine for 100 rows,
-- a sort of every failed row of the workspace for 100,000); the queue stats' count of failed
-- events reads the new index as well.
CREATE INDEX events_failed_by_time ON events (workspace_id, ts, id) WHERE status = 2;
DROP INDEX events_failed;

-- GET /v1/contacts?status=: contacts are written by the worker and the contacts API.
CREATE INDEX contacts_by_status ON contacts (workspace_id, status, created_at, id);
