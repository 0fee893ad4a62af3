/**
 * How the read APIs stay bounded on both adapters (issue #15: a read must never stall
 * ingest). Every read is an index seek that stops after a fixed number of rows:
 *
 * - an index that holds the whole filter gives `limit + 1` rows and stops;
 * - a filter the index does not hold (a contact search, an event name beside an email, an
 *   event status other than failed) is tested on at most scanBudget index rows per request. A page that ran out of budget
 *   holds fewer than `limit` items and a cursor at the last row it examined, so paging goes
 *   on from there: never a repeat or a gap, and the work of a sparse filter is spread over
 *   requests instead of one request walking a whole workspace;
 * - queued events are not in the email, messageId and event-name indexes (those are written
 *   by the worker, off the ingest path: see migrations/sqlite/0001_init.sql and 0005; on
 *   PostgreSQL only the event-name index is partial, migrations/postgres/0004). While the
 *   queue is short (at most queueScan rows) it is read whole; behind a deeper queue, filtered
 *   lists walk the time index under the budget, and a lookup by messageId goes through the
 *   dedup ledger, which knows the event of every messageId in the window. (So behind a deep
 *   queue, a queued event is not found by messageId once its ledger entry is gone: older than
 *   the window and purged, or its messageId accepted again; it is found again once processed.)
 *   Failed events have an index of their own (events_failed_by_time, both dialects).
 *
 * Figures measured on this machine (2 shared cores, 300,000 events, 32 MiB page cache):
 * one examined row costs 1.5–4 µs on SQLite (an index entry plus its table row), so
 * scanBudget = 1,000 and queueScan = 1,000 cost 2–4 ms each; a page of 1,000 events costs
 * 8–16 ms whatever index serves it. The queue of a worker that keeps up with single events
 * at full speed is ~500 rows (0.1 s of lag at ~5,000 events/s).
 *
 * SQLite reads stay on the HTTP thread (no reader thread): with every read bounded, the
 * thread is held for at most one page. Measured through SqliteStore on one workspace of
 * 300,000 events, 150,000 of them queued (medians of 15): GET by messageId 0.6–0.8 ms
 * (the writer-thread ledger lookup is awaited, not blocking), lists by email, by event
 * name, by both, and a contact search matching none of 20,000 contacts 2.4–3.6 ms, a page
 * of 1,000 events 8 ms. Before: GET 84–99 ms, ?event= 137 ms, ?email= 15 ms, the search
 * 24 ms. A reader thread would take the SQLite step off this thread but hand the rows back
 * by structured clone, itself ~5 ms for 1,000 events here: not worth a thread. The bench's
 * reads phase measures ingest beside reads (bench/run-bench.mjs).
 */
export interface ReadBounds {
  /** Rows a residual filter is tested on per request. */
  scanBudget: number;
  /** A queue at most this long is read whole by filtered reads. */
  queueScan: number;
}

export const DEFAULT_READ_BOUNDS: ReadBounds = { scanBudget: 1_000, queueScan: 1_000 };

/** GET /v1/contacts/properties returns at most this many names (first by name). */
export const MAX_PROPERTY_NAMES = 1_000;

/**
 * One way into the rows of a page: the matches it found, in page order, and where it
 * stopped early (the last row it examined), or null when it saw every row it could match.
 */
export interface Branch<T, K> {
  rows: T[];
  stop: K | null;
}

/**
 * Merges the branches of one page read. Past the earliest stop (in page order) some branch
 * knows nothing, so rows beyond it are left for the next page; up to it, every branch has
 * seen everything. `before(a, b)` is true when `a` comes first in page order.
 */
export function mergePage<T, K>(
  branches: Branch<T, K>[],
  keyOf: (row: T) => K,
  before: (a: K, b: K) => boolean,
  limit: number,
): { items: T[]; next: K | null } {
  let cut: K | null = null;
  for (const b of branches) if (b.stop !== null && (cut === null || before(b.stop, cut))) cut = b.stop;
  const rows: T[] = [];
  for (const b of branches) for (const r of b.rows) if (cut === null || !before(cut, keyOf(r))) rows.push(r);
  rows.sort((x, y) => (before(keyOf(x), keyOf(y)) ? -1 : before(keyOf(y), keyOf(x)) ? 1 : 0));
  if (rows.length > limit) return { items: rows.slice(0, limit), next: keyOf(rows[limit - 1]!) };
  return { items: rows, next: cut };
}

/**
 * A branch from a scan that examined rows in page order: `examined` of them, stopping at
 * `cap` examined rows or `want` matches, whichever came first. `last` is the last examined.
 */
export function scanBranch<T, K>(rows: T[], examined: number, last: K | null, cap: number, want: number): Branch<T, K> {
  return { rows, stop: examined >= cap || rows.length >= want ? last : null };
}

/** Receives every read statement an adapter runs, with its parameters (tests check their plans). */
export type ReadTrace = (sql: string, params: readonly unknown[]) => void;

/** Page order of events: newest event time first, then newest acceptance. */
export function eventBefore(a: { timestamp: number; seq: number }, b: { timestamp: number; seq: number }): boolean {
  return a.timestamp > b.timestamp || (a.timestamp === b.timestamp && a.seq > b.seq);
}

/**
 * The upper end of an event page as one (ts, id) bound, exclusive: the tighter of `until`
 * (ts < until is (ts, id) < (until, 0), ids being positive) and the cursor. One row-value
 * bound is one index range; with two, the index would start at one and filter to the other.
 */
export function eventUpperBound(q: { until?: number; after?: { timestamp: number; seq: number } }): [number, number] | null {
  let upper: [number, number] | null = q.until !== undefined ? [q.until, 0] : null;
  if (q.after) {
    const c: [number, number] = [q.after.timestamp, q.after.seq];
    if (upper === null || c[0] < upper[0] || (c[0] === upper[0] && c[1] < upper[1])) upper = c;
  }
  return upper;
}

/** Page order of contacts for a sort. */
export function contactBefore(desc: boolean): (a: { createdAt: number; id: string }, b: { createdAt: number; id: string }) => boolean {
  return desc
    ? (a, b) => a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id)
    : (a, b) => a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id);
}
