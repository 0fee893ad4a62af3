import { readMigrations } from '../sqlite/migrate.sqlite.js';
import type { PgDatabase } from './database.postgres.js';

/**
 * Session-level advisory lock key held while migrating ("SMSH", 1). Several processes
 * starting at once on one database queue on it: the first applies the migrations, the
 * others then find nothing left to do. It is per database, so separate databases (or test
 * schemas of one database) only wait for each other, never conflict.
 */
const MIGRATION_LOCK = [0x534d5348, 1] as const;

/** Applies pending migrations in one transaction each; refuses a schema newer than this build. */
export async function migratePostgres(db: PgDatabase, now: number): Promise<string[]> {
  const files = readMigrations('postgres');
  const known = files.length ? files[files.length - 1]!.version : 0;
  // One connection throughout: the advisory lock belongs to the session that took it. No
  // statement timeout: waiting for another process's migration, or building an index on a
  // big table, may rightly take longer than any request should.
  return db.withUnboundedClient(async (c, markBroken) => {
    await c.query('SELECT pg_advisory_lock($1, $2)', MIGRATION_LOCK);
    try {
      await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
      const { rows } = await c.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
      const current = rows[0]?.v ?? 0;
      if (current > known) {
        throw new Error(`database schema version ${current} is newer than this build knows (${known}); upgrade smashsend`);
      }
      const applied: string[] = [];
      for (const m of files) {
        if (m.version <= current) continue;
        await c.query('BEGIN');
        try {
          // No parameters: sent over the simple protocol, which allows many statements.
          await c.query(m.sql);
          await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now]);
          await c.query('COMMIT');
        } catch (err) {
          await c.query('ROLLBACK').catch(markBroken);
          throw err;
        }
        applied.push(m.name);
      }
      return applied;
    } finally {
      // If unlocking fails the connection is discarded, and closing the session frees the lock.
      await c.query('SELECT pg_advisory_unlock($1, $2)', MIGRATION_LOCK).catch(markBroken);
    }
  });
}
