-- Segment reads and upkeep (src/segments/segment-store.port.ts). Numbered 0013: 0011 and
-- 0012 are taken by work landing beside this one.
-- GET /v1/segments/:id/transitions: one segment's transitions newest first, paged by id.
CREATE INDEX segment_transitions_by_segment ON segment_transitions (segment_id, id);
-- The housekeeping prune of hits past their node's window: one range per node key.
CREATE INDEX segment_hits_by_node ON segment_hits (node_key, ts);
-- The housekeeping repair of builds left `building` by a crash.
CREATE INDEX segments_building ON segments (updated_at) WHERE status = 'building';
