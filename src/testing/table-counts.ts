/**
 * Rows in every table of a test store, whatever its backend: what tests compare before and
 * after a call that must write nothing (dry runs, replays). Opens its own read-only
 * connection (SQLite) or client (PostgreSQL) and closes it.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

export async function tableCounts(databaseUrl: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (databaseUrl.startsWith('sqlite:')) {
    const db = new Database(databaseUrl.slice('sqlite:'.length), { readonly: true, fileMustExist: true });
    try {
      const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
      for (const n of names) out[n] = db.prepare(`SELECT COUNT(*) FROM "${n}"`).pluck().get() as number;
    } finally {
      db.close();
    }
    return out;
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename');
    for (const { tablename } of rows) out[tablename] = Number((await client.query(`SELECT COUNT(*) AS n FROM "${tablename}"`)).rows[0].n);
  } finally {
    await client.end();
  }
  return out;
}
