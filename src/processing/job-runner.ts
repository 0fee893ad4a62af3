/**
 * The jobs table's side of the worker: claims due jobs of the registered kinds, runs each
 * attempt, then completes it or fails it with backoff and jitter (dead after its
 * maxAttempts, or at once on PermanentJobError). Jobs of one claim run concurrently, so one
 * slow job (a webhook to a hanging destination) does not hold the others back.
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
}

export class JobRunner implements WorkSource {
  readonly name = 'jobs';
  private readonly byKind: Map<string, JobKind>;
  private readonly kindNames: string[];

  constructor(private readonly o: JobRunnerOptions) {
    this.byKind = new Map(o.kinds.map((k) => [k.kind, k]));
    this.kindNames = [...this.byKind.keys()];
  }

  async runOnce(now: number): Promise<{ handled: number; more: boolean }> {
    if (this.kindNames.length === 0) return { handled: 0, more: false };
    const { jobs, workerId, batchSize, leaseMs } = this.o;
    const claimed = await jobs.claim({ workerId, kinds: this.kindNames, limit: batchSize, now, leaseMs });
    if (claimed.length === 0) return { handled: 0, more: false };
    const done: number[] = [];
    await Promise.all(
      claimed.map(async (job) => {
        if (await this.attempt(job)) done.push(job.id);
      }),
    );
    if (done.length) await jobs.complete({ workerId, ids: done, now: this.o.clock() });
    return { handled: claimed.length, more: claimed.length >= batchSize };
  }

  nextDueAt(): Promise<number | null> {
    return this.o.jobs.nextDueAt(this.kindNames);
  }

  /** Runs one attempt; true when it succeeded (completed with the others of its claim). */
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
      await jobs.fail({ workerId, id: job.id, error: message, retryAt, now: this.o.clock() });
      return false;
    }
  }
}
