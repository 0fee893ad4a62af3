import type { EventCursor, EventPage, EventQuery, StoredEvent } from '../../events-read/event-reader.port.js';
import { type Branch, type ReadBounds, eventBefore, eventUpperBound, mergePage, scanBranch } from '../read-bounds.js';
import { EVENT_COLUMNS, statusCode, toStoredEvent, type EventRow } from '../rows.js';
import { EVENT_STATUS } from '../shared/status.js';
import { SqliteDedupLedger } from './dedup-ledger.sqlite.js';
import type { SqliteReads } from './reads.sqlite.js';

/** The newest `?` queued ids, through the queue index (only queued rows are in it). */
const QUEUE_IDS = `SELECT id FROM events INDEXED BY events_queue WHERE status = ${EVENT_STATUS.queued} ORDER BY id DESC LIMIT ?`;

const key = (e: { timestamp: number; seq: number }): EventCursor => ({ timestamp: e.timestamp, seq: e.seq });

/**
 * GET /v1/events/:messageId and GET /v1/events on SQLite, each an index seek bounded by its
 * limit (read-bounds.ts). Queued events are only in the time and queue indexes: the email,
 * messageId and event-name indexes are partial (status <> 0) and written by the worker, so
 * an append writes two indexes (migrations 0001, 0005). Every statement names its index:
 * the planner otherwise took events_by_time for "workspace_id = ? AND status = 0", which
 * walks a whole workspace (measured: 90–110 ms on the HTTP thread per read over 300,000
 * events). A `+` before a column keeps the planner off its index where the rows come from a bounded id list.
 */
export class SqliteEventReads {
  constructor(
    private readonly reads: SqliteReads,
    private readonly bounds: ReadBounds,
  ) {}

  /** Queued rows up to queueScan + 1 (an index-only count of at most that many entries). */
  private queueDepth(): number {
    return this.reads.get<{ n: number }>(`SELECT count(*) AS n FROM (SELECT 1 FROM events INDEXED BY events_queue WHERE status = ${EVENT_STATUS.queued} LIMIT ?)`, [
      this.bounds.queueScan + 1,
    ])!.n;
  }

