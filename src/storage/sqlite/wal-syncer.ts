import { closeSync, fdatasync, fstatSync, openSync, statSync } from 'node:fs';

/**
 * Pipelined durability for the writer's appends (the group commit of a log-structured
 * store, as PostgreSQL's WAL writer does it).
 *
 * With `synchronous=FULL` SQLite fsyncs the WAL inside COMMIT, and the writer thread sits
 * blocked for it: ~1.2 ms per commit measured here under load, most of each append
 * commit, so the thread spent more time waiting for the disk than working. Instead the
 * append transaction commits with `synchronous=NORMAL` (identical WAL frames, no sync) and
 * this class fdatasyncs the WAL file on the libuv thread pool while the writer goes on with
 * the next group. A request is answered only after an fdatasync that *started after* its
 * commit returned, so every acknowledged event is on disk exactly as with FULL (which is
 * NORMAL plus one WAL sync per commit, per SQLite's documentation). At most one sync is in
 * flight; commits that land meanwhile share the next one.
 *
 * A power cut can still lose an unacknowledged commit, and with it everything after it in
 * the WAL (recovery keeps a prefix of the log), so no later write ever survives an earlier
 * lost append.
 */
export class WalSyncer {
  private fd: number | null = null;
  private ino = 0;
  private inFlight = false;
  private waiting: ((err: Error | null) => void)[] = [];
  private closing = false;

  constructor(
    private readonly walPath: string,
    /** fs.fdatasync; a test passes its own to hold a sync open. */
    private readonly sync: (fd: number, cb: (err: Error | null) => void) => void = fdatasync,
  ) {}

  /** Calls `done` once everything committed before this call is on disk (or the sync failed). */
  afterCommit(done: (err: Error | null) => void): void {
    this.waiting.push(done);
    if (!this.inFlight) this.start();
  }

  private start(): void {
    const batch = this.waiting;
    this.waiting = [];
    let fd: number;
    try {
      fd = this.walFd();
    } catch (err) {
      for (const cb of batch) cb(err as Error);
      return;
    }
    this.inFlight = true;
    this.sync(fd, (err) => {
      this.inFlight = false;
      for (const cb of batch) cb(err);
      if (this.waiting.length > 0) this.start();
      else if (this.closing) this.close();
    });
  }

  /**
   * The WAL's descriptor, reopened if the file was replaced: SQLite deletes the WAL only
   * after checkpointing all of it into the database file and syncing that, so a new inode
   * means the old one holds nothing we still owe a sync.
   */
  private walFd(): number {
    const ino = statSync(this.walPath).ino;
    if (this.fd !== null && ino !== this.ino) {
      closeSync(this.fd);
      this.fd = null;
    }
    if (this.fd === null) {
      this.fd = openSync(this.walPath, 'r');
      this.ino = fstatSync(this.fd).ino;
    }
    return this.fd;
  }

  /** True while a sync is running or waiting (the writer finishes them before closing). */
  busy(): boolean {
    return this.inFlight || this.waiting.length > 0;
  }

  /** Closes the descriptor, after the sync in flight (if any) completes. */
  close(): void {
    this.closing = true;
    if (this.busy() || this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}
