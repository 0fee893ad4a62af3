-- Segment reads and upkeep; the same indexes and meaning as
-- migrations/sqlite/0013_segment_upkeep.sql. Numbered 0012: 0010 and 0011 are taken by work
-- landing beside this one.
CREATE INDEX segment_transitions_by_segment ON segment_transitions (segment_id, id);
CREATE INDEX segment_hits_by_node ON segment_hits (node_key, ts);
CREATE INDEX segments_building ON segments (updated_at) WHERE status = 'building';
