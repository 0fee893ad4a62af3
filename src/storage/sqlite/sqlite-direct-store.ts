import Database from 'better-sqlite3';
import type { Store, StoreCapabilities } from '../ports.js';
import type { ReadBounds, ReadTrace } from '../read-bounds.js';
import { SqliteContactStore, SqliteContactWriter } from './contact-store.sqlite.js';
import { backfillLedgerEventIds } from './dedup-ledger.sqlite.js';
import { SqliteEventStore } from './event-store.sqlite.js';
import { SqliteIdentityStore } from './identity-store.sqlite.js';
import { SqliteJobQueue } from './job-queue.sqlite.js';
import { SqliteKeyStore } from './key-store.sqlite.js';
import { SqliteUserStore } from './user-store.sqlite.js';
import { SqliteActivityStore } from './activity-store.sqlite.js';
import { SqliteCatalogStore } from './catalog-store.sqlite.js';
import { SqliteTrackingPlanStore } from './tracking-plan-store.sqlite.js';
import { migrateSqlite } from './migrate.sqlite.js';
import { SqliteQueueStore } from './queue-store.sqlite.js';
import { SqliteSegmentStore } from './segment-store.sqlite.js';
import { sqliteFailure } from './errors.sqlite.js';
import { prepareStorePath } from './store-path.sqlite.js';
import { SyncMode } from './sync-mode.sqlite.js';
import { SqliteWorkspaceSecretStore } from './workspace-secrets.sqlite.js';
import { SqliteDeliveryStore, SqliteWorkflowStore } from './workflow-store.sqlite.js';

export interface SqliteStoreOptions {
  /** Milliseconds a writer waits for another process's write lock before failing (503). */
  busyTimeoutMs?: number;
  /** A connection that only reads (the main thread's, beside the writer thread's). */
  readOnly?: boolean;
  /**
   * WAL pages before this connection checkpoints inside its own commit. The writer thread
   * sets it high (a checkpoint thread does the work); SQLite's default is 1,000.
   */
  autoCheckpointPages?: number;
  /** Bounds of the read APIs (read-bounds.ts; tests make them small). */
  readBounds?: ReadBounds;
  /** Receives every read statement (tests EXPLAIN them). */
  trace?: ReadTrace;
}

/**
 * The embedded store on one connection: every read and write on the calling thread. It runs
 * inside the writer thread (see sqlite-store.ts), where one connection serialises all writes;
 * better-sqlite3 is synchronous, so every transaction runs whole without interleaving.
 */
export class SqliteDirectStore implements Store {
  readonly capabilities: StoreCapabilities = { multiProcess: false, dialect: 'sqlite' };
  private readonly db: Database.Database;
  // Sub-stores prepare their statements on creation, so they are made on first use (after migrate()).
  private _keys?: SqliteKeyStore;
  private _events?: SqliteEventStore;
  private _queue?: SqliteQueueStore;
  private _contacts?: SqliteContactStore;
  private _contactWriter?: SqliteContactWriter;
  private _jobs?: SqliteJobQueue;
  private _secrets?: SqliteWorkspaceSecretStore;
  private _identity?: SqliteIdentityStore;
  private _workflows?: SqliteWorkflowStore;
  private _deliveries?: SqliteDeliveryStore;
  private _segments?: SqliteSegmentStore;
  private _users?: SqliteUserStore;
  private _activity?: SqliteActivityStore;
  private _catalog?: SqliteCatalogStore;
  private _trackingPlans?: SqliteTrackingPlanStore;
  private closed = false;
  private sync?: SyncMode;
  private readonly walPath: string | null;
  private readonly reading: { readBounds?: ReadBounds; trace?: ReadTrace };

  constructor(readonly path: string, opts: SqliteStoreOptions = {}) {
    this.reading = { ...(opts.readBounds ? { readBounds: opts.readBounds } : {}), ...(opts.trace ? { trace: opts.trace } : {}) };
    if (!opts.readOnly) prepareStorePath(path, { create: true }); // its directory, made safely
    this.walPath = path === ':memory:' || opts.readOnly ? null : `${path}-wal`;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: the WAL is fsynced at every commit, so a 200 means "on disk", not "in the page cache".
    this.db.pragma('synchronous = FULL');
    this.db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    // Bounded page cache (32 MiB): memory must not grow with stored volume.
    this.db.pragma('cache_size = -32768');
    if (opts.readOnly) this.db.pragma('query_only = ON');
    if (opts.autoCheckpointPages !== undefined) this.db.pragma(`wal_autocheckpoint = ${opts.autoCheckpointPages}`);
  }

