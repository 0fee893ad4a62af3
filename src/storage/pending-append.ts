import type { AppendItem, AppendOutcome } from '../ingest/event-log.port.js';

/** One request's append waiting for a group commit (SQLite writer, SQLite main thread, PostgreSQL). */
export interface PendingAppend {
  items: AppendItem[];
  now: number;
  windowMs: number;
  resolve: (o: AppendOutcome[]) => void;
  reject: (e: unknown) => void;
}
