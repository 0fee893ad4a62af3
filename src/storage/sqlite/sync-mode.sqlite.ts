import type Database from 'better-sqlite3';

/**
 * The connection runs with `synchronous=FULL` (every commit fsyncs the WAL). Some commits
 * don't need that fsync inside COMMIT: the worker's (nothing acknowledged depends on them)
 * and the appends, which WalSyncer makes durable off the writer thread before any answer.
 * `unsynced` runs one such piece of work with NORMAL, and puts FULL back.
 */
export class SyncMode {
  private readonly normal: Database.Statement;
  private readonly full: Database.Statement;

  constructor(db: Database.Database) {
    this.normal = db.prepare('PRAGMA synchronous = NORMAL');
    this.full = db.prepare('PRAGMA synchronous = FULL');
  }

  unsynced<T>(fn: () => T): T {
    this.normal.run();
    try {
      return fn();
    } finally {
      this.full.run();
    }
  }
}
