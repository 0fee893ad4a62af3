/**
 * The stages after the contact merge: what modules do with a processed event (workflow
 * triggers, segment membership). The merge commits, in its own transaction, one job of kind
 * PIPELINE_KIND listing the seqs it processed (QueueStore.applyBatch `followUp`); this job
 * kind loads those events and hands them to each registered stage in order. So a processed
 * event reaches every stage at least once, even across a crash between the two commits,
 * and the hot path knows nothing of any stage.
 *
 * A stage must be idempotent: a retried job (a worker killed mid-way, a failure of any
 * stage) runs every stage again over the same events. Exactly-once effects (one run per
 * (workflow, messageId), one enter per transition) come from the stage's own unique keys.
 */
import type { StoredEvent } from '../events-read/event-reader.port.js';
import type { QueueStore } from './event-queue.port.js';
import { performance } from 'node:perf_hooks';
import { PermanentJobError, type JobContext, type JobKind, type ProcessingObserver } from './job-kind.js';

export const PIPELINE_KIND = 'pipeline.after_merge';
/** Attempts of one stage job before it is dead (a dead one is visible in /metrics and retryable). */
export const PIPELINE_MAX_ATTEMPTS = 10;

export interface EventStage {
  readonly name: string;
  /**
   * The processed events of one merge commit, ascending by seq (events erased since are
   * absent; each carries its contactId). Throw to have the whole job retried. `batch.key`
   * names the merge commit (the job's key, the same on every run of the job, whatever was
   * erased since): a stage that adds up (the event catalogue) counts each key once.
   */
  handle(events: StoredEvent[], ctx: JobContext, batch: { key: string }): Promise<void>;
}

export function pipelineKind(o: { queue: Pick<QueueStore, 'loadEvents'>; stages: EventStage[]; observer?: ProcessingObserver }): JobKind {
  return {
    kind: PIPELINE_KIND,
    priority: true,
    async run(job, ctx) {
      const seqs = (job.payload as { seqs?: unknown } | null)?.seqs;
      if (!Array.isArray(seqs) || !seqs.every((s) => Number.isSafeInteger(s))) {
        throw new PermanentJobError(`job ${job.id}: payload has no seqs`);
      }
      const events = await o.queue.loadEvents(seqs as number[]);
      if (events.length === 0) return;
      const batch = { key: job.key ?? `job:${job.id}` };
      for (const stage of o.stages) {
        const t0 = performance.now();
        await stage.handle(events, ctx, batch);
        o.observer?.stageRan?.(stage.name, events.length, (performance.now() - t0) / 1000);
      }
    },
  };
}
