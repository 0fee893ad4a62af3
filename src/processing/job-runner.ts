/**
 * The jobs table's side of the worker: claims due jobs of the registered kinds, runs each
 * attempt, then completes it or fails it with backoff and jitter (dead after its
 * maxAttempts, or at once on PermanentJobError). Jobs run concurrently, up to a number of
 * slots, and a cycle never waits for the jobs it started: one slow job (a webhook to a
 * hanging destination) holds back no other.
 */
import type { Logger } from 'pino';
import { retryDelayMs } from '../core/retry.js';
import { PermanentJobError, type JobKind, type ProcessingObserver, type WorkSource } from './job-kind.js';
import type { Job, JobQueue } from './job-queue.port.js';

export interface JobRunnerOptions {
  jobs: JobQueue;
  kinds: JobKind[];
  workerId: string;
  log: Logger;
  observer: ProcessingObserver;
  batchSize: number;
  leaseMs: number;
  retryBaseMs: number;
  random: () => number;
  clock: () => number;
  /** Jobs run at once (default DEFAULT_JOB_CONCURRENCY). */
  concurrency?: number;
  /** True while this process's API is appending (in-process worker only): fewer slots then. */
  ingestActive?: () => boolean;
}

/** Jobs one worker runs at once (across claims). */
export const DEFAULT_JOB_CONCURRENCY = 64;
/** Jobs of priority kinds one worker runs at once, beside (not within) the concurrency above. */
export const PRIORITY_SLOTS = 8;
/**
 * Slots of the other kinds while the API beside this worker is appending: run starts keep
 * their own slots (lag stays low), but webhook and email attempts yield the shared cores to
 * ingest and catch up when the burst ends, as collectors do (acknowledging events comes first).
 */
export const BUSY_CONCURRENCY = 8;

export class JobRunner implements WorkSource {
  readonly name = 'jobs';
  private readonly byKind: Map<string, JobKind>;
  private readonly kindNames: string[];
  private readonly priorityNames: string[];
  private priorityInflight = 0;
  private readonly concurrency: number;
  private readonly inflight = new Set<Promise<void>>();
  /** Ids of jobs that succeeded, completed together once per event-loop turn. */
  private doneIds: number[] = [];
  private completing: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private wakeQueued = false;

  constructor(private readonly o: JobRunnerOptions) {
    this.byKind = new Map(o.kinds.map((k) => [k.kind, k]));
    this.kindNames = [...this.byKind.keys()];
    this.priorityNames = o.kinds.filter((k) => k.priority).map((k) => k.kind);
    this.concurrency = o.concurrency ?? DEFAULT_JOB_CONCURRENCY;
  }

  setWake(wake: () => void): void {
    this.wake = wake;
  }

  /** One wake-up per event-loop turn, however many jobs finished in it. */
  private wakeSoon(): void {
    if (this.wakeQueued || !this.wake) return;
    this.wakeQueued = true;
    setImmediate(() => {
      this.wakeQueued = false;
      this.wake?.();
    });
  }

  /**
   * Claims what free slots allow and starts those jobs; it does not wait for them. A job
   * that hangs (a webhook to a destination that never answers, up to its timeout) holds
   * only its own slot: the next cycle claims and runs the jobs behind it, so one slow
   * destination never delays the others (it did when a cycle waited for its whole claim).
   */
  async runOnce(now: number): Promise<{ handled: number; more: boolean }> {
    if (this.kindNames.length === 0) return { handled: 0, more: false };
    // One claim per cycle, as before priorities: while the shared slots have room, every kind
    // is claimed together (due order); only when they are all taken are the priority kinds
    // claimed alone, into their own slots. (A second claim on every cycle cost the writer
    // thread, and so single-event ingest, ~20 µs per event.)
    const free = this.slots() - (this.inflight.size - this.priorityInflight);
    if (free > 0) return this.claimAndStart(this.kindNames, free, now, false);
    if (this.priorityNames.length) {
      const r = await this.claimAndStart(this.priorityNames, PRIORITY_SLOTS - this.priorityInflight, now, true);
      // The shared slots are full: not a backlog this worker can take more of yet.
      return { handled: r.handled, more: r.more };
    }
    return { handled: 0, more: false };
  }

  private slots(): number {
    return this.o.ingestActive?.() ? Math.min(this.concurrency, BUSY_CONCURRENCY) : this.concurrency;
  }

  private async claimAndStart(kinds: string[], free: number, now: number, priority: boolean): Promise<{ handled: number; more: boolean }> {
    if (free <= 0) return { handled: 0, more: false };
    const { jobs, workerId, batchSize, leaseMs } = this.o;
    const limit = Math.min(batchSize, free);
    const claimed = await jobs.claim({ workerId, kinds, limit, now, leaseMs });
    for (const job of claimed) {
      if (priority) this.priorityInflight++;
      const p: Promise<void> = this.attempt(job).then((ok) => {
        if (ok) this.completeSoon(job.id);
      });
      this.inflight.add(p);
      void p.finally(() => {
        this.inflight.delete(p);
        if (priority) this.priorityInflight--;
        this.wakeSoon();
      });
    }
    return { handled: claimed.length, more: claimed.length >= limit };
  }

  /** Resolves when every started job has finished and been recorded. */
  async idle(): Promise<void> {
    while (this.inflight.size || this.completing) {
      await Promise.allSettled([...this.inflight]);
      await this.completing;
    }
  }

  nextDueAt(): Promise<number | null> {
    return this.o.jobs.nextDueAt(this.kindNames);
  }

  private completeSoon(id: number): void {
    this.doneIds.push(id);
    if (this.completing) return;
    this.completing = new Promise<void>((res) => setImmediate(res)).then(async () => {
      while (this.doneIds.length) {
        const ids = this.doneIds;
        this.doneIds = [];
        try {
          await this.o.jobs.complete({ workerId: this.o.workerId, ids, now: this.o.clock() });
        } catch (err) {
          // Not recorded: the leases expire and the jobs run again (handlers are idempotent).
          this.o.log.warn({ err, jobs: ids.length }, 'completing jobs failed; they will run again');
        }
      }
      this.completing = null;
    });
  }

  /** Runs one attempt; true when it succeeded (completed with others of its turn). */
  private async attempt(job: Job): Promise<boolean> {
    const { observer, log, jobs, workerId } = this.o;
    const kind = this.byKind.get(job.kind)!;
    observer.attempted(job.kind, 1);
    const now = this.o.clock();
    try {
      await kind.run(job, { now, log, enqueue: (more) => jobs.enqueue(more, this.o.clock()) });
      observer.completed(job.kind, 1);
      return true;
    } catch (err) {
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      const attempt = job.attempts + 1;
      const final = err instanceof PermanentJobError || attempt >= job.maxAttempts;
      const retryAt = final ? null : this.o.clock() + retryDelayMs(attempt, kind.retryBaseMs ?? this.o.retryBaseMs, this.o.random());
      observer.failed(job.kind, final ? 'failed' : 'retry', 1);
      log.warn({ jobId: job.id, kind: job.kind, attempt, final, error: message }, 'job failed');
      try {
        await jobs.fail({ workerId, id: job.id, error: message, retryAt, now: this.o.clock() });
      } catch (e) {
        log.warn({ err: e, jobId: job.id }, 'recording a job failure failed; it will run again');
      }
      return false;
    }
  }
}
