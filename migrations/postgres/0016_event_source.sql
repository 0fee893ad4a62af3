-- Where an accepted event came from: 0 our API (POST /v1/events, /v1/events/batch), 1 the
-- Segment-compatible paths (/v1/track, /v1/batch, …). Shown and filtered on by the dashboard
-- (live view, event page); one small integer on the append, no index. A constant default:
-- PostgreSQL 11+ adds the column without rewriting the table.
ALTER TABLE events ADD COLUMN source SMALLINT NOT NULL DEFAULT 0;
