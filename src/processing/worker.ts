import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { patchFromTraits } from '../core/merge-properties.js';
import { retryDelayMs } from '../core/retry.js';
import type { JsonObject } from '../core/types.js';
import type { Config } from '../config/load-config.js';
import type { ClaimedEvent } from './event-queue.port.js';
import type { Store } from '../storage/ports.js';
import type { Metrics } from '../http/metrics.js';

/** A failure that retrying cannot fix: the event is marked failed at once. */
export class PermanentProcessingError extends Error {
  override readonly name = 'PermanentProcessingError';
}

export interface WorkerDeps {
  store: Store;
  config: Config;
  log: Logger;
  clock?: () => number;
  metrics?: Metrics;
  /** Called with how many events a cycle processed (defaults to the metrics counter). */
  onProcessed?: (n: number) => void;
  /** Called per failed attempt: 'retry' or 'failed' for good (defaults to the metrics counter). */
  onFailure?: (outcome: 'retry' | 'failed') => void;
  random?: () => number;
  /**
   * True while events are being appended (the SQLite writer thread, which runs this worker
   * and the appends on one thread). A backlog is then worked off in a bounded share of the
   * thread, so that ingest keeps its speed and latency; the rest of the backlog is
   * processed when ingest pauses.
   */
  ingestActive?: () => boolean;
}

/** Share of the thread the worker takes for a backlog while ingest is active (see ingestActive). */
const BUSY_SHARE = 0.5;

const PURGE_EVERY_MS = 60_000;

/**
 * Background processing: claims queued events in batches, groups them by contact, and
 * applies each group in one store transaction (create or update the contact, merge traits
 * by event time, mark processed). Failures are retried with backoff, then marked failed.
 */
export class Worker {
  readonly id = `worker_${randomBytes(6).toString('hex')}`;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private lastPurge = 0;
  private claimSize: number;
  private readonly clock: () => number;
  private readonly random: () => number;

  private readonly onProcessed: (n: number) => void;
  private readonly onFailure: (outcome: 'retry' | 'failed') => void;

  constructor(private readonly deps: WorkerDeps) {
    this.clock = deps.clock ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.claimSize = deps.config.worker.batchSize;
    this.onProcessed = deps.onProcessed ?? ((n) => deps.metrics?.processed.inc(n));
    this.onFailure = deps.onFailure ?? ((outcome) => deps.metrics?.processingFailures.inc({ outcome }));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops claiming; resolves when the batch in hand is finished. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  private async run(): Promise<void> {
    const { log, config } = this.deps;
    let backoff = 0;
    while (this.running) {
      let done = 0;
      const started = performance.now();
      try {
        done = await this.runOnce();
        backoff = 0;
      } catch (err) {
        // The store itself failed (down, busy): wait and try again; leased events come back on expiry.
        backoff = Math.min(backoff ? backoff * 2 : 200, 5000);
        log.warn({ err, worker: this.id }, 'worker cycle failed; retrying');
      }
      if (!this.running) break;
      if (done === 0 || backoff) await this.sleep(backoff || config.worker.pollMs);
      else if (done >= config.worker.batchSize && this.deps.ingestActive?.()) {
        // Backlogged while appends arrive: rest long enough that this cycle was BUSY_SHARE of the time.
        await this.sleep(((performance.now() - started) * (1 - BUSY_SHARE)) / BUSY_SHARE);
      }
      // Yield to the event loop between busy cycles. On the SQLite writer thread the store's
      // calls resolve as microtasks, so without this a backlog would starve ingest messages.
      // Two hops: appends that arrive meanwhile schedule their commit with one setImmediate,
      // so they commit before the next processing batch starts (ingest latency first).
      else await new Promise((res) => setImmediate(() => setImmediate(res)));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((res) => {
      const t = setTimeout(() => {
        this.wake = null;
        res();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        res();
      };
    });
  }

  /** One claim-and-apply cycle; returns how many events it handled. */
  async runOnce(): Promise<number> {
    const { store, config } = this.deps;
    const now = this.clock();
    if (now - this.lastPurge >= PURGE_EVERY_MS) {
      this.lastPurge = now;
      await store.events.purgeDedup(now - config.dedupWindowMs);
    }
    const claimed = await store.queue.claim({ workerId: this.id, limit: this.claimSize, now, leaseMs: config.worker.leaseMs });
    // Adaptive batch: while a backlog lasts (every claim comes back full), double the claim
    // up to 8× WORKER_BATCH_SIZE; on SQLite this gives processing a fair share of the
    // writer thread against flat-out batch ingest (it got ~800 of 60,000 events/s with a
    // fixed 100). A claim that comes back short resets it, so latency is normal again.
    // While ingest is active (see ingestActive) the claim stays at WORKER_BATCH_SIZE, so one
    // cycle never holds the writer thread long.
    const grow = claimed.length >= this.claimSize && !this.deps.ingestActive?.();
    this.claimSize = grow ? Math.min(this.claimSize * 2, config.worker.batchSize * 8) : config.worker.batchSize;
    if (claimed.length === 0) return 0;
    const groups = new Map<string, ClaimedEvent[]>();
    for (const e of claimed) {
      const k = `${e.workspaceId}\u0000${e.email}`;
      const g = groups.get(k);
      if (g) g.push(e);
      else groups.set(k, [e]);
    }
    await this.applyGroups([...groups.values()]);
    return claimed.length;
  }

  private async applyGroups(groups: ClaimedEvent[][]): Promise<void> {
    const { store } = this.deps;
    const batch: { events: ClaimedEvent[]; input: { workspaceId: string; email: string; events: { seq: number; patch: JsonObject | null; timestamp: number }[] } }[] = [];
    for (const group of groups) {
      const ready: { seq: number; patch: JsonObject | null; timestamp: number }[] = [];
      const readyEvents: ClaimedEvent[] = [];
      for (const e of group) {
        try {
          const traits = e.traitsJson === null ? null : (JSON.parse(e.traitsJson) as JsonObject);
          ready.push({ seq: e.seq, patch: traits === null ? null : patchFromTraits(traits), timestamp: e.timestamp });
          readyEvents.push(e);
        } catch (err) {
          await this.failed([e], err);
        }
      }
      if (ready.length) batch.push({ events: readyEvents, input: { workspaceId: group[0]!.workspaceId, email: group[0]!.email, events: ready } });
    }
    if (batch.length === 0) return;
    let results: Awaited<ReturnType<typeof store.queue.applyBatch>>;
    try {
      results = await store.queue.applyBatch({ workerId: this.id, groups: batch.map((b) => b.input), now: this.clock() });
    } catch (err) {
      for (const b of batch) await this.failed(b.events, err);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const r = results[i]!;
      if ('error' in r) await this.failed(batch[i]!.events, r.error);
      else if (r.processed.length) this.onProcessed(r.processed.length);
    }
  }

  private async failed(events: ClaimedEvent[], err: unknown): Promise<void> {
    const { store, config, log } = this.deps;
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const now = this.clock();
    // Events of one group share attempts only approximately; decide per event.
    for (const e of events) {
      const attempt = e.attempts + 1;
      const final = err instanceof PermanentProcessingError || attempt >= config.worker.maxAttempts;
      const retryAt = final ? null : now + retryDelayMs(attempt, config.worker.retryBaseMs, this.random());
      this.onFailure(final ? 'failed' : 'retry');
      log.warn({ seq: e.seq, attempt, final, error: message }, 'event processing failed');
      await store.queue.fail({ workerId: this.id, seqs: [e.seq], error: message, retryAt, now });
    }
  }
}
