import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMigrations } from './migrate.sqlite.js';
import { tempDirs } from '../../testing/temp-dirs.js';
import { SqliteStore } from './sqlite-store.js';

const tempDir = tempDirs('smashsend-sqlite');
const tempPath = () => join(tempDir(), 'db.sqlite');

describe('SqliteStore (writer thread)', () => {
  it('migrates once, then reports nothing to apply', async () => {
    const path = tempPath();
    const a = new SqliteStore(path);
    expect((await a.migrate()).applied).toEqual(readMigrations('sqlite').map((m) => m.name));
    await a.close();
    const b = new SqliteStore(path);
    expect((await b.migrate()).applied).toEqual([]);
    await b.close();
  });

  it('refuses a schema newer than this build knows', async () => {
    const path = tempPath();
    const a = new SqliteStore(path);
    await a.migrate();
    await a.close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, ?, 0)').run('9999_future.sql');
    db.close();
    const b = new SqliteStore(path);
    await expect(b.migrate()).rejects.toThrow(/newer than this build knows/);
    await b.close();
  });

  it('a write after close is a StoreUnavailableError, not a crash', async () => {
    const s = new SqliteStore(tempPath());
    await s.migrate();
    await s.close();
    await expect(s.keys.ensureWorkspace('x', Date.now())).rejects.toMatchObject({ name: 'StoreUnavailableError' });
  });
});
