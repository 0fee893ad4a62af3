/**
 * Periodic upkeep as a job kind: drops dedup keys past the window and done jobs past their
 * retention. Every worker enqueues the current slot's job once per slot (worker.ts); the job
 * is keyed by its slot, so however many workers run, each slot's upkeep is done once.
 */
import type { EventLog } from '../ingest/event-log.port.js';
import type { JobKind } from './job-kind.js';
import type { JobInput, JobQueue } from './job-queue.port.js';

export const HOUSEKEEPING_KIND = 'housekeeping';

export interface HousekeepingOptions {
  events: Pick<EventLog, 'purgeDedup'>;
  jobs: JobQueue;
  dedupWindowMs: number;
  /** How long done jobs are kept (visible through the API) before they are deleted. */
  doneRetentionMs: number;
  /** The modules' own upkeep (e.g. held Segment events past their retention), run in the same slot. */
  upkeep?: ((now: number) => Promise<unknown>)[];
}

/** This slot's job, due now (enqueuing it again is a no-op). */
export function currentHousekeeping(now: number, everyMs: number): JobInput {
  const slot = Math.floor(now / everyMs);
  return { kind: HOUSEKEEPING_KIND, key: `slot:${slot}`, payload: { slot }, runAt: now, maxAttempts: 3 };
}

export function housekeepingKind(o: HousekeepingOptions): JobKind {
  return {
    kind: HOUSEKEEPING_KIND,
    async run(_job, ctx) {
      await o.events.purgeDedup(ctx.now - o.dedupWindowMs);
      await o.jobs.purgeDone(ctx.now - o.doneRetentionMs);
      for (const task of o.upkeep ?? []) await task(ctx.now);
    },
  };
}
