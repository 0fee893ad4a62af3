/**
 * The migration runner both adapters use: migrations/<dialect>/NNNN_name.sql, numbered and
 * append-only, applied in order, each in one transaction with its row in schema_migrations.
 * A database whose schema is newer than the newest file this build ships is refused (a
 * rollback to an older build must not run against tables it does not know). The adapters
 * supply the dialect's statements (and PostgreSQL its lock across processes).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Dialect = 'sqlite' | 'postgres';

export interface MigrationFile {
  version: number;
  name: string;
  sql: string;
}

/** migrations/<dialect>/ at the package root (three levels above this file in src/ and dist/). */
export function migrationsDir(dialect: Dialect): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', '..', 'migrations', dialect);
}

export function readMigrations(dialect: Dialect): MigrationFile[] {
  const dir = migrationsDir(dialect);
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f, sql: readFileSync(join(dir, f), 'utf8') }));
}

/** One database as the runner sees it. */
export interface MigrationTarget {
  dialect: Dialect;
  /** Creates schema_migrations if it is missing; the highest version applied (0 for none). */
  currentVersion(): number | Promise<number>;
  /** Runs the migration and records it in schema_migrations, in one transaction. */
  apply(migration: MigrationFile, now: number): void | Promise<void>;
}

/** Applies the pending migrations in version order; returns their file names. */
export async function runMigrations(target: MigrationTarget, now: number): Promise<string[]> {
  const files = readMigrations(target.dialect);
  const known = files.length ? files[files.length - 1]!.version : 0;
  const current = await target.currentVersion();
  if (current > known) {
    throw new Error(`database schema version ${current} is newer than this build knows (${known}); upgrade smashsend`);
  }
  const applied: string[] = [];
  for (const m of files) {
    if (m.version <= current) continue;
    await target.apply(m, now);
    applied.push(m.name);
  }
  return applied;
}
