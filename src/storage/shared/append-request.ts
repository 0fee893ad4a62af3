import type { AppendItem, AppendOutcome } from '../../ingest/event-log.port.js';

/**
 * One request's append as it waits in a group commit (GroupCommit<AppendRequest, AppendOutcome[]>):
 * on the SQLite main thread, in the message to the writer thread, on the writer thread, and in PostgreSQL.
 */
export interface AppendRequest {
  items: AppendItem[];
  now: number;
  windowMs: number;
}

export type AppendResult = AppendOutcome[];