  get keys(): SqliteKeyStore {
    return (this._keys ??= new SqliteKeyStore(this.db));
  }

  get events(): SqliteEventStore {
    // A file database syncs its appends off the writer's thread (wal-syncer.ts).
    return (this._events ??= new SqliteEventStore(this.db, { ...this.reading, ...(this.walPath ? { walPath: this.walPath } : {}) }));
  }

  get queue(): SqliteQueueStore {
    return (this._queue ??= new SqliteQueueStore(this.db, this.contactWriter));
  }

  get contacts(): SqliteContactStore {
    return (this._contacts ??= new SqliteContactStore(this.db, () => this.events.ledger.mergeAll(), this.contactWriter, this.reading));
  }

  get jobs(): SqliteJobQueue {
    return (this._jobs ??= new SqliteJobQueue(this.db));
  }

  get secrets(): SqliteWorkspaceSecretStore {
    return (this._secrets ??= new SqliteWorkspaceSecretStore(this.db));
  }

  get identity(): SqliteIdentityStore {
    return (this._identity ??= new SqliteIdentityStore(this.db));
  }

  get workflows(): SqliteWorkflowStore {
    return (this._workflows ??= new SqliteWorkflowStore(this.db));
  }

  get deliveries(): SqliteDeliveryStore {
    return (this._deliveries ??= new SqliteDeliveryStore(this.db));
  }

  get segments(): SqliteSegmentStore {
    return (this._segments ??= new SqliteSegmentStore(this.db));
  }

  get users(): SqliteUserStore {
    return (this._users ??= new SqliteUserStore(this.db));
  }

  get activity(): SqliteActivityStore {
    return (this._activity ??= new SqliteActivityStore(this.db));
  }

  get catalog(): SqliteCatalogStore {
    return (this._catalog ??= new SqliteCatalogStore(this.db));
  }

  get trackingPlans(): SqliteTrackingPlanStore {
    return (this._trackingPlans ??= new SqliteTrackingPlanStore(this.db));
  }

  private get contactWriter(): SqliteContactWriter {
    return (this._contactWriter ??= new SqliteContactWriter(this.db));
  }

  async migrate(): Promise<{ applied: string[] }> {
    const applied = await migrateSqlite(this.db, Date.now());
    // 0005 gave ledger entries the id of their event: name it for events already queued.
    if (applied.includes('0007_bounded_reads.sql')) backfillLedgerEventIds(this.db);
    return { applied };
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  /**
   * Runs unsynced writes (the processing engine's: claims, completions, run and membership
   * writes) in one transaction: each op's own transaction becomes a savepoint in it, so an
   * op that fails rolls back alone, and the batch costs one commit instead of one each (a
   * commit writes every page the op touched to the WAL; it was ~30-40% of the writer thread
   * with workflows or segments active). Each op must do its database work synchronously
   * (better-sqlite3 is); the results are the ops' own promises, or the commit's error.
   */
  inOneCommit(ops: (() => Promise<unknown>)[]): Promise<unknown>[] {
    const db = this.db;
    if (!this.sync) this.sync = new SyncMode(db);
    return this.sync.unsynced(() => {
      try {
        db.exec('BEGIN IMMEDIATE');
      } catch {
        return ops.map((op) => op()); // busy or failing: each alone, with its own error
      }
      const results = ops.map((op) => {
        try {
          return op();
        } catch (err) {
          return Promise.reject(err);
        }
      });
      // An error that aborts a transaction (disk full, I/O) ends it early: the ops after it
      // then committed alone, and those before it are rolled back and answered with it.
      if (!db.inTransaction) return results;
      try {
        db.exec('COMMIT');
        return results;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        const failure = sqliteFailure(err);
        for (const r of results) r.catch(() => {}); // answered with the commit's error instead
        return results.map(() => Promise.reject(failure));
      }
    });
  }

  async close(): Promise<void> {
    await this._events?.drain();
    this.closeSync();
  }

  /** Closes now; appends still waiting for their sync are answered when it completes. */
  closeSync(): void {
    if (this.closed) return;
    this._events?.flush();
    this.closed = true;
    this.db.close();
    this._events?.closeSyncer();
  }

  /** For tests that must reach below the port (e.g. to plant a corrupt row). */
  unsafeDatabase(): Database.Database {
    return this.db;
  }
}
