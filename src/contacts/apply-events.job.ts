/**
 * The contact merge, the first job kind: claims accepted events from the event log's queue,
 * groups them by contact, and applies each group in one store transaction (create or update
 * the contact, merge traits by event time, mark processed). Failures are retried with
 * backoff, then marked failed.
 *
 * Its queue is the events table itself (status queued), not a jobs row per event: a second
 * row and its index entries per accepted event would be written on the hot path's commit,
 * which the benchmark's writer-thread profile prices at ~19 µs per event already. The
 * claim–lease–retry semantics are the job queue's; the storage is the log's.
 */
import type { Logger } from 'pino';
import { patchFromTraits } from '../core/merge-properties.js';
import { retryDelayMs } from '../core/retry.js';
import type { JsonObject } from '../core/types.js';
import type { ApplyGroup, ApplyResult, ClaimedEvent, QueueStore } from '../processing/event-queue.port.js';
import { PermanentJobError, type ProcessingObserver, type WorkSource } from '../processing/job-kind.js';

export const APPLY_EVENTS_KIND = 'contacts.apply_events';

export interface ApplyEventsOptions {
  queue: QueueStore;
  workerId: string;
  log: Logger;
  observer: ProcessingObserver;
  batchSize: number;
  leaseMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  random: () => number;
  /** True while this process is appending events: claims stay small so ingest keeps its latency. */
  ingestActive?: () => boolean;
  /** The stages after the merge (processing/stages.ts): one job per merge commit, written in it. */
  followUp?: { kind: string; maxAttempts: number };
}

type Patch = { seq: number; patch: JsonObject | null; timestamp: number };

export class ApplyEventsSource implements WorkSource {
  readonly name = APPLY_EVENTS_KIND;
  private claimSize: number;

  constructor(private readonly o: ApplyEventsOptions) {
    this.claimSize = o.batchSize;
  }

  async runOnce(now: number): Promise<{ handled: number; more: boolean }> {
    const { queue, workerId, batchSize, leaseMs } = this.o;
    const claimed = await queue.claim({ workerId, limit: this.claimSize, now, leaseMs });
    const full = claimed.length >= this.claimSize;
    // Adaptive batch: while a backlog lasts (every claim comes back full), double the claim
    // up to 8× WORKER_BATCH_SIZE; on SQLite this gives processing a fair share of the
    // writer thread against flat-out batch ingest (it got ~800 of 60,000 events/s with a
    // fixed 100). A claim that comes back short resets it, so latency is normal again.
    // While ingest is active the claim stays at WORKER_BATCH_SIZE, so one cycle never holds
    // the writer thread long.
    const grow = full && !this.o.ingestActive?.();
    this.claimSize = grow ? Math.min(this.claimSize * 2, batchSize * 8) : batchSize;
    if (claimed.length === 0) return { handled: 0, more: false };
    this.o.observer.attempted(APPLY_EVENTS_KIND, claimed.length);
    const groups = new Map<string, ClaimedEvent[]>();
    for (const e of claimed) {
      const k = `${e.workspaceId}\u0000${e.email}`;
      const g = groups.get(k);
      if (g) g.push(e);
      else groups.set(k, [e]);
    }
    await this.applyGroups([...groups.values()], now);
    return { handled: claimed.length, more: full };
  }

  private async applyGroups(groups: ClaimedEvent[][], now: number): Promise<void> {
    const batch: { events: ClaimedEvent[]; input: ApplyGroup }[] = [];
    for (const group of groups) {
      const ready: Patch[] = [];
      const readyEvents: ClaimedEvent[] = [];
      for (const e of group) {
        try {
          const traits = e.traitsJson === null ? null : (JSON.parse(e.traitsJson) as JsonObject);
          ready.push({ seq: e.seq, patch: traits === null ? null : patchFromTraits(traits), timestamp: e.timestamp });
          readyEvents.push(e);
        } catch (err) {
          await this.failed([e], err, now);
        }
      }
      if (ready.length) batch.push({ events: readyEvents, input: { workspaceId: group[0]!.workspaceId, email: group[0]!.email, events: ready } });
    }
    if (batch.length === 0) return;
    let results: (ApplyResult | { error: unknown })[];
    try {
      results = await this.o.queue.applyBatch({
        workerId: this.o.workerId,
        groups: batch.map((b) => b.input),
        now,
        ...(this.o.followUp ? { followUp: this.o.followUp } : {}),
      });
    } catch (err) {
      for (const b of batch) await this.failed(b.events, err, now);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const r = results[i]!;
      if ('error' in r) await this.failed(batch[i]!.events, r.error, now);
      else if (r.processed.length) this.o.observer.completed(APPLY_EVENTS_KIND, r.processed.length);
    }
  }

  private async failed(events: ClaimedEvent[], err: unknown, now: number): Promise<void> {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    // Events of one group share attempts only approximately; decide per event.
    for (const e of events) {
      const attempt = e.attempts + 1;
      const final = err instanceof PermanentJobError || attempt >= this.o.maxAttempts;
      const retryAt = final ? null : now + retryDelayMs(attempt, this.o.retryBaseMs, this.o.random());
      this.o.observer.failed(APPLY_EVENTS_KIND, final ? 'failed' : 'retry', 1);
      this.o.log.warn({ seq: e.seq, attempt, final, error: message }, 'event processing failed');
      await this.o.queue.fail({ workerId: this.o.workerId, seqs: [e.seq], error: message, retryAt, now });
    }
  }
}
