import pg from 'pg';
import { withDeadline } from '../deadline.js';
import { StoreUnavailableError } from '../ports.js';
import { isRetryableConflict, isStatementCancelled, postgresFailure } from './errors.postgres.js';

export interface PgDatabaseOptions {
  /** Upper bound on connections this process opens (default 10). */
  poolMax?: number;
  /** Receives errors of idle connections (server restart, network cut); they are never thrown. */
  onError?: (err: unknown) => void;
  /**
   * Longest a statement may run (default 5000; 0: no limit). Enforced twice: by the server
   * (`statement_timeout`, which also frees the locks of a statement stuck behind a lock),
   * and here, a little later, for a server that stopped answering at all.
   */
  statementTimeoutMs?: number;
  /** Longest wait for a connection, new or free from a full pool (default 5000). */
  connectTimeoutMs?: number;
}

/** Per-call options of query() and withClient(). */
export interface PgCallOptions {
  /**
   * Client-side deadline of this call's statements instead of statementTimeoutMs (+ grace);
   * 0: none. The server's statement_timeout is the session's either way.
   */
  timeoutMs?: number;
}

/** The only way the stores below reach PostgreSQL: a checked-out connection, or a transaction on one. */
export interface Queryable {
  /**
   * Runs one statement. `name` makes it a named prepared statement, parsed and planned once
   * per connection: for the fixed statements of the hot paths, not for dynamically built SQL.
   * Measured here (2 cores, local server): 200-event appends ~53k vs ~42k events/s, the
   * worker (4 × claim + applyBatch of 200) ~14k vs ~8k events/s, named vs unnamed.
   */
  query<R>(sql: string, params?: readonly unknown[], name?: string): Promise<{ rows: R[]; rowCount: number }>;
}

const INT8_OID = 20;

/**
 * PostgreSQL text cannot hold U+0000 (the statement fails with 22021). A lookup key that
 * contains it (a URL segment, a query parameter) can match no stored row, so callers answer
 * "not found" without asking the database rather than fail with a 500.
 */
export function hasNul(...values: (string | undefined)[]): boolean {
  return values.some((v) => v !== undefined && v.includes('\u0000'));
}

/** A transaction that lost a deadlock, a serialization or a row race is run again, this many times in all. */
const MAX_TRANSACTION_ATTEMPTS = 5;

/**
 * Thrown inside `transaction()` when rows changed under it in a way that is simplest to
 * handle by starting over (rolled back, then run again from the start, like a deadlock).
 */
export class TransactionRaceError extends Error {
  override readonly name = 'TransactionRaceError';
}

/**
 * Defaults of the timeouts that turn a stalled database (connections open, nothing answers)
 * into prompt 503s instead of requests hanging for the whole stall. Waiting for a connection
 * (a new one, or a free one of a full pool) gives up after CONNECT; a statement after
 * STATEMENT. Our statements take milliseconds (four workers applying 200-event batches reach
 * ~12-15k events/s here, see queue-store.postgres.ts: tens of ms per batch, all round trips
 * included), so 5 s only ever cuts a database that is stuck, locked or overloaded.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5000;

/**
 * The client-side deadline of a statement trails the server's statement_timeout by this much,
 * so that a server that is merely slow cancels the statement itself (a clean 57014, the
 * connection stays usable) and only a server that does not answer at all meets ours (the
 * connection is then destroyed: nothing can be trusted on it).
 */
const CLIENT_DEADLINE_GRACE_MS = 500;

/**
 * A bounded pg.Pool plus the error discipline every query goes through: driver errors are
 * mapped once (errors.postgres.ts), connection 'error' events are always listened to (an
 * unhandled one would crash the process), and broken connections are discarded so the pool
 * opens fresh ones once the database is back.
 */
export class PgDatabase {
  private readonly pool: pg.Pool;
  private readonly onError: (err: unknown) => void;
  private readonly statementTimeoutMs: number;
  private ended = false;

