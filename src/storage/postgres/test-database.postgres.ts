/**
 * Test support (not used by the app): throw-away PostgreSQL databases and schemas, so every
 * test file owns its data and drops it. Environment, read here for tests only:
 * - TEST_PG_ADMIN_URL: admin connection, as in test/support/databases.ts
 *   (default postgres://postgres@127.0.0.1:5432/postgres);
 * - SMASHSEND_SKIP_POSTGRES=1: skip PostgreSQL tests (otherwise an unreachable server fails them).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const SKIP_POSTGRES = process.env.SMASHSEND_SKIP_POSTGRES === '1';

export interface TestDatabase {
  name: string;
  url: string;
  /** Runs one statement as the admin user inside this database (to plant or inspect rows below the port). */
  sql<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** The first column of the first row, as a number (for COUNT(*) and the like). */
  scalar(text: string, params?: unknown[]): Promise<number>;
  /** Drops the database, closing whatever connections are still open on it. */
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function adminQuery(url: string, text: string, params?: unknown[]): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

/** Creates `smashsend_test_<random>`; rejects (the test fails) if PostgreSQL is unreachable. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `smashsend_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(POSTGRES_ADMIN_URL, `CREATE DATABASE ${name}`);
  const url = withDatabase(POSTGRES_ADMIN_URL, name);
  return {
    name,
    url,
    sql: async <R>(text: string, params?: unknown[]) => (await adminQuery(url, text, params)).rows as R[],
    scalar: async (text: string, params?: unknown[]) => {
      const row = (await adminQuery(url, text, params)).rows[0] as Record<string, unknown> | undefined;
      return Number(row ? Object.values(row)[0] : NaN);
    },
    // WITH (FORCE): a pool a failed test forgot to close must not keep the database alive.
    drop: async () => {
      await adminQuery(POSTGRES_ADMIN_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/**
 * A fresh schema inside `db`, and a URL whose connections use it (search_path set through
 * the connection's startup options), so one test database serves many isolated stores.
 */
export async function createTestSchema(db: TestDatabase): Promise<{ schema: string; url: string; drop: () => Promise<void> }> {
  const schema = `s_${randomBytes(6).toString('hex')}`;
  await db.sql(`CREATE SCHEMA ${schema}`);
  const u = new URL(db.url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return { schema, url: u.toString(), drop: async () => void (await db.sql(`DROP SCHEMA ${schema} CASCADE`)) };
}
