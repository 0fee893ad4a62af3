import type Database from 'better-sqlite3';
import { runMigrations } from '../shared/migrations.js';

/** Applies pending migrations in one transaction each; refuses a schema newer than this build. */
export function migrateSqlite(db: Database.Database, now: number): Promise<string[]> {
  return runMigrations(
    {
      dialect: 'sqlite',
      currentVersion: () => {
        db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
        const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
        return row.v ?? 0;
      },
      apply: (m, at) => {
        db.transaction(() => {
          db.exec(m.sql);
          db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, at);
        }).immediate();
      },
    },
    now,
  );
}
