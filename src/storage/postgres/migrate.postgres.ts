import { runMigrations } from '../shared/migrations.js';
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
  // One connection throughout: the advisory lock belongs to the session that took it. No
  // statement timeout: waiting for another process's migration, or building an index on a
  // big table, may rightly take longer than any request should.
  return db.withUnboundedClient(async (c, markBroken) => {
    await c.query('SELECT pg_advisory_lock($1, $2)', MIGRATION_LOCK);
    try {
      return await runMigrations(
        {
          dialect: 'postgres',
          currentVersion: async () => {
            await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
              version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
            const { rows } = await c.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
            return rows[0]?.v ?? 0;
          },
          apply: async (m, at) => {
            await c.query('BEGIN');
            try {
              // No parameters: sent over the simple protocol, which allows many statements.
              await c.query(m.sql);
              await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, at]);
              await c.query('COMMIT');
            } catch (err) {
              await c.query('ROLLBACK').catch(markBroken);
              throw err;
            }
          },
        },
        now,
      );
    } finally {
      // If unlocking fails the connection is discarded, and closing the session frees the lock.
      await c.query('SELECT pg_advisory_unlock($1, $2)', MIGRATION_LOCK).catch(markBroken);
    }
  });
}
