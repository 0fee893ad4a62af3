/**
 * Background processing: one claim–lease–retry loop over every source of work — the
 * contact merge of accepted events (the event log's queue) and the jobs table's kinds
 * (housekeeping now; workflow runs, steps and timers next). It runs on the main thread of
 * `serve` or of `smashsend worker`, never on a storage thread: on SQLite its writes reach the
 * writer thread by message, like every other write.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/load-config.js';
import { APPLY_EVENTS_KIND, ApplyEventsSource } from '../contacts/apply-events.job.js';
import type { Store } from '../storage/ports.js';
import { currentHousekeeping, housekeepingKind } from './housekeeping.js';
import { JobRunner } from './job-runner.js';
import { PIPELINE_KIND, PIPELINE_MAX_ATTEMPTS, pipelineKind, type EventStage } from './stages.js';
import { NO_OBSERVER, type JobKind, type ProcessingObserver, type WorkSource } from './job-kind.js';

export { PermanentJobError } from './job-kind.js';

export interface WorkerDeps {
  store: Pick<Store, 'queue' | 'jobs' | 'events'>;
  config: Config;
  log: Logger;
  clock?: () => number;
  observer?: ProcessingObserver;
  random?: () => number;
  /** Job kinds of the modules, beside the built-in housekeeping. */
  kinds?: JobKind[];
  /** What modules do with each processed event, in this order (processing/stages.ts). */
  stages?: EventStage[];
  /** Run once the worker has stopped and its jobs have finished (SMTP pools, HTTP agents). */
  onStopped?: (() => Promise<void>)[];
  /** The modules' periodic upkeep, run by the housekeeping job. */
  upkeep?: ((now: number) => Promise<unknown>)[];
  /**
   * True while this process is appending events (SQLite, where processing and ingest share
   * the one writer thread). A backlog is then worked off in a bounded share of that thread,
   * so ingest keeps its speed and latency; the rest is processed when ingest pauses.
   */
  ingestActive?: () => boolean;
}

/** How often upkeep runs (dedup keys past the window, done jobs past retention). */
const HOUSEKEEPING_EVERY_MS = 60_000;
/** Done jobs are kept this long, then deleted by upkeep. */
const DONE_JOB_RETENTION_MS = 7 * 86_400_000;

export class Worker {
  readonly id = `worker_${randomBytes(6).toString('hex')}`;
  readonly kinds: string[];
  private readonly sources: WorkSource[];
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** A source asked for a claim while a cycle ran: the next sleep is skipped. */
  private wakeRequested = false;
  private housekeepingSlot = -1;
  private readonly clock: () => number;

  constructor(private readonly deps: WorkerDeps) {
    const { store, config, log } = deps;
    this.clock = deps.clock ?? Date.now;
    const random = deps.random ?? Math.random;
    const observer = deps.observer ?? NO_OBSERVER;
    const w = config.worker;
    const stages = deps.stages ?? [];
    const kinds = [
      housekeepingKind({
        events: store.events,
        jobs: store.jobs,
        dedupWindowMs: config.dedupWindowMs,
        doneRetentionMs: DONE_JOB_RETENTION_MS,
        ...(deps.upkeep ? { upkeep: deps.upkeep } : {}),
      }),
      ...(stages.length ? [pipelineKind({ queue: store.queue, stages, observer })] : []),
      ...(deps.kinds ?? []),
    ];
    this.kinds = [APPLY_EVENTS_KIND, ...kinds.map((k) => k.kind)];
    this.sources = [
      new ApplyEventsSource({
        queue: store.queue,
        workerId: this.id,
        log,
        observer,
        batchSize: w.batchSize,
        leaseMs: w.leaseMs,
        maxAttempts: w.maxAttempts,
        retryBaseMs: w.retryBaseMs,
        random,
        ...(deps.ingestActive ? { ingestActive: deps.ingestActive } : {}),
        ...(stages.length ? { followUp: { kind: PIPELINE_KIND, maxAttempts: PIPELINE_MAX_ATTEMPTS } } : {}),
      }),
      new JobRunner({ jobs: store.jobs, kinds, workerId: this.id, log, observer, batchSize: w.batchSize, leaseMs: w.leaseMs, retryBaseMs: w.retryBaseMs, random, clock: this.clock, ...(deps.ingestActive ? { ingestActive: deps.ingestActive } : {}) }),
    ];
    // Without this a run's next job (and a freed slot) waited for the poll: with every slot
    // busy a cycle claims nothing and sleeps WORKER_POLL_MS, so a chain of jobs (step →
    // delivery → next step) moved one link per poll (bench: ~450 webhook deliveries/s with
    // both threads two-thirds idle).
    for (const s of this.sources) s.setWake?.(() => this.requestWake());
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops claiming; resolves when the work in hand is finished. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
    await this.idle();
    for (const close of this.deps.onStopped ?? []) {
      try {
        await close();
      } catch (err) {
        this.deps.log.warn({ err }, 'closing a worker resource failed');
      }
    }
  }

  /** Resolves when the jobs the sources started have finished. */
  async idle(): Promise<void> {
    for (const s of this.sources) await s.idle?.();
  }

  private async run(): Promise<void> {
    const { log, config } = this.deps;
    let backoff = 0;
    while (this.running) {
      let r = { handled: 0, more: false };
      try {
        r = await this.cycle();
        backoff = 0;
      } catch (err) {
        // The store itself failed (down, busy): wait and try again; leased work comes back on expiry.
        backoff = Math.min(backoff ? backoff * 2 : 200, 5000);
        log.warn({ err, worker: this.id }, 'worker cycle failed; retrying');
      }
      if (!this.running) break;
      if (r.handled === 0 || backoff) await this.sleep(backoff || config.worker.pollMs);
      // No rest between busy cycles, even while appends arrive. On the writer thread the worker
      // once rested as long as each cycle ran (half the thread for ingest); from here each
      // claim and merge is a message that the writer takes in turn with the appends, so they
      // interleave by themselves, and a rest measured on this (busy HTTP) thread mostly
      // measured waiting: it halved processing (bench A/B: 1,100 vs 3,400 events/s processed
      // beside flat-out batches; single events no longer kept up).
      // Yield to the event loop between busy cycles (HTTP requests share this thread).
      else await new Promise((res) => setImmediate(res));
    }
  }

  /** One pass over every source; returns what was handled and whether a backlog remains. */
  private requestWake(): void {
    if (this.wake) this.wake();
    else this.wakeRequested = true;
  }

  private async cycle(): Promise<{ handled: number; more: boolean }> {
    this.wakeRequested = false;
    const now = this.clock();
    const slot = Math.floor(now / HOUSEKEEPING_EVERY_MS);
    if (slot !== this.housekeepingSlot) {
      await this.deps.store.jobs.enqueue([currentHousekeeping(now, HOUSEKEEPING_EVERY_MS)], now);
      this.housekeepingSlot = slot;
    }
    let handled = 0;
    let more = false;
    for (const s of this.sources) {
      const r = await s.runOnce(this.clock());
      handled += r.handled;
      more ||= r.more;
    }
    return { handled, more };
  }

  /**
   * One cycle over every source, waiting for the jobs it started (tests drive the worker
   * with it); returns how many items it handled.
   */
  async runOnce(): Promise<number> {
    const r = await this.cycle();
    await this.idle();
    return r.handled;
  }

  private sleep(ms: number): Promise<void> {
    if (this.wakeRequested && this.running) {
      this.wakeRequested = false;
      return new Promise((res) => setImmediate(res));
    }
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
}
