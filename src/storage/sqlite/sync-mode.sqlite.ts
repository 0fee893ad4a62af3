import type Database from 'better-sqlite3';

/**
 * Per connection: the two statements, and the depth of `unsynced`. SQLite refuses to change,
 * or even prepare a change of, `synchronous` inside a transaction, so both happen only at
 * the outermost call (never inside a batch's transaction, where sub-stores may be created).
 */
const perConnection = new WeakMap<Database.Database, { normal: Database.Statement; full: Database.Statement; depth: number }>();

/**
 * The connection runs with `synchronous=FULL` (every commit fsyncs the WAL). Some commits
 * don't need that fsync inside COMMIT: the worker's (nothing acknowledged depends on them)
 * and the appends, which WalSyncer makes durable off the writer thread before any answer.
 * `unsynced` runs one such piece of work with NORMAL, and puts FULL back. Nested calls on
 * one connection (a batch of unsynced writes in one transaction, see
 * SqliteDirectStore.inOneCommit) switch only at the outermost.
 */
export class SyncMode {
  constructor(private readonly db: Database.Database) {}

  unsynced<T>(fn: () => T): T {
    let c = perConnection.get(this.db);
    if (c && c.depth > 0) return fn();
    if (!c) {
      c = { normal: this.db.prepare('PRAGMA synchronous = NORMAL'), full: this.db.prepare('PRAGMA synchronous = FULL'), depth: 0 };
      perConnection.set(this.db, c);
    }
    c.normal.run();
    c.depth = 1;
    try {
      return fn();
    } finally {
      c.depth = 0;
      c.full.run();
    }
  }
}