  /**
   * Newest event with this messageId. Processed and failed ones through events_by_message;
   * a queued one by reading a short queue whole, or behind a deep queue through the dedup
   * ledger, which names the event of every messageId accepted within the window:
   * `recentEventId` asks the writer thread for keys it holds in memory, then the B-tree is
   * read here. A queued event older than the window (its entry purged) is found once
   * processed.
   */
  async get(workspaceId: string, messageId: string, recentEventId: (ws: string, id: string) => Promise<number | null>): Promise<StoredEvent | null> {
    const first = this.reads.snapshot(() => {
      const processed = this.reads.get<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events INDEXED BY events_by_message
         WHERE workspace_id = ? AND message_id = ? AND status <> ${EVENT_STATUS.queued} ORDER BY id DESC LIMIT 1`,
        [workspaceId, messageId],
      );
      if (this.queueDepth() > this.bounds.queueScan) return { processed, queued: undefined, deep: true };
      const queued = this.reads.get<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE id IN (${QUEUE_IDS}) AND +workspace_id = ? AND +message_id = ?
         ORDER BY id DESC LIMIT 1`,
        [this.bounds.queueScan + 1, workspaceId, messageId],
      );
      return { processed, queued, deep: false };
    });
    let queued = first.queued;
    if (first.deep) {
      const id = (await recentEventId(workspaceId, messageId)) ?? this.storedEventId(workspaceId, messageId);
      if (id !== null) {
        // Any status: processed since the first read, it is still the one the ledger names.
        queued = this.reads.get<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ? AND workspace_id = ? AND message_id = ?`, [
          id,
          workspaceId,
          messageId,
        ]);
      }
    }
    const p = first.processed;
    const best = p && queued ? (p.id > queued.id ? p : queued) : (p ?? queued);
    return best ? toStoredEvent(best) : null;
  }

  /** The event the ledger's B-tree (or its collision table) names for a messageId. */
  private storedEventId(workspaceId: string, messageId: string): number | null {
    const [h, h2] = SqliteDedupLedger.key(workspaceId, messageId);
    const r = this.reads.get<{ event_id: number | null }>('SELECT event_id FROM dedup WHERE h = ? AND h2 = ?', [h, h2]);
    if (r) return r.event_id;
    const c = this.reads.get<{ event_id: number | null }>('SELECT event_id FROM dedup_collisions WHERE workspace_id = ? AND message_id = ?', [
      workspaceId,
      messageId,
    ]);
    return c?.event_id ?? null;
  }

  /**
   * One page, newest first. Which index serves it:
   * - no filter: events_by_time (every row), `status` tested under the scan budget (queued
   *   rows are mostly the newest, processed ones most of the rest);
   * - status=failed: events_failed_by_time (failed rows only, rare), email and event tested
   *   under the budget;
   * - email or event: processed and failed rows through events_by_email / events_by_event
   *   (an event name beside an email tested under the budget), plus the queued rows: a short
   *   queue read whole, or, behind a deep one, the time index walked under the budget.
   */
  list(q: EventQuery): EventPage {
    const want = q.limit + 1;
    const window = timeWindow(q);
    const status = q.status === undefined ? null : statusCode(q.status);
    const filters: string[] = [];
    const filterArgs: unknown[] = [];
    if (q.email !== undefined) {
      filters.push('email = ?');
      filterArgs.push(q.email);
    }
    if (q.event !== undefined) {
      filters.push('event = ?');
      filterArgs.push(q.event);
    }
    const byTime = 'events INDEXED BY events_by_time';
    const timeConds = ['workspace_id = ?', ...window.sql];
    const timeArgs = [q.workspaceId, ...window.args];
    const and = (xs: string[]) => `(${xs.join(' AND ')})`;

    const branches = this.reads.snapshot((): Branch<StoredEvent, EventCursor>[] => {
      if (status === EVENT_STATUS.failed) {
        const from = 'events INDEXED BY events_failed_by_time';
        const conds = ['workspace_id = ?', `status = ${EVENT_STATUS.failed}`, ...window.sql];
        return [filters.length === 0 ? this.exact(from, conds, timeArgs, want) : this.budgeted(from, conds, timeArgs, and(filters), filterArgs, want)];
      }
      if (filters.length === 0) {
        if (status === null) return [this.exact(byTime, timeConds, timeArgs, want)];
        if (status === EVENT_STATUS.queued && this.queueDepth() <= this.bounds.queueScan) {
          return [this.exact('events', [`id IN (${QUEUE_IDS})`, '+workspace_id = ?', ...window.sql], [this.bounds.queueScan + 1, ...timeArgs], want)];
        }
        return [this.budgeted(byTime, timeConds, timeArgs, `status = ${status}`, [], want)];
      }
      const out: Branch<StoredEvent, EventCursor>[] = [];
      if (status !== EVENT_STATUS.queued) {
        // Processed and failed through the email (or event-name) index; what the index does
        // not hold (an event name beside an email, status=processed) is tested under the budget.
        const index = q.email !== undefined ? 'events_by_email' : 'events_by_event';
        const from = `events INDEXED BY ${index}`;
        const conds = ['workspace_id = ?', q.email !== undefined ? 'email = ?' : 'event = ?', `status <> ${EVENT_STATUS.queued}`, ...window.sql];
        const args = [q.workspaceId, q.email ?? q.event, ...window.args];
        const residual: string[] = [];
        const residualArgs: unknown[] = [];
        if (q.email !== undefined && q.event !== undefined) {
          residual.push('event = ?');
          residualArgs.push(q.event);
        }
        if (status === EVENT_STATUS.processed) residual.push(`status = ${EVENT_STATUS.processed}`);
        out.push(residual.length === 0 ? this.exact(from, conds, args, want) : this.budgeted(from, conds, args, and(residual), residualArgs, want));
      }
      if (status !== EVENT_STATUS.processed) {
        if (this.queueDepth() <= this.bounds.queueScan) {
          // A short queue, read whole: at most queueScan + 1 rows, by id.
          out.push(
            this.exact(
              'events',
              [`id IN (${QUEUE_IDS})`, '+workspace_id = ?', ...filters.map((f) => `+${f}`), ...window.sql],
              [this.bounds.queueScan + 1, q.workspaceId, ...filterArgs, ...window.args],
              want,
            ),
          );
        } else {
          // Behind a deep queue: the time index holds every row; the filters (and the queued
          // status) are tested on at most scanBudget of them, and the page ends where it stopped.
          out.push(this.budgeted(byTime, timeConds, timeArgs, and([...filters, `status = ${EVENT_STATUS.queued}`]), filterArgs, want));
        }
      }
      return out;
    });
    return mergePage(branches, key, eventBefore, q.limit);
  }

  /** Every row of `from` matching `conds`, newest first, up to `want`. */
  private exact(from: string, conds: string[], args: unknown[], want: number): Branch<StoredEvent, EventCursor> {
    const rows = this.reads.all<EventRow>(`SELECT ${EVENT_COLUMNS} FROM ${from} WHERE ${conds.join(' AND ')} ORDER BY ts DESC, id DESC LIMIT ?`, [
      ...args,
      want,
    ]);
    const events = rows.map(toStoredEvent);
    return { rows: events, stop: events.length >= want ? key(events[events.length - 1]!) : null };
  }

  /**
   * Rows of `from` matching `conds`, newest first, tested on `hit` one by one: at most
   * scanBudget rows, until `want` hits. Only ids and times are read while scanning; the hits'
   * rows are fetched by id after.
   */
  private budgeted(from: string, conds: string[], args: unknown[], hit: string, hitArgs: unknown[], want: number): Branch<StoredEvent, EventCursor> {
    const budget = this.bounds.scanBudget;
    const ids: number[] = [];
    let examined = 0;
    let last: EventCursor | null = null;
    for (const r of this.reads.iterate<{ id: number; ts: number; hit: number }>(
      `SELECT id, ts, ${hit} AS hit FROM ${from} WHERE ${conds.join(' AND ')} ORDER BY ts DESC, id DESC LIMIT ?`,
      [...hitArgs, ...args, budget],
    )) {
      examined++;
      last = { timestamp: r.ts, seq: r.id };
      if (r.hit && ids.push(r.id) >= want) break;
    }
    return scanBranch(this.byIds(ids), examined, last, budget, want);
  }

  /** Rows by id, in the order of `ids`. */
  private byIds(ids: number[]): StoredEvent[] {
    if (ids.length === 0) return [];
    const rows = this.reads.all<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE id IN (SELECT value FROM json_each(?))`, [JSON.stringify(ids)]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.flatMap((id) => {
      const r = byId.get(id);
      return r ? [toStoredEvent(r)] : []; // erased since the scan
    });
  }
}

/** since, and one upper (ts, id) bound (read-bounds.ts: eventUpperBound). */
function timeWindow(q: EventQuery): { sql: string[]; args: unknown[] } {
  const sql: string[] = [];
  const args: unknown[] = [];
  if (q.since !== undefined) {
    sql.push('ts >= ?');
    args.push(q.since);
  }
  const upper = eventUpperBound(q);
  if (upper) {
    sql.push('(ts, id) < (?, ?)');
    args.push(upper[0], upper[1]);
  }
  return { sql, args };
}
