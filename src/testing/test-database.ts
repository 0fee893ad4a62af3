/**
 * Test databases (not used by the app): every test file, server process or contract run owns
 * its data and drops it. A SQLite file in a fresh temporary directory, a PostgreSQL database
 * `smashsend_test_<random>`, or a schema inside one (cheaper when a file needs many stores).
 *
 * The test environment, read here and nowhere else:
 * - TEST_BACKEND=postgres: the HTTP-level suites run on PostgreSQL + Redis (default SQLite);
 * - TEST_PG_ADMIN_URL: admin connection (default postgres://postgres@127.0.0.1:5432/postgres);
 * - TEST_REDIS_URL: Redis for PostgreSQL runs (default redis://127.0.0.1:6379);
 * - SMASHSEND_SKIP_POSTGRES=1: skip the PostgreSQL suites of the default run (otherwise an
 *   unreachable server fails them).
 *
 * No vitest import: server-process.ts uses this, and the bench imports that (compiled).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type Backend = 'sqlite' | 'postgres';

export const BACKEND: Backend = process.env.TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';
/** PostgreSQL runs are PostgreSQL + Redis, as scale-out deployments are. */
export const USES_REDIS = BACKEND === 'postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const POSTGRES_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const SKIP_POSTGRES = process.env.SMASHSEND_SKIP_POSTGRES === '1';

export interface SqliteTestDatabase {
  backend: 'sqlite';
  /** `sqlite:<path>`, as DATABASE_URL takes it. */
  url: string;
  path: string;
  /** Removes the directory (WAL and SHM files included). */
  drop(): Promise<void>;
}

export interface PostgresTestDatabase {
  backend: 'postgres';
  name: string;
  url: string;
  /** Runs one statement as the admin user inside this database (to plant or inspect rows below the port). */
  sql<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** The first column of the first row, as a number (for COUNT(*) and the like). */
  scalar(text: string, params?: unknown[]): Promise<number>;
  /** Drops the database, closing whatever connections are still open on it. */
  drop(): Promise<void>;
}

export type TestDatabase = SqliteTestDatabase | PostgresTestDatabase;

/** A fresh database on `backend` (default: TEST_BACKEND's); rejects if PostgreSQL is unreachable. */
export function createTestDatabase(backend: 'sqlite'): Promise<SqliteTestDatabase>;
export function createTestDatabase(backend: 'postgres'): Promise<PostgresTestDatabase>;
export function createTestDatabase(backend?: Backend): Promise<TestDatabase>;
export async function createTestDatabase(backend: Backend = BACKEND): Promise<TestDatabase> {
  return backend === 'sqlite' ? createSqliteDatabase() : createPostgresDatabase();
}

function createSqliteDatabase(): SqliteTestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'smashsend-test-'));
  const path = join(dir, 'smashsend.db');
  return { backend: 'sqlite', url: `sqlite:${path}`, path, drop: async () => rmSync(dir, { recursive: true, force: true }) };
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

async function createPostgresDatabase(): Promise<PostgresTestDatabase> {
  const name = `smashsend_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(POSTGRES_ADMIN_URL, `CREATE DATABASE ${name}`);
  const url = withDatabase(POSTGRES_ADMIN_URL, name);
  return {
    backend: 'postgres',
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
export async function createTestSchema(db: PostgresTestDatabase): Promise<{ schema: string; url: string; drop: () => Promise<void> }> {
  const schema = `s_${randomBytes(6).toString('hex')}`;
  await db.sql(`CREATE SCHEMA ${schema}`);
  const u = new URL(db.url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return { schema, url: u.toString(), drop: async () => void (await db.sql(`DROP SCHEMA ${schema} CASCADE`)) };
}
