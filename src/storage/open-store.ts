import type { Store } from './ports.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

/** Picks the adapter from DATABASE_URL: `sqlite:PATH` or `postgres://…`. */
export async function openStore(databaseUrl: string): Promise<Store> {
  if (databaseUrl.startsWith('sqlite:')) {
    return new SqliteStore(databaseUrl.slice('sqlite:'.length));
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('PostgreSQL support is not built yet');
  }
  throw new Error(`DATABASE_URL must be sqlite:PATH or postgres://…, got ${JSON.stringify(databaseUrl)}`);
}
