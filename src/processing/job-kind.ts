/**
 * What a module registers to have background work done: a job kind and its handler. Runs,
 * steps and timers of later modules are job kinds; the contact merge of accepted events is
 * the first (contacts/apply-events.job.ts), fed by the event log instead of the jobs table.
 */
import type { Logger } from 'pino';
import type { EnqueueResult, Job, JobInput } from './job-queue.port.js';

/** A failure that retrying cannot fix: the job is dead at once (BullMQ's UnrecoverableError). */
export class PermanentJobError extends Error {
  override readonly name: string = 'PermanentJobError';
}

export interface JobContext {
  /** The worker's clock at the start of this attempt. */
  now: number;
  log: Logger;
  /** Enqueues follow-up jobs (idempotent per (kind, key)). */
  enqueue(jobs: JobInput[]): Promise<EnqueueResult[]>;
}

export interface JobKind {
  readonly kind: string;
  /** Base of the exponential retry backoff (default: WORKER_RETRY_BASE_MS). */
  readonly retryBaseMs?: number;
  /**
   * Claimed before the other kinds, in slots of its own (PRIORITY_SLOTS): the pipeline after
   * the merge is what starts runs, so a full house of webhook attempts must not queue it.
   */
  readonly priority?: boolean;
  /** Runs one attempt. Throw to fail it (retried with backoff), PermanentJobError to kill it. */
  run(job: Job, ctx: JobContext): Promise<void>;
}

/** What the worker reports as it goes (implemented by processing-metrics.ts). */
export interface ProcessingObserver {
  /** Items of a kind finished successfully (events merged, jobs completed). */
  completed(kind: string, n: number): void;
  /** Attempts started. */
  attempted(kind: string, n: number): void;
  /** A failed attempt: retried later, or failed for good. */
  failed(kind: string, outcome: 'retry' | 'failed', n: number): void;
  /** A stage after the merge (stages.ts) handled `events` in `seconds` (the cost of segments, workflows per event). */
  stageRan?(stage: string, events: number, seconds: number): void;
}

export const NO_OBSERVER: ProcessingObserver = { completed() {}, attempted() {}, failed() {} };

/** One source of work the worker loop polls: the event log's merge, or the jobs table. */
export interface WorkSource {
  readonly name: string;
  /** One claim-and-run cycle. `more`: a full claim came back, so a backlog is likely. */
  runOnce(now: number): Promise<{ handled: number; more: boolean }>;
  /** When this source next has work to look at, if it knows (timers); null: poll as usual. */
  nextDueAt?(now: number): Promise<number | null>;
  /** Resolves when the work this source started has finished (sources that run work in the background). */
  idle?(): Promise<void>;
  /**
   * The worker hands a source its wake-up: a source that runs work in the background calls
   * it when that work may have made more due (a job finished: a slot is free, and its next
   * step or delivery is queued), so the worker claims again at once instead of after its poll.
   */
  setWake?(wake: () => void): void;
}
