import type Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** migrations/<dialect>/NNNN_name.sql at the package root (three levels above this file in src/ and dist/). */
export function migrationsDir(dialect: 'sqlite' | 'postgres'): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', '..', 'migrations', dialect);
}

export interface MigrationFile {
  version: number;
  name: string;
  sql: string;
}

export function readMigrations(dialect: 'sqlite' | 'postgres'): MigrationFile[] {
  const dir = migrationsDir(dialect);
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f, sql: readFileSync(join(dir, f), 'utf8') }));
}

/** Applies pending migrations in one transaction each; refuses a schema newer than this build. */
export function migrateSqlite(db: Database.Database, now: number): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const files = readMigrations('sqlite');
  const known = files.length ? files[files.length - 1]!.version : 0;
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  const current = row.v ?? 0;
  if (current > known) {
    throw new Error(`database schema version ${current} is newer than this build knows (${known}); upgrade smashsend`);
  }
  const applied: string[] = [];
  for (const m of files) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, now);
    }).immediate();
    applied.push(m.name);
  }
  return applied;
}
