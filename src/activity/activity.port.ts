/**
 * The activity port: what ingest did, kept for the dashboard's live view and for
 * GET /v1/stats/events. Per-minute counters (accepted, duplicate, rejected by event name) and
 * a bounded log of duplicates and rejected events, both written in batches off the request
 * path (activity-recorder.ts). Accepted events are read from the events table by position.
 */

export interface CountDelta {
  workspaceId: string;
  /** Unix ms of the minute's start (receipt time). */
  minute: number;
  event: string;
  accepted: number;
  duplicate: number;
  rejected: number;
}

export interface ActivityInput {
  workspaceId: string;
  at: number;
  kind: 'duplicate' | 'rejected';
  /** The endpoint: `single`, `batch` or `segment` (the Segment-compatible paths). */
  source: string;
  messageId: string | null;
  event: string | null;
  email: string | null;
  errors: { code: string; message: string }[] | null;
}

export interface ActivityRecord extends ActivityInput {
  id: number;
}

export interface AcceptedEvent {
  seq: number;
  messageId: string;
  event: string;
  email: string;
  receivedAt: number;
  /** `segment`: taken by the Segment-compatible paths; absent: our own API. */
  source?: 'segment';
}

/** Positions `[from, to]`, both included. */
export type SeqRange = [number, number];

export interface StatsPoint {
  /** Unix ms of the bucket's start. */
  t: number;
  accepted: number;
  duplicate: number;
  rejected: number;
}

/**
 * Event positions one acceptedAfter call examines by default. The events table has no index
 * by workspace and position, so a live view of a quiet workspace beside a busy one walks the
 * busy one's rows: 1.5–4 µs each on SQLite (storage/read-bounds.ts), on the HTTP thread, so
 * 2,000 cost 3–8 ms per poll; a view follows up to ~6,600 events/s of the whole server
 * (2,000 per 300 ms poll), and lags behind, without skipping any, above that.
 */
export const ACCEPTED_SCAN = 2_000;

export interface ActivityStore {
  /** Adds the counts and the rows, in one transaction; drops rows older than `retainBefore`. */
  record(input: { counts: CountDelta[]; rows: ActivityInput[]; retainBefore: number }): Promise<void>;
  /** The newest positions: the live view starts after them. */
  positions(): Promise<{ eventSeq: number; activityId: number }>;
  /**
   * Accepted events of the workspace after `afterSeq`, in acceptance order: at most `limit`,
   * from at most `scan` positions (a primary-key range, never past the newest event when
   * called). `next` is where the following call starts: the last item's seq when `limit` were
   * found, else the end of the range examined, so positions of other workspaces are passed
   * over once, not read again on every call.
   *
   * `gaps` (absent when none): positions up to `next` that no committed event held when read. On PostgreSQL ids
   * are taken before commit, so a transaction that took a lower id can commit after a higher
   * one was read: its event appears later inside a gap. SQLite commits in id order (one
   * writer) and reports none.
   */
  acceptedAfter(workspaceId: string, afterSeq: number, limit: number, scan?: number): Promise<{ items: AcceptedEvent[]; next: number; gaps?: SeqRange[] }>;
  /**
   * Accepted events of the workspace whose seq lies in one of the ranges, in acceptance order,
   * at most `limit`: the live view re-reads the gaps acceptedAfter reported.
   */
  acceptedIn(workspaceId: string, ranges: SeqRange[], limit: number): Promise<AcceptedEvent[]>;
  /** Duplicates and rejected events of the workspace after `afterId`, in order. */
  activityAfter(workspaceId: string, afterId: number, limit: number): Promise<ActivityRecord[]>;
  /** Sums of the counters per bucket (`bucketMs` a multiple of a minute), only buckets with counts. */
  stats(q: { workspaceId: string; event?: string; since: number; until: number; bucketMs: number }): Promise<StatsPoint[]>;
}
