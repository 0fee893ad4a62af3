import type { Store } from './ports.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

export interface OpenStoreOptions {
  /** Background connection errors of a PostgreSQL pool (never thrown): pass the logger here. */
  onError?: (err: unknown) => void;
  /** PostgreSQL connections per process (default 10). */
  poolMax?: number;
  /** SQLite: how long a write waits for another process's lock before failing (default 5000). */
  sqliteBusyTimeoutMs?: number;
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
