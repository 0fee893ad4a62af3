/** The `jobs` table's row and its mapping, shared by both adapters. */
import type { Job, JobStatus } from '../../processing/job-queue.port.js';

/** status column values. */
export const JOB_STATUS = { queued: 0, done: 1, dead: 2 } as const;

const STATUS_NAMES: Record<number, JobStatus> = { 0: 'queued', 1: 'done', 2: 'dead' };

export const DEFAULT_MAX_ATTEMPTS = 5;

/** Cap on the stored text of a job's last error. */
export const MAX_ERROR_CHARS = 2000;

export const JOB_COLUMNS = 'id, kind, key, payload, status, run_at, attempts, max_attempts, last_error, created_at, finished_at';

export interface JobRow {
  id: number;
  kind: string;
  key: string | null;
  payload: string;
  status: number;
  run_at: number;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  created_at: number;
  finished_at: number | null;
}

export function toJob(r: JobRow): Job {
  return {
    id: Number(r.id),
    kind: r.kind,
    key: r.key,
    payload: JSON.parse(r.payload) as unknown,
    status: STATUS_NAMES[r.status] ?? 'queued',
    runAt: Number(r.run_at),
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    lastError: r.last_error,
    createdAt: Number(r.created_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  };
}

export function clipError(error: string): string {
  return error.length > MAX_ERROR_CHARS ? `${error.slice(0, MAX_ERROR_CHARS)}…` : error;
}

/**
 * The jobs row of QueueStore.applyBatch's `followUp`: the seqs one merge commit marked
 * processed, keyed by the lowest (each seq is marked processed once, so the key is unique).
 */
export function followUpRow(kind: string, maxAttempts: number, seqs: number[], now: number): { kind: string; key: string; payload: string; runAt: number; maxAttempts: number } | null {
  if (seqs.length === 0) return null;
  const sorted = [...seqs].sort((a, b) => a - b);
  return { kind, key: `merge:${sorted[0]}`, payload: JSON.stringify({ seqs: sorted }), runAt: now, maxAttempts };
}
