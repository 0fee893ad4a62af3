import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../../testing/temp-dirs.js';
import { SqliteDirectStore } from './sqlite-direct-store.js';
import { SqliteEventStore } from './event-store.sqlite.js';
import { WalSyncer } from './wal-syncer.js';

const tempDir = tempDirs('smashsend-wal');
const tempFile = () => {
  const f = join(tempDir(), 'db.sqlite-wal');
  writeFileSync(f, 'x');
  return f;
};

describe('WalSyncer', () => {
  it('answers nobody before a sync that started after their commit, and keeps one sync in flight', () => {
    const held: ((err: Error | null) => void)[] = [];
    const s = new WalSyncer(tempFile(), (_fd, cb) => held.push(cb));
    const done: string[] = [];
    s.afterCommit(() => done.push('a'));
    expect(held).toHaveLength(1);
    // Commits during the first sync wait for the next one, which starts only when it ends.
    s.afterCommit(() => done.push('b'));
    s.afterCommit(() => done.push('c'));
    expect(held).toHaveLength(1);
    expect(done).toEqual([]);
    held[0]!(null);
    expect(done).toEqual(['a']);
    expect(held).toHaveLength(2);
    held[1]!(null);
    expect(done).toEqual(['a', 'b', 'c']);
    expect(s.busy()).toBe(false);
    s.close();
  });

  it('passes a sync error to every waiter of that sync', () => {
    const held: ((err: Error | null) => void)[] = [];
    const s = new WalSyncer(tempFile(), (_fd, cb) => held.push(cb));
    const errs: (Error | null)[] = [];
    s.afterCommit((e) => errs.push(e));
    held[0]!(new Error('EIO'));
    expect(errs.map((e) => e?.message)).toEqual(['EIO']);
    s.close();
  });

  it('a missing WAL file is an error to the waiter, not a throw', () => {
    const s = new WalSyncer(join(tmpdir(), 'smashsend-no-such-dir', 'db.sqlite-wal'));
    let err: Error | null = null;
    s.afterCommit((e) => (err = e));
    expect(err).toMatchObject({ code: 'ENOENT' });
  });

  it('syncs a real file with fdatasync', async () => {
    const s = new WalSyncer(tempFile());
    const err = await new Promise((r) => s.afterCommit(r));
    expect(err).toBeNull();
    s.close();
  });

  it('an append whose sync fails is refused as StoreUnavailableError (a 503), not acknowledged', async () => {
    const dir = tempDir();
    const store = new SqliteDirectStore(join(dir, 'db.sqlite'));
    await store.migrate();
    const events = new SqliteEventStore(store.unsafeDatabase(), { walPath: join(dir, 'missing', 'db.sqlite-wal') });
    const item = { workspaceId: 'ws', messageId: 'm1', event: 'e', email: 'a@example.com', properties: null, traits: null, timestamp: 1 };
    const p = events.append([item], Date.now(), 60_000);
    events.flush();
    await expect(p).rejects.toMatchObject({ name: 'StoreUnavailableError', message: expect.stringContaining('could not sync') });
    await store.close();
  });
});
