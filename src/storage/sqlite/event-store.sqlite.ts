import type Database from 'better-sqlite3';
import { StoreUnavailableError, type EventStore } from '../ports.js';
import { type AppendItem, type AppendOutcome } from '../../ingest/event-log.port.js';
import type { AppendRequest, AppendResult } from '../shared/append-request.js';
import { GroupCommit } from '../shared/group-commit.js';
import { type EventQuery, type StoredEvent } from '../../events-read/event-reader.port.js';
import { EVENT_COLUMNS, statusCode, toStoredEvent, type EventRow } from '../rows.js';
import { sqliteFailure } from './errors.sqlite.js';
import { SqliteDedupLedger } from './dedup-ledger.sqlite.js';
import { SyncMode } from './sync-mode.sqlite.js';
import { WalSyncer } from './wal-syncer.js';
import { EVENT_STATUS } from '../shared/status.js';

/**
 * Group commit: every append that arrives while the event loop is busy joins one
 * transaction, committed on the next turn. One fsync then covers many requests instead of
 * one each. On a file database the fsync runs off this thread (WalSyncer) and the appends
 * are answered when it completes; meanwhile the next group commits. In memory (tests),
 * the commit is the answer.
 */
export class SqliteEventStore implements EventStore {
  private readonly appends = new GroupCommit<AppendRequest, AppendResult>((group) => this.commit(group));
  private readonly insert: Database.Statement;
  private readonly commitGroup: Database.Transaction<(group: AppendRequest[]) => AppendResult[]>;
  private readonly sync: SyncMode;
  private readonly syncer: WalSyncer | null;
  readonly ledger: SqliteDedupLedger;
  private lastAppendAt = 0;

