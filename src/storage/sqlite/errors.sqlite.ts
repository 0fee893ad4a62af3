import { StoreUnavailableError } from '../ports.js';

/** SQLite result codes that mean "the store cannot take this now" rather than a bug of ours. */
const UNAVAILABLE_CODES = new Set([
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
  'SQLITE_PROTOCOL',
]);

/**
 * Codes of a store that answers but cannot write: the disk is full, the file or directory is
 * read-only, or the write itself failed (EIO, EFBIG past a file-size limit).
 */
const WRITE_REFUSED_CODES = new Set(['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_IOERR_WRITE']);

/** Maps a driver error to ours, by code (never by message text). */
export function sqliteFailure(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    const base = code.replace(/^(SQLITE_[A-Z]+)(_.*)?$/, '$1');
    if (UNAVAILABLE_CODES.has(base)) {
      const writeRefused = WRITE_REFUSED_CODES.has(code) || WRITE_REFUSED_CODES.has(base);
      return new StoreUnavailableError(`store unavailable (${code})`, { cause: err, writeRefused });
    }
  }
  return err;
}

export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
