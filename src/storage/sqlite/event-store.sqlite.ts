import type Database from 'better-sqlite3';
import { StoreUnavailableError, type EventStore } from '../ports.js';
import { type AppendItem, type AppendOutcome } from '../../ingest/event-log.port.js';
import type { AppendRequest, AppendResult } from '../shared/append-request.js';
import { GroupCommit } from '../shared/group-commit.js';
import { sourceCode } from '../shared/source.js';
import type { EventPage, EventQuery, StoredEvent } from '../../events-read/event-reader.port.js';
import { DEFAULT_READ_BOUNDS, type ReadBounds, type ReadTrace } from '../read-bounds.js';
import { SqliteEventReads } from './event-reads.sqlite.js';
import { SqliteReads } from './reads.sqlite.js';
import { sqliteFailure } from './errors.sqlite.js';
import { SqliteDedupLedger } from './dedup-ledger.sqlite.js';
import { SyncMode } from './sync-mode.sqlite.js';
import { WalSyncer } from './wal-syncer.js';

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
  private readonly reads: SqliteEventReads;
  private lastAppendAt = 0;

  constructor(
    private readonly db: Database.Database,
    opts: { walPath?: string; readBounds?: ReadBounds; trace?: ReadTrace } = {},
  ) {
    this.sync = new SyncMode(db);
    this.syncer = opts.walPath ? new WalSyncer(opts.walPath) : null;
    // Merges into the ledger commit without an fsync of their own: a lost merge leaves
    // merged_upto behind, and the keys are rebuilt from the events table.
    this.ledger = new SqliteDedupLedger(db, (fn) => this.sync.unsynced(() => db.transaction(fn).immediate()));
    this.reads = new SqliteEventReads(new SqliteReads(db, opts.trace), opts.readBounds ?? DEFAULT_READ_BOUNDS);
    this.insert = db.prepare(`INSERT INTO events (workspace_id, message_id, event, email, properties, traits, ts, received_at, source, violations)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.commitGroup = db.transaction((group: AppendRequest[]) =>
      group.map((p) => {
        const cutoff = p.now - p.windowMs;
        return p.items.map((it): AppendOutcome => {
          if (!this.ledger.reserve(it.workspaceId, it.messageId, p.now, cutoff)) return 'duplicate';
          const info = this.insert.run(it.workspaceId, it.messageId, it.event, it.email, it.properties, it.traits, it.timestamp, p.now, sourceCode(it.source), it.violations ?? null);
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
    return this.reads.get(workspaceId, messageId, async (ws, id) => this.ledger.recentEventId(ws, id));
  }

  /** As get(), with the ledger's in-memory keys held elsewhere (the writer thread's, for the main thread's reader). */
  getWith(workspaceId: string, messageId: string, recentEventId: (ws: string, id: string) => Promise<number | null>): Promise<StoredEvent | null> {
    return this.reads.get(workspaceId, messageId, recentEventId);
  }

  /** The event id the in-memory ledger holds for a messageId (asked of the writer thread by reads). */
  async recentEventId(workspaceId: string, messageId: string): Promise<number | null> {
    return this.ledger.recentEventId(workspaceId, messageId);
  }

  async list(q: EventQuery): Promise<EventPage> {
    return this.reads.list(q);
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