  constructor(url: string, opts: PgDatabaseOptions = {}) {
    // BIGINT ids, Unix-ms times and COUNT(*) are int8, which pg returns as strings by default.
    // Ours stay far below 2^53, so plain numbers are exact. Set on this pool only, not globally.
    const types = new pg.TypeOverrides();
    types.setTypeParser(INT8_OID, (v: string) => Number(v));
    this.onError = opts.onError ?? (() => {});
    this.statementTimeoutMs = opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.poolMax ?? 10,
      types,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      // Sent at connection start-up: the session's default for every statement (0 sends nothing).
      statement_timeout: this.statementTimeoutMs || undefined,
      idleTimeoutMillis: 30_000,
      // TCP keepalive: a connection to a vanished server is noticed instead of hanging.
      keepAlive: true,
    });
    // An idle connection's socket failing (server restarted, network cut) is emitted here.
    // The pool has already dropped that connection; report it and carry on.
    this.pool.on('error', (err) => this.onError(err));
  }

  /** One statement in its own implicit transaction (committed, and so durable, when it resolves). */
  query<R>(sql: string, params?: readonly unknown[], name?: string, opts?: PgCallOptions): Promise<{ rows: R[]; rowCount: number }> {
    return this.withClient((c) => c.query<R>(sql, params, name), opts);
  }

  /**
   * Runs `fn` in one READ COMMITTED transaction. A deadlock, a serialization failure or a
   * TransactionRaceError rolls back and runs `fn` again from the start (so `fn` must not keep
   * state across attempts).
   */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.withClient(async (c, markBroken) => {
          await c.query('BEGIN');
          try {
            const out = await fn(c);
            await c.query('COMMIT');
            return out;
          } catch (err) {
            // A failed ROLLBACK means the connection is unusable: discard it rather than
            // hand a connection stuck in a transaction to the next caller. On a connection
            // already given up (no answer in time) it fails at once, without a round trip.
            await c.query('ROLLBACK').catch(markBroken);
            throw err;
          }
        });
      } catch (err) {
        if (attempt < MAX_TRANSACTION_ATTEMPTS && (isRetryableConflict(err) || err instanceof TransactionRaceError)) continue;
        throw err;
      }
    }
  }

  /**
   * Holds one connection for `fn` (session state such as advisory locks needs the same one).
   * Errors leave as ours (postgresFailure), never as raw driver errors of a dead connection.
   */
  async withClient<T>(fn: (c: Queryable, markBroken: () => void) => Promise<T>, opts: PgCallOptions = {}): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw postgresFailure(err, { connectionLost: true });
    }
    let lost = false;
    // While checked out, the pool no longer listens to this client's 'error' event; a socket
    // dying mid-query would otherwise be an unhandled 'error' and crash the process. The
    // pending query rejects too (after this listener ran), so the caller sees the failure.
    const onClientError = (): void => {
      lost = true;
    };
    client.on('error', onClientError);
    const timeoutMs = opts.timeoutMs ?? this.statementTimeoutMs;
    const deadlineMs = timeoutMs > 0 ? timeoutMs + CLIENT_DEADLINE_GRACE_MS : 0;
    const queryable: Queryable = {
      async query<R>(sql: string, params?: readonly unknown[], name?: string) {
        if (lost) throw new StoreUnavailableError('store unavailable (connection given up)');
        const config: pg.QueryConfig = { text: sql, values: params as unknown[] | undefined };
        if (name !== undefined) config.name = name;
        const pending = client.query(config);
        // No answer in time: the server is stuck or gone. The connection is given up (and
        // destroyed on release), so nothing is ever sent on it again.
        const expired = (): Error => {
          lost = true;
          return new StoreUnavailableError(`store unavailable (no answer within ${deadlineMs} ms)`);
        };
        const r = deadlineMs > 0 ? await withDeadline(pending, deadlineMs, expired) : await pending;
        return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
      },
    };
    try {
      return await fn(queryable, () => {
        lost = true;
      });
    } catch (err) {
      const failure = postgresFailure(err, { connectionLost: lost });
      // A connection that failed with a connection-level error is not trusted again. A
      // statement the server cancelled (its timeout) leaves the session as good as before.
      if (failure instanceof StoreUnavailableError && !isStatementCancelled(err)) lost = true;
      throw failure;
    } finally {
      // Passing an error destroys the connection instead of returning it to the pool.
      client.release(lost ? new Error('connection discarded after a failure') : undefined);
      client.removeListener('error', onClientError);
    }
  }

  /**
   * Runs `fn` on a session with no statement timeout (server or client side), for work that
   * may legitimately take long or wait: migrations, and the advisory lock they queue on.
   */
  withUnboundedClient<T>(fn: (c: Queryable, markBroken: () => void) => Promise<T>): Promise<T> {
    return this.withClient(async (c, markBroken) => {
      if (this.statementTimeoutMs === 0) return fn(c, markBroken);
      await c.query('SET statement_timeout = 0');
      try {
        return await fn(c, markBroken);
      } finally {
        // Back to the start-up value; if that fails, the connection is not reused.
        await c.query('RESET statement_timeout').catch(markBroken);
      }
    }, { timeoutMs: 0 });
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }
}
