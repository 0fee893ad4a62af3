-- Where an accepted event came from: 0 our API (POST /v1/events, /v1/events/batch), 1 the
-- Segment-compatible paths (/v1/track, /v1/batch, …). Shown and filtered on by the dashboard
-- (live view, event page); one small integer on the append, no index.
ALTER TABLE events ADD COLUMN source INTEGER NOT NULL DEFAULT 0;