  constructor(
    private readonly db: Database.Database,
    opts: { walPath?: string } = {},
  ) {
    this.sync = new SyncMode(db);
    this.syncer = opts.walPath ? new WalSyncer(opts.walPath) : null;
    // Merges into the ledger commit without an fsync of their own: a lost merge leaves
    // merged_upto behind, and the keys are rebuilt from the events table.
    this.ledger = new SqliteDedupLedger(db, (fn) => this.sync.unsynced(() => db.transaction(fn).immediate()));
    this.insert = db.prepare(`INSERT INTO events (workspace_id, message_id, event, email, properties, traits, ts, received_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    this.commitGroup = db.transaction((group: AppendRequest[]) =>
      group.map((p) => {
        const cutoff = p.now - p.windowMs;
        return p.items.map((it): AppendOutcome => {
          if (!this.ledger.reserve(it.workspaceId, it.messageId, p.now, cutoff)) return 'duplicate';
          const info = this.insert.run(it.workspaceId, it.messageId, it.event, it.email, it.properties, it.traits, it.timestamp, p.now);
          this.ledger.inserted(Number(info.lastInsertRowid));
          return 'accepted';
        });
      }),
    );
  }

  append(items: AppendItem[], now: number, dedupWindowMs: number): Promise<AppendOutcome[]> {
    return this.appends.submit({ items, now, windowMs: dedupWindowMs });
  }

  /**
   * Several requests' appends (the main thread batches them per tick). They join whatever
   * else is pending and commit on the next turn of this thread's loop, so messages that
   * queued up while the previous commit was fsyncing share one transaction: small commits
   * cost ~100 µs of WAL writing each, measured, against ~10 µs per event inside a large one.
   */
  appendMany(groups: AppendRequest[]): Promise<AppendResult[]> {
    return Promise.all(groups.map((g) => this.appends.submit(g)));
  }

  /** Commits everything pending now. Also called on shutdown. */
  flush(): void {
    this.appends.flush();
  }

  /**
   * One group in one transaction. The results are the answer at once in memory; on a file
   * they are answered once the WAL sync that follows the commit completes.
   */
  private commit(group: AppendRequest[]): AppendResult[] | Promise<AppendResult[]> {
    let results: AppendResult[];
    try {
      this.ledger.begin();
      results = this.syncer ? this.sync.unsynced(() => this.commitGroup.immediate(group)) : this.commitGroup.immediate(group);
      this.lastAppendAt = Date.now();
      this.ledger.commit(this.lastAppendAt);
    } catch (err) {
      this.ledger.rollback();
      throw sqliteFailure(err);
    }
    const syncer = this.syncer;
    if (!syncer) return results;
    return new Promise((resolve, reject) =>
      syncer.afterCommit((err) => {
        // Committed but maybe not on disk: the client is told to retry, and dedup keeps it single.
        if (err) reject(new StoreUnavailableError(`could not sync the write-ahead log: ${err.message}`, { cause: err, writeRefused: true }));
        else resolve(results);
      }),
    );
  }

  /** Resolves when every committed append has been synced and answered (before closing). */
  async drain(): Promise<void> {
    this.flush();
    try {
      this.ledger.mergeAll();
    } catch {
      // Closing anyway: the keys are rebuilt from the events table at the next start.
    }
    while (this.syncer?.busy()) await new Promise((r) => setTimeout(r, 1));
  }

  closeSyncer(): void {
    this.syncer?.close();
  }

  async get(workspaceId: string, messageId: string): Promise<StoredEvent | null> {
    // Processed and failed events through the partial index; queued ones through the queue.
    const r = this.db
      .prepare(
        `SELECT ${EVENT_COLUMNS} FROM (
           SELECT ${EVENT_COLUMNS} FROM events WHERE workspace_id = ? AND message_id = ? AND status <> ${EVENT_STATUS.queued}
           UNION ALL
           SELECT ${EVENT_COLUMNS} FROM events WHERE status = ${EVENT_STATUS.queued} AND workspace_id = ? AND message_id = ?)
         ORDER BY id DESC LIMIT 1`,
      )
      .get(workspaceId, messageId, workspaceId, messageId) as EventRow | undefined;
    return r ? toStoredEvent(r) : null;
  }

  async list(q: EventQuery): Promise<StoredEvent[]> {
    // The status filter is a literal, not a parameter: SQLite uses a partial index only when
    // it can prove the query's WHERE implies the index's. With an email, `status <> 0` kept
    // verbatim selects events_by_email. Without one, queued and processed rows are found
    // walking events_by_time newest first (the newest rows are mostly queued in a backlog,
    // mostly processed otherwise); failed rows are rare, so they are read from events_failed
    // and sorted (`+workspace_id` keeps the planner off events_by_time, which would walk the
    // whole workspace to find a few).
    const status = q.status === undefined ? null : statusCode(q.status);
    const where = [status === 2 && q.email === undefined ? '+workspace_id = ?' : 'workspace_id = ?'];
    const args: unknown[] = [q.workspaceId];
    if (q.email !== undefined) {
      where.push('email = ?');
      args.push(q.email);
    }
    if (q.event !== undefined) {
      where.push('event = ?');
      args.push(q.event);
    }
    if (q.since !== undefined) {
      where.push('ts >= ?');
      args.push(q.since);
    }
    if (q.until !== undefined) {
      where.push('ts < ?');
      args.push(q.until);
    }
    if (q.after) {
      // Keyset paging on (ts desc, id desc): never repeats or skips, even among equal timestamps.
      where.push('(ts < ? OR (ts = ? AND id < ?))');
      args.push(q.after.timestamp, q.after.timestamp, q.after.seq);
    }
    args.push(q.limit);
    const cond = where.join(' AND ');
    // With an email, the email index holds only processed/failed rows: add the queued ones.
    const sql =
      q.email !== undefined && status === null
        ? `SELECT ${EVENT_COLUMNS} FROM (
             SELECT ${EVENT_COLUMNS} FROM events WHERE ${cond} AND status <> ${EVENT_STATUS.queued}
             UNION ALL
             SELECT ${EVENT_COLUMNS} FROM events WHERE status = ${EVENT_STATUS.queued} AND ${cond})
           ORDER BY ts DESC, id DESC LIMIT ?`
        : q.email !== undefined && status !== 0
          ? `SELECT ${EVENT_COLUMNS} FROM events WHERE ${cond} AND status <> 0 AND status = ${status} ORDER BY ts DESC, id DESC LIMIT ?`
          : status !== null
            ? `SELECT ${EVENT_COLUMNS} FROM events WHERE status = ${status} AND ${cond} ORDER BY ts DESC, id DESC LIMIT ?`
            : `SELECT ${EVENT_COLUMNS} FROM events WHERE ${cond} ORDER BY ts DESC, id DESC LIMIT ?`;
    const limit = args.pop();
    const all = q.email !== undefined && status === null ? [...args, ...args, limit] : [...args, limit];
    const rows = this.db.prepare(sql).all(...all) as EventRow[];
    return rows.map(toStoredEvent);
  }

  async firstAcceptedAt(workspaceId: string, messageId: string): Promise<number | null> {
    return this.ledger.acceptedAt(workspaceId, messageId);
  }

  async purgeDedup(cutoff: number): Promise<number> {
    try {
      // Keys still in memory go to the B-tree first, so one DELETE sees every entry.
      this.ledger.mergeAll();
      return (
        this.db.prepare('DELETE FROM dedup WHERE accepted_at <= ?').run(cutoff).changes +
        this.db.prepare('DELETE FROM dedup_collisions WHERE accepted_at <= ?').run(cutoff).changes
      );
    } catch (err) {
      throw sqliteFailure(err);
    }
  }
}

export { StoreUnavailableError };
