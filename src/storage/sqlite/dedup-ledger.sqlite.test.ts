import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../../testing/temp-dirs.js';
import type { AppendItem } from '../../ingest/event-log.port.js';
import { SqliteDirectStore } from './sqlite-direct-store.js';

const tempDir = tempDirs('smashsend-ledger');
const tempPath = () => join(tempDir(), 'db.sqlite');

const WINDOW = 24 * 3600 * 1000;
const item = (messageId: string, email = 'a@example.com'): AppendItem => ({
  workspaceId: 'ws_1',
  messageId,
  event: 'user.signup',
  email,
  properties: null,
  traits: null,
  timestamp: 1_700_000_000_000,
});

async function open(path: string): Promise<SqliteDirectStore> {
  const s = new SqliteDirectStore(path);
  await s.migrate();
  return s;
}

async function append(s: SqliteDirectStore, ids: string[], now = Date.now(), email?: string) {
  const p = s.events.append(
    ids.map((id) => item(id, email)),
    now,
    WINDOW,
  );
  s.events.flush();
  return p;
}

const ledgerRows = (s: SqliteDirectStore) => s.unsafeDatabase().prepare('SELECT COUNT(*) FROM dedup').pluck().get() as number;
const mergedUpto = (s: SqliteDirectStore) => s.unsafeDatabase().prepare('SELECT merged_upto FROM dedup_state').pluck().get() as number;

describe('SQLite dedup ledger (keys in memory, merged into the B-tree in sorted slices)', () => {
  it('keeps accepted keys in memory first, so an append writes no ledger row', async () => {
    const s = await open(tempPath());
    expect(await append(s, ['m1', 'm2', 'm1'])).toEqual(['accepted', 'accepted', 'duplicate']);
    expect(ledgerRows(s)).toBe(0);
    expect(s.events.ledger.inMemory()).toBe(2);
    expect(await append(s, ['m2', 'm3'])).toEqual(['duplicate', 'accepted']);
    await s.close();
  });

  it('firstAcceptedAt reads the acceptance time from memory and, after a merge, from the B-tree', async () => {
    const s = await open(tempPath());
    await append(s, ['t1'], 1_000);
    await append(s, ['t1'], 2_000);
    expect(await s.events.firstAcceptedAt('ws_1', 't1')).toBe(1_000);
    expect(await s.events.firstAcceptedAt('ws_1', 'never')).toBeNull();
    expect(await s.events.firstAcceptedAt('ws_2', 't1')).toBeNull();
    s.events.ledger.mergeAll();
    expect(ledgerRows(s)).toBe(1);
    expect(await s.events.firstAcceptedAt('ws_1', 't1')).toBe(1_000);
    await s.close();
  });

  it('rebuilds unmerged keys from the events table after a crash (no merge, no close)', async () => {
    const path = tempPath();
    const a = await open(path);
    await append(a, ['k1', 'k2']);
    expect(ledgerRows(a)).toBe(0);
    // A crash: the connection goes away without merging (closeSync skips the merge).
    a.closeSync();
    const b = await open(path);
    expect(ledgerRows(b)).toBe(0);
    expect(await append(b, ['k1', 'k3', 'k2'])).toEqual(['duplicate', 'accepted', 'duplicate']);
    await b.close();
  });

  it('merges into the B-tree in the background and moves merged_upto; duplicates are still found there', async () => {
    const path = tempPath();
    const a = await open(path);
    const t0 = Date.now();
    await append(a, ['x1', 'x2'], t0);
    // The next append after MERGE_EVERY_MS (2 s) starts a merge; slices run on later turns.
    await append(a, ['x3'], t0 + 2_500);
    a.events.ledger.commit(Date.now() + 5_000);
    for (let i = 0; i < 20 && a.events.ledger.inMemory() > 0; i++) await new Promise((r) => setImmediate(r));
    expect(a.events.ledger.inMemory()).toBe(0);
    expect(ledgerRows(a)).toBe(3);
    expect(mergedUpto(a)).toBe(3);
    a.closeSync();
    const b = await open(path);
    expect(b.events.ledger.inMemory()).toBe(0);
    expect(await append(b, ['x1', 'x2', 'x3', 'x4'])).toEqual(['duplicate', 'duplicate', 'duplicate', 'accepted']);
    await b.close();
  });

  it('close() merges everything, so a restart has nothing to rebuild', async () => {
    const path = tempPath();
    const a = await open(path);
    await append(a, ['c1', 'c2', 'c3']);
    await a.close();
    const b = await open(path);
    expect(ledgerRows(b)).toBe(3);
    expect(await append(b, ['c2'])).toEqual(['duplicate']);
    expect(b.events.ledger.inMemory()).toBe(0);
    await b.close();
  });

  it('erasing a contact keeps its messageIds reserved, across a crash', async () => {
    const path = tempPath();
    const a = await open(path);
    await append(a, ['e1', 'e2'], Date.now(), 'gone@example.com');
    await append(a, ['keep'], Date.now(), 'stay@example.com');
    await a.contacts.upsert('ws_1', { email: 'gone@example.com' }, Date.now());
    expect(await a.contacts.delete('ws_1', { email: 'gone@example.com' })).not.toBeNull();
    expect(a.unsafeDatabase().prepare("SELECT COUNT(*) FROM events WHERE email = 'gone@example.com'").pluck().get()).toBe(0);
    a.closeSync();
    const b = await open(path);
    expect(await append(b, ['e1', 'e2', 'keep', 'new'])).toEqual(['duplicate', 'duplicate', 'duplicate', 'accepted']);
    await b.close();
  });

  it('an expired reservation is taken over, and a failed transaction leaves memory as it was', async () => {
    const s = await open(tempPath());
    const t0 = Date.now();
    await append(s, ['old'], t0);
    expect(await append(s, ['old'], t0 + WINDOW + 1)).toEqual(['accepted']);
    // A transaction that fails part-way (a NOT NULL violation after one reservation).
    const bad = s.events.append([item('fresh'), { ...item('broken'), event: null as unknown as string }], t0 + WINDOW + 2, WINDOW);
    s.events.flush();
    await expect(bad).rejects.toBeTruthy();
    expect(await append(s, ['fresh'], t0 + WINDOW + 3)).toEqual(['accepted']);
    await s.close();
  });
});
