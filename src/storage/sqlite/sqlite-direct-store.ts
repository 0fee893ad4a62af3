import Database from 'better-sqlite3';
import type { Store, StoreCapabilities } from '../ports.js';
import type { ReadBounds, ReadTrace } from '../read-bounds.js';
import { SqliteContactStore, SqliteContactWriter } from './contact-store.sqlite.js';
import { backfillLedgerEventIds } from './dedup-ledger.sqlite.js';
import { SqliteEventStore } from './event-store.sqlite.js';
import { SqliteIdentityStore } from './identity-store.sqlite.js';
import { SqliteJobQueue } from './job-queue.sqlite.js';
import { SqliteKeyStore } from './key-store.sqlite.js';
import { migrateSqlite } from './migrate.sqlite.js';
import { SqliteQueueStore } from './queue-store.sqlite.js';
import { SqliteSegmentStore } from './segment-store.sqlite.js';
import { prepareStorePath } from './store-path.sqlite.js';
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
  private closed = false;
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
