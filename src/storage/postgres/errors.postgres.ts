import { StoreUnavailableError } from '../ports.js';

/**
 * SQLSTATE classes and codes that mean "the database cannot take this now" (503, retry later)
 * rather than a bug of ours: 08 connection exception, 53 insufficient resources (disk full,
 * out of memory, too many connections), 57P01..57P03 admin/crash shutdown and "cannot connect
 * now" (server starting or in recovery), 57014 a statement cancelled (our statement_timeout:
 * the database is stuck, locked or overloaded) and 55P03 a lock not obtained in time.
 */
const UNAVAILABLE_CLASSES = new Set(['08', '53']);
/** …plus 25006: a read-only transaction (a replica promoted wrongly, `default_transaction_read_only`); 57014 and 55P03: statement or lock timeout. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '25006', '57014', '55P03']);
/** The database answers but refuses writes: 53100 disk full, 25006 read-only transaction. */
const WRITE_REFUSED_SQLSTATES = new Set(['53100', '25006']);

/** The server cancelled the statement and answered so: the session itself is intact. */
const CANCELLED_SQLSTATES = new Set(['57014', '55P03']);

/**
 * Node socket and DNS error codes of a server we cannot reach. ENOTFOUND is in: in a container
 * network the database's host name disappears while its container is down.
 */
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** SQLSTATEs after which the whole transaction may simply be run again: serialization failure, deadlock. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isSqlstate(code: string | undefined): code is string {
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code);
}

function isUnavailableCode(err: unknown): boolean {
  const code = codeOf(err);
  // Node codes first: some (EPIPE) have the shape of a SQLSTATE.
  if (code !== undefined && UNAVAILABLE_NODE_CODES.has(code)) return true;
  if (isSqlstate(code)) return UNAVAILABLE_CLASSES.has(code.slice(0, 2)) || UNAVAILABLE_SQLSTATES.has(code);
  if (code !== undefined) return false;
  // Node 20 reports a failed connect to a host with several addresses (localhost: ::1 and
  // 127.0.0.1) as an AggregateError of one socket error per address.
  if (err instanceof AggregateError) return err.errors.length > 0 && err.errors.every(isUnavailableCode);
  return false;
}

/**
 * Maps a driver error to ours, by SQLSTATE or node error code (never by message text).
 *
 * `connectionLost` is set by the caller when the error came while checking out a connection
 * or after the client reported its socket dead: pg then rejects with plain Errors that carry
 * no code at all ("Connection terminated unexpectedly", the pool's connect timeout). Those are
 * unavailability too, unless the server answered with a SQLSTATE of its own (a wrong password
 * or database name is a configuration error, not a 503).
 */
export function postgresFailure(err: unknown, context: { connectionLost?: boolean } = {}): unknown {
  if (err instanceof StoreUnavailableError) return err;
  const code = codeOf(err);
  if (isUnavailableCode(err) || (context.connectionLost === true && !isSqlstate(code))) {
    const writeRefused = code !== undefined && WRITE_REFUSED_SQLSTATES.has(code);
    return new StoreUnavailableError(`store unavailable (${code ?? 'connection lost'})`, { cause: err, writeRefused });
  }
  return err;
}

/** A unique constraint was violated (23505): the same domain outcome as SQLite's SQLITE_CONSTRAINT_UNIQUE. */
export function isUniqueViolation(err: unknown): boolean {
  return codeOf(err) === '23505';
}

/** The transaction lost a deadlock or serialization race and can be run again as a whole. */
export function isRetryableConflict(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && RETRYABLE_SQLSTATES.has(code);
}

/** The server cancelled one statement (statement or lock timeout): the connection stays usable. */
export function isStatementCancelled(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && CANCELLED_SQLSTATES.has(code);
}
