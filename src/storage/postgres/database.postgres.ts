import pg from 'pg';
import { StoreUnavailableError } from '../ports.js';
import { isRetryableConflict, postgresFailure } from './errors.postgres.js';

export interface PgDatabaseOptions {
  /** Upper bound on connections this process opens (default 10). */
  poolMax?: number;
  /** Receives errors of idle connections (server restart, network cut); they are never thrown. */
  onError?: (err: unknown) => void;
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
 * Waiting for a connection (a new one, or a free one of a saturated pool) gives up after this
 * long with a StoreUnavailableError (503), instead of letting requests pile up behind a
 * database that does not answer.
 */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A bounded pg.Pool plus the error discipline every query goes through: driver errors are
 * mapped once (errors.postgres.ts), connection 'error' events are always listened to (an
 * unhandled one would crash the process), and broken connections are discarded so the pool
 * opens fresh ones once the database is back.
 */
export class PgDatabase {
  private readonly pool: pg.Pool;
  private readonly onError: (err: unknown) => void;
  private ended = false;

  constructor(url: string, opts: PgDatabaseOptions = {}) {
    // BIGINT ids, Unix-ms times and COUNT(*) are int8, which pg returns as strings by default.
    // Ours stay far below 2^53, so plain numbers are exact. Set on this pool only, not globally.
    const types = new pg.TypeOverrides();
    types.setTypeParser(INT8_OID, (v: string) => Number(v));
    this.onError = opts.onError ?? (() => {});
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.poolMax ?? 10,
      types,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
      // TCP keepalive: a connection to a vanished server is noticed instead of hanging.
      keepAlive: true,
    });
    // An idle connection's socket failing (server restarted, network cut) is emitted here.
    // The pool has already dropped that connection; report it and carry on.
    this.pool.on('error', (err) => this.onError(err));
  }

  /** One statement in its own implicit transaction (committed, and so durable, when it resolves). */
  query<R>(sql: string, params?: readonly unknown[], name?: string): Promise<{ rows: R[]; rowCount: number }> {
    return this.withClient((c) => c.query<R>(sql, params, name));
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
            // hand a connection stuck in a transaction to the next caller.
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
  async withClient<T>(fn: (c: Queryable, markBroken: () => void) => Promise<T>): Promise<T> {
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
    const queryable: Queryable = {
      async query<R>(sql: string, params?: readonly unknown[], name?: string) {
        const config: pg.QueryConfig = { text: sql, values: params as unknown[] | undefined };
        if (name !== undefined) config.name = name;
        const r = await client.query(config);
        return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
      },
    };
    try {
      return await fn(queryable, () => {
        lost = true;
      });
    } catch (err) {
      const failure = postgresFailure(err, { connectionLost: lost });
      // A connection that failed with a connection-level error is not trusted again.
      if (failure instanceof StoreUnavailableError) lost = true;
      throw failure;
    } finally {
      // Passing an error destroys the connection instead of returning it to the pool.
      client.release(lost ? new Error('connection discarded after a failure') : undefined);
      client.removeListener('error', onClientError);
    }
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }
}
