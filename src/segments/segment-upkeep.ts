/**
 * The segments module's share of housekeeping (processing/housekeeping.ts runs it once per
 * slot, the first slot as soon as a worker starts):
 * - builds left `building` by a crash get their backfill again;
 * - `performed` hits that no window can count any more are deleted, in bounded batches.
 * Neither runs on the hot path of an event: both are a few index seeks per minute.
 */
import { backfillJob, SEGMENT_BACKFILL_KIND } from './segment-jobs.js';
import type { SegmentStore } from './segment-store.port.js';
import type { JobQueue } from '../processing/job-queue.port.js';

/**
 * A build is stalled when nothing has moved it for this long and no backfill job of its
 * version is queued. A live chain always has one queued (a batch enqueues the next before it
 * completes), so the wait only covers the moment between a segment's write and its first
 * job's; a batch is 200 contacts, seconds of work, far under it.
 */
export const STALLED_BUILD_MS = 5 * 60_000;
/** Stalled builds repaired per run (segments are few; more wait a minute). */
const REPAIRS_PER_RUN = 50;
/** Hits deleted per statement, and statements per run: 20,000 rows a minute at most, each batch its own short commit. */
export const PRUNE_BATCH = 1_000;
const PRUNE_BATCHES_PER_RUN = 20;
/**
 * Hits are kept this much past their window: workers' clocks may disagree by seconds, and
 * a hit deleted a little late costs nothing.
 */
export const PRUNE_MARGIN_MS = 3_600_000;

export interface SegmentUpkeepDeps {
  segments: SegmentStore;
  jobs: Pick<JobQueue, 'enqueue'>;
}

/**
 * Re-enqueues the backfill of each stalled build from its start (absolute progress, idempotent
 * evaluation: a build run again over contacts already evaluated changes nothing). Keyed per
 * segment version (`<id>:<version>:repair:start`): one repair per version, so a backfill that
 * dies for good (a rule that cannot be parsed) is not retried every minute.
 */
export async function repairStalledBuilds(d: SegmentUpkeepDeps, now: number): Promise<number> {
  const stalled = await d.segments.stalledBuilds({ before: now - STALLED_BUILD_MS, backfillKind: SEGMENT_BACKFILL_KIND, limit: REPAIRS_PER_RUN });
  if (stalled.length === 0) return 0;
  const results = await d.jobs.enqueue(stalled.map((s) => backfillJob(s.workspaceId, s.id, s.version, null, now, 0, 'repair')), now);
  return results.filter((r) => r.created).length;
}

/**
 * The window of a node key, or null for a count over all time. A key is the canonical JSON of
 * the node's event, `where` and `withinMs` (core/conditions/condition.ts performedKey), so every
 * rule that uses a key has the same window: the longest window of its users is this one.
 */
export function windowOfKey(key: string): number | null {
  try {
    const v = JSON.parse(key) as { withinMs?: unknown };
    return typeof v.withinMs === 'number' && Number.isFinite(v.withinMs) && v.withinMs > 0 ? v.withinMs : null;
  } catch {
    return null;
  }
}

/**
 * Deletes hits older than their node's window (plus PRUNE_MARGIN_MS): a count `within D`
 * reads hits since `now - D` only, and `now` only grows, so those can never be counted again.
 * Hits of keys no current rule uses are pruned the same way (a rule that uses the key later
 * has the same window); hits of all-time counts are kept.
 */
export async function pruneHits(d: Pick<SegmentUpkeepDeps, 'segments'>, now: number): Promise<number> {
  let batches = 0;
  let deleted = 0;
  for (const key of await d.segments.hitKeys()) {
    const window = windowOfKey(key);
    if (window === null) continue;
    const before = now - window - PRUNE_MARGIN_MS;
    while (batches < PRUNE_BATCHES_PER_RUN) {
      batches++;
      const n = await d.segments.pruneHits(key, before, PRUNE_BATCH);
      deleted += n;
      if (n < PRUNE_BATCH) break;
    }
    if (batches >= PRUNE_BATCHES_PER_RUN) break;
  }
  return deleted;
}

/** Both, as one housekeeping task (processing/housekeeping.ts `upkeep`). */
export function segmentUpkeep(d: SegmentUpkeepDeps): (now: number) => Promise<void> {
  return async (now) => {
    await repairStalledBuilds(d, now);
    await pruneHits(d, now);
  };
}
