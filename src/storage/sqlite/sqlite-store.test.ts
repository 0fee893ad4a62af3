import Database from 'better-sqlite3';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMigrations } from '../shared/migrations.js';
import { tempDirs } from '../../testing/temp-dirs.js';
import { StoreLockedError, StoreOpenError } from '../ports.js';
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

  it('an unusable path is a StoreOpenError naming the path and the OS error code, at once', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a-file'), 'x');
    // Under /proc, mkdir -p used to loop forever (the start hung with no message).
    expect(() => new SqliteStore('/proc/smashsend-nope/x.db')).toThrow(StoreOpenError);
    expect(() => new SqliteStore('/proc/smashsend-nope/x.db')).toThrow(/\/proc\/smashsend-nope.*\(ENOENT\)/);
    expect(() => new SqliteStore(join(dir, 'a-file', 'x.db'))).toThrow(/a-file is a file, not a directory \(ENOTDIR\)/);
    expect(() => new SqliteStore(dir)).toThrow(/is a directory.*\(EISDIR\)/);
  });

  it('a file SQLite cannot open fails migrate() with its SQLite code, not "undefined"', async () => {
    const path = join(tempDir(), 'not-a-database.db');
    writeFileSync(path, Buffer.alloc(8192, 7));
    const s = new SqliteStore(path);
    const err = await s.migrate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreOpenError);
    expect((err as StoreOpenError).message).toBe(`cannot open ${path}: file is not a database (SQLITE_NOTADB)`);
    await s.close().catch(() => {});
  });

  it('create: false refuses a store that does not exist, and creates nothing', async () => {
    const path = join(tempDir(), 'data', 'smashsend.db');
    expect(() => new SqliteStore(path, { create: false })).toThrow(expect.objectContaining({ reason: 'missing', path }));
    expect(existsSync(join(path, '..'))).toBe(false);
  });

  it('exclusive: a second holder is refused until the first closes', async () => {
    const path = tempPath();
    const a = new SqliteStore(path, { exclusive: true });
    await a.migrate();
    const refused = (() => {
      try {
        return new SqliteStore(path, { exclusive: true });
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toBeInstanceOf(StoreLockedError);
    expect((refused as StoreLockedError).message).toBe(`${path} is in use by another smashsend serve (pid ${process.pid})`);
    const reader = new SqliteStore(path); // not exclusive: the CLI and a standalone worker
    await reader.migrate();
    await reader.close();
    await a.close();
    const b = new SqliteStore(path, { exclusive: true });
    await b.migrate();
    await b.close();
  });
});
