import Database from 'better-sqlite3';
import { readFileSync, statSync } from 'node:fs';
import { StoreLockedError, StoreOpenError } from '../ports.js';

/** SQLite's RESERVED lock is a POSIX write lock on this byte of the file (PENDING_BYTE + 1). */
const RESERVED_BYTE = 0x40000001;

export interface IngestLock {
  readonly lockPath: string;
  release(): void;
}

/**
 * The pid holding the RESERVED lock of `file`, from /proc/locks (Linux); null elsewhere or when
 * it cannot be told. Only for the refusal message: the lock itself decides.
 */
function lockHolderPid(file: string): number | null {
  try {
    const ino = statSync(file).ino;
    for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
      // "3: POSIX  ADVISORY  WRITE 12345 fe:00:2171265 1073741825 1073741825"
      const f = line.trim().split(/\s+/);
      if (f[1] !== 'POSIX' || f[3] !== 'WRITE' || Number(f[5]?.split(':')[2]) !== ino) continue;
      const start = Number(f[6]);
      const end = f[7] === 'EOF' ? Infinity : Number(f[7]);
      if (start <= RESERVED_BYTE && RESERVED_BYTE <= end) return Number(f[4]) || null;
    }
  } catch {
    // not Linux, or /proc not mounted
  }
  return null;
}

/**
 * Takes the exclusive ingest lock of the SQLite store at `storePath`: one `smashsend serve` per
 * database file, because its dedup keys of the last few seconds live in that process's memory
 * (dedup-ledger.sqlite.ts), so a second appender would accept a messageId the first already has.
 *
 * The lock is SQLite's own: a write transaction (`BEGIN IMMEDIATE`, the RESERVED lock, a POSIX
 * record lock) held open for the life of the process on a companion file `<store>.lock`. The
 * kernel drops it when the process ends however it ends (kill -9, power cut), so there is no
 * stale lock to clean up and no pid to trust. The file itself is never deleted: deleting it
 * while a server runs would let a second one lock a new file of the same name.
 */
export function acquireIngestLock(storePath: string): IngestLock {
  const lockPath = `${storePath}.lock`;
  let db: Database.Database;
  try {
    db = new Database(lockPath);
    db.pragma('busy_timeout = 0');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new StoreOpenError(`cannot open the lock file ${lockPath} (${typeof code === 'string' ? code : 'EUNKNOWN'})`, storePath, String(code), { cause: err });
  }
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (err) {
    db.close();
    if ((err as { code?: unknown }).code !== 'SQLITE_BUSY') throw err;
    const pid = lockHolderPid(lockPath);
    throw new StoreLockedError(`${storePath} is in use by another smashsend serve${pid ? ` (pid ${pid})` : ''}`, storePath, pid);
  }
  return {
    lockPath,
    release() {
      if (!db.open) return;
      db.exec('ROLLBACK');
      db.close();
    },
  };
}
