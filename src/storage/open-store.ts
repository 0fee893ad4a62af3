import { resolve } from 'node:path';
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
  /** SQLite: create the database file if missing (default true); false refuses with StoreOpenError. */
  create?: boolean;
  /**
   * This process will append events: take the store's ingest lock where the store needs one
   * (SQLite, `capabilities.multiProcess: false`), refusing with StoreLockedError while another
   * process holds it. PostgreSQL needs none.
   */
  exclusive?: boolean;
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
    return new SqliteStore(databaseUrl.slice('sqlite:'.length), {
      busyTimeoutMs: opts.sqliteBusyTimeoutMs,
      create: opts.create,
      exclusive: opts.exclusive,
    });
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    return new PostgresStore(databaseUrl, opts);
  }
  throw new Error(`DATABASE_URL must be sqlite:PATH or postgres://…, got ${JSON.stringify(databaseUrl)}`);
}

/**
 * Where DATABASE_URL points, for operators: the absolute path of a SQLite file (relative
 * paths are relative to the working directory), or a PostgreSQL URL without its password.
 */
export function storeLocation(databaseUrl: string): { kind: 'sqlite' | 'postgres'; location: string } {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length);
    return { kind: 'sqlite', location: path === ':memory:' ? path : resolve(path) };
  }
  try {
    const u = new URL(databaseUrl);
    if (u.password) u.password = '***';
    return { kind: 'postgres', location: u.toString() };
  } catch {
    return { kind: 'postgres', location: 'postgres://(unparsable URL)' };
  }
}
