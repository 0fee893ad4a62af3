/**
 * The job queue port: durable background jobs and timers (the `jobs` table), shared by every
 * worker of every process. A job runs when its `runAt` is due; a worker leases it, runs it,
 * then completes it or fails it (retried at `retryAt`, or dead for good). A lease that
 * expires (a worker killed mid-job) makes the job claimable again, so a job runs at least
 * once; handlers make their effects idempotent (stable ids), and `key` makes an enqueue
 * happen at most once per (kind, key), which is what keeps runs and timers exactly-once.
 */

export interface JobInput {
  kind: string;
  /** Idempotency key: a second enqueue of the same (kind, key) is a no-op, whatever the first's state. */
  key?: string;
  /** JSON-serialisable data of the job. */
  payload: unknown;
  /** Unix ms when the job becomes due. */
  runAt: number;
  /** Attempts before the job is dead (default 5). */
  maxAttempts?: number;
}

export interface EnqueueResult {
  id: number;
  /** False when a job with this (kind, key) already existed (it is left as it was). */
  created: boolean;
}

export type JobStatus = 'queued' | 'done' | 'dead';

export interface Job {
  id: number;
  kind: string;
  key: string | null;
  payload: unknown;
  status: JobStatus;
  runAt: number;
  /** Attempts made so far (a claimed job: the ones before this one). */
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  createdAt: number;
  finishedAt: number | null;
}

export interface JobKindStats {
  kind: string;
  /** Queued jobs, due or not (leased ones included). */
  queued: number;
  /** Queued jobs whose runAt has passed. */
  due: number;
  /** runAt of the oldest due job, or null: `now - oldestDueAt` is the kind's lag. */
  oldestDueAt: number | null;
  dead: number;
}

export interface JobQueue {
  /** Adds jobs (durably: on disk when it resolves); results in input order. */
  enqueue(jobs: JobInput[], now: number): Promise<EnqueueResult[]>;
  /**
   * Leases up to `limit` due jobs of `kinds` to `workerId` until `now + leaseMs`, oldest
   * runAt first. Two workers never hold one job at once (PostgreSQL: FOR UPDATE SKIP LOCKED).
   */
  claim(input: { workerId: string; kinds: string[]; limit: number; now: number; leaseMs: number }): Promise<Job[]>;
  /** Marks jobs done, if still leased to `workerId` (a job whose lease was lost is left to its new owner). */
  complete(input: { workerId: string; ids: number[]; now: number }): Promise<void>;
  /** Records a failed attempt: queued again at `retryAt`, or dead for good when `retryAt` is null. */
  fail(input: { workerId: string; id: number; error: string; retryAt: number | null; now: number }): Promise<void>;
  /** Makes a dead job queued again, due now, with its attempts reset. Returns false if it is not dead. */
  retry(id: number, now: number): Promise<boolean>;
  get(id: number): Promise<Job | null>;
  /** Dead jobs, newest first (bounded by `limit`). */
  listDead(input: { kind?: string; limit: number }): Promise<Job[]>;
  /** Per-kind figures for metrics (kinds with no queued or dead job are absent). */
  stats(now: number): Promise<JobKindStats[]>;
  /** The earliest runAt of a queued, unleased job of `kinds`, or null: when a worker needs to look again. */
  nextDueAt(kinds: string[]): Promise<number | null>;
  /** Deletes done jobs finished at or before `cutoff`; returns how many. */
  purgeDone(cutoff: number): Promise<number>;
}
