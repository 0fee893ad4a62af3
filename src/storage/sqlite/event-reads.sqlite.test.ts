/**
 * GET by messageId behind a deep queue (queueScan 0: never read the queue whole) goes through
 * the dedup ledger's event ids: held in memory, merged into the B-tree, rebuilt after a
 * restart, and filled in by migration 0005 for events queued before it.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../../testing/temp-dirs.js';
import type { AppendItem } from '../../ingest/event-log.port.js';
import { SqliteDedupLedger } from './dedup-ledger.sqlite.js';
import { readMigrations } from '../shared/migrations.js';
import { SqliteDirectStore } from './sqlite-direct-store.js';
import { SqliteStore } from './sqlite-store.js';

const tempDir = tempDirs('smashsend-reads');
const tempPath = () => join(tempDir(), 'db.sqlite');
const DEEP = { readBounds: { scanBudget: 1_000, queueScan: 0 } };
const WINDOW = 86_400_000;
const T0 = Date.UTC(2024, 0, 15);

const item = (messageId: string, over: Partial<AppendItem> = {}): AppendItem => ({
  workspaceId: 'ws_1',
  messageId,
  event: 'user.signup',
  email: 'a@example.com',
  properties: null,
  traits: null,
  timestamp: T0,
  ...over,
});

async function append(s: SqliteDirectStore, items: AppendItem[], now = T0) {
  const p = s.events.append(items, now, WINDOW);
  s.events.flush();
  return p;
}

describe('GET by messageId behind a deep queue (through the dedup ledger)', () => {
  it('finds queued events whose keys are in memory, then merged into the B-tree', async () => {
    const s = new SqliteDirectStore(tempPath(), DEEP);
    await s.migrate();
    await append(s, [item('m1'), item('m2', { workspaceId: 'ws_2' })]);
    expect(s.events.ledger.inMemory()).toBe(2);
    expect((await s.events.get('ws_1', 'm1'))?.status).toBe('queued');
    s.events.ledger.mergeAll();
    expect(s.events.ledger.inMemory()).toBe(0);
    const db = s.unsafeDatabase();
    expect(db.prepare('SELECT COUNT(*) FROM dedup WHERE event_id IS NOT NULL').pluck().get()).toBe(2);
    expect((await s.events.get('ws_1', 'm1'))?.messageId).toBe('m1');
    expect((await s.events.get('ws_2', 'm2'))?.workspaceId).toBe('ws_2');
    expect(await s.events.get('ws_2', 'm1')).toBeNull();
    expect(await s.events.get('ws_1', 'nope')).toBeNull();
    await s.close();
  });

  it('returns the newest event of a messageId reused after the window, and nothing once it is erased', async () => {
    const s = new SqliteDirectStore(tempPath(), DEEP);
    await s.migrate();
    await append(s, [item('m1', { event: 'old' })], T0);
    s.events.ledger.mergeAll();
    // Processed by the time the window is over (a queued event older than the window whose
    // ledger entry has moved on is found again once processed: read-bounds.ts).
    s.unsafeDatabase().prepare("UPDATE events SET status = 1 WHERE message_id = 'm1'").run();
    await append(s, [item('m1', { event: 'new', email: 'b@example.com' })], T0 + WINDOW + 1);
    expect((await s.events.get('ws_1', 'm1'))?.event).toBe('new');
    s.events.ledger.mergeAll();
    expect((await s.events.get('ws_1', 'm1'))?.event).toBe('new');
    await s.contacts.upsert('ws_1', { email: 'b@example.com' }, T0);
    await s.contacts.delete('ws_1', { email: 'b@example.com' });
    // The ledger still names the erased event; the older one (another contact's) is found instead.
    expect((await s.events.get('ws_1', 'm1'))?.event).toBe('old');
    await s.close();
  });

  it('after a restart, through the writer thread: keys merged at close and keys rebuilt from the events table', async () => {
    const path = tempPath();
    const a = new SqliteStore(path, DEEP);
    await a.migrate();
    await a.events.append([item('m1'), item('m2')], T0, WINDOW);
    await a.close(); // merges every key
    // Events appended after the last merge (a kill -9): their keys are rebuilt at the next start.
    const raw = new Database(path);
    raw.prepare(`INSERT INTO events (workspace_id, message_id, event, email, ts, received_at) VALUES ('ws_1', 'm3', 'e', 'a@example.com', ?, ?)`).run(T0, T0);
    raw.close();
    const b = new SqliteStore(path, DEEP);
    await b.migrate();
    for (const id of ['m1', 'm2', 'm3']) expect((await b.events.get('ws_1', id))?.status, id).toBe('queued');
    await b.close();
  });

  it('migration 0007 names the event of ledger entries written before it', async () => {
    const path = tempPath();
    // A database at schema 0006, with two queued events and one processed, all merged.
    const raw = new Database(path);
    raw.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of readMigrations('sqlite').filter((f) => f.version < 7)) {
      raw.exec(m.sql);
      raw.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
    }
    const ins = raw.prepare(`INSERT INTO events (workspace_id, message_id, event, email, ts, received_at, status) VALUES ('ws_1', ?, 'e', 'a@example.com', ?, ?, ?)`);
    const led = raw.prepare('INSERT INTO dedup (h, h2, accepted_at) VALUES (?, ?, ?)');
    for (const [id, status] of [['q1', 0], ['q2', 0], ['p1', 1]] as const) {
      ins.run(id, T0, T0, status);
      led.run(...SqliteDedupLedger.key('ws_1', id), T0);
    }
    raw.prepare('UPDATE dedup_state SET merged_upto = (SELECT MAX(id) FROM events)').run();
    raw.close();

    const s = new SqliteDirectStore(path, DEEP);
    expect((await s.migrate()).applied[0]).toBe('0007_bounded_reads.sql');
    expect(s.unsafeDatabase().prepare('SELECT COUNT(*) FROM dedup WHERE event_id IS NOT NULL').pluck().get()).toBe(2);
    for (const id of ['q1', 'q2']) expect((await s.events.get('ws_1', id))?.status, id).toBe('queued');
    expect((await s.events.get('ws_1', 'p1'))?.status).toBe('processed');
    await s.close();
  });
});
