-- Every read is an index seek bounded by its limit (issue #15, src/storage/read-bounds.ts).
-- Nothing here is written by an append: the hot path keeps its two indexes (by time, and
-- the queue). Measured on the writer alone, 200-event appends growing a queue to 300,000
-- rows: ~31,000 events/s as is; adding a queued-rows index by (workspace_id, message_id)
-- cut it to 7,000–16,000/s and one by (workspace_id, email, ts, id) to 10,000–15,000/s
-- (random-order inserts dirty one page each), and a full index by event name to
-- 18,000–24,000/s. So the indexes below are written by the worker and the contacts API
-- only: appends measured the same with them (writer alone, 200-event appends up to 100,000
-- events, three alternating runs on a shared machine: 27,000–49,000 events/s with them,
-- 23,000–42,000 without; 16.5–20 µs CPU per event against 18–21). Processing pays for
-- events_by_event, one more index entry per processed event: a first measurement (claims
-- of 1,000, 60,000 events) saw no difference (13,000–14,400 events/s against 12,600–15,800),
-- a second (claims of 200, 30,000 events of 20 names and 5,000 emails, three alternating
-- pairs, twice) 17,000–26,000 against 22,000–31,000: up to ~20% of the writer's processing
-- rate, ~7–10 µs per event.

-- GET /v1/events?event=: processed and failed events, written by the worker like the email
-- and messageId indexes; queued ones are read as the other filtered reads read them.
CREATE INDEX events_by_event ON events (workspace_id, event, ts, id) WHERE status <> 0;

-- GET /v1/events?status=failed: failed events in page order. A row enters it only when the
-- worker gives up on it (rare), so it costs neither appends nor normal processing.
CREATE INDEX events_failed_by_time ON events (workspace_id, ts, id) WHERE status = 2;

-- GET /v1/contacts?status=: contacts are written by the worker and the contacts API, never
-- by an append.
CREATE INDEX contacts_by_status ON contacts (workspace_id, status, created_at, id);

-- The event a ledger entry reserved its messageId for, so GET /v1/events/:messageId finds a
-- queued event behind a deep queue with two primary-key lookups. Filled when keys are merged
-- into the B-tree (sorted slices, off the append's transaction); entries of events queued
-- before this migration are filled once by the migrating process (sqlite-direct-store.ts).
ALTER TABLE dedup ADD COLUMN event_id INTEGER;
ALTER TABLE dedup_collisions ADD COLUMN event_id INTEGER;
