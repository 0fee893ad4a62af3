import type { Config } from '../config/load-config.js';
import type { Store } from './ports.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

export interface OpenStoreOptions {
  /** Background connection errors of a PostgreSQL pool (never thrown): pass the logger here. */
  onError?: (err: unknown) => void;
  /** PostgreSQL connections per process (default 10). */
  poolMax?: number;
  /** PostgreSQL: longest a statement may run (default 5000; 0: no limit). */
  statementTimeoutMs?: number;
  /** PostgreSQL: longest wait for a connection (default 5000). */
  connectTimeoutMs?: number;
  /** SQLite: how long a write waits for another process's lock before failing (default 5000). */
  sqliteBusyTimeoutMs?: number;
}

/** The store options a Config gives (every process opens its store the same way). */
export function storeOptionsOf(config: Config): OpenStoreOptions {
  return {
    sqliteBusyTimeoutMs: config.sqliteBusyTimeoutMs,
    poolMax: config.databasePoolMax,
    statementTimeoutMs: config.databaseStatementTimeoutMs,
    connectTimeoutMs: config.databaseConnectTimeoutMs,
  };
}

/** Picks the adapter from DATABASE_URL: `sqlite:PATH` or `postgres://…`. */
export async function openStore(databaseUrl: string, opts: OpenStoreOptions = {}): Promise<Store> {
  if (databaseUrl.startsWith('sqlite:')) {
    return new SqliteStore(databaseUrl.slice('sqlite:'.length), { busyTimeoutMs: opts.sqliteBusyTimeoutMs });
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    return new PostgresStore(databaseUrl, opts);
  }
  throw new Error(`DATABASE_URL must be sqlite:PATH or postgres://…, got ${JSON.stringify(databaseUrl)}`);
}
