/**
 * The catalogue stage on a real SQLite store: a batch is one record() with the batch's key;
 * property rows are sent only while a path or type is new to this process (what the store
 * answered), never again once known, and a batch key seen before writes and learns nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { StoredEvent } from '../events-read/event-reader.port.js';
import type { JobContext } from '../processing/job-kind.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { createTestDatabase, type SqliteTestDatabase } from '../testing/test-database.js';
import { CatalogStage } from './catalog.stage.js';
import type { CatalogStore } from './catalog-store.port.js';

let db: SqliteTestDatabase;
let store: SqliteStore;
let sent: Parameters<CatalogStore['record']>[0][];
let stage: CatalogStage;
const ctx: JobContext = { now: 1_700_000_000_000, log: pino({ level: 'silent' }), enqueue: async () => [] };

beforeEach(async () => {
  db = await createTestDatabase('sqlite');
  store = new SqliteStore(db.path);
  await store.migrate();
  sent = [];
  // The real store, its calls seen on the way.
  const catalog: CatalogStore = { ...store.catalog, record: (input) => (sent.push(input), store.catalog.record(input)) };
  stage = new CatalogStage({ catalog, limits: { maxEventNames: 2, maxPropertiesPerEvent: 3 } });
});
afterEach(async () => {
  await store.close();
  await db.drop();
});

let seq = 0;
const event = (name: string, properties: StoredEvent['properties'], workspaceId = 'ws_1'): StoredEvent => ({
  seq: ++seq,
  workspaceId,
  messageId: `m${seq}`,
  event: name,
  email: 'a@example.com',
  contactId: 'c1',
  properties,
  traits: null,
  timestamp: 1000 + seq,
  receivedAt: 2000 + seq,
  status: 'processed',
  attempts: 0,
  error: null,
});
const paths = () => sent[sent.length - 1]!.properties.map((p) => p.path);

describe('CatalogStage', () => {
  it('writes each batch once with its key, and property rows only while something is new', async () => {
    await stage.handle([event('buy', { total: 1, sku: 'a' }), event('buy', { total: 2 })], ctx, { key: 'merge:1' });
    expect(sent[0]).toMatchObject({ batchKey: 'merge:1', events: [{ name: 'buy', count: 2, firstSeen: 2001, lastSeen: 2002 }] });
    expect(paths()).toEqual(['total', 'sku']);
    await stage.handle([event('buy', { total: 3, sku: 'b' })], ctx, { key: 'merge:3' });
    expect(paths()).toEqual([]);
    await stage.handle([event('buy', { total: '4', sku: 'c' })], ctx, { key: 'merge:4' });
    expect(paths()).toEqual(['total']);
    const [buy] = await store.catalog.list('ws_1', { maxEvents: 10, maxProperties: 10 });
    expect(buy).toMatchObject({ count: 4, properties: [{ path: 'sku', types: 1 }, { path: 'total', types: 3 }] });
  });

  it('does not send again what is over a limit, and a re-run batch teaches it nothing', async () => {
    await stage.handle([event('a', { p1: 1, p2: 1, p3: 1, p4: 1 }), event('b', null), event('c', { x: 1 })], ctx, { key: 'merge:10' });
    expect(paths()).toEqual(['p1', 'p2', 'p3', 'p4', 'x']);
    await stage.handle([event('a', { p4: 1 }), event('c', { x: 1 })], ctx, { key: 'merge:20' });
    expect(paths()).toEqual([]); // p4 over the event's 3 paths, c over the workspace's 2 names: known as not catalogued
    const listed = await store.catalog.list('ws_1', { maxEvents: 10, maxProperties: 10 });
    expect(listed.map((e) => [e.name, e.count, e.propertiesTruncated, e.properties.length])).toEqual([
      ['a', 2, true, 3],
      ['b', 1, false, 0],
    ]);
    // The same key again: nothing written, and the new type it carried is not taken as stored.
    await stage.handle([event('a', { p1: 'now a string' })], ctx, { key: 'merge:10' });
    await stage.handle([event('a', { p1: 'now a string' })], ctx, { key: 'merge:30' });
    expect(paths()).toEqual(['p1']);
    expect((await store.catalog.list('ws_1', { maxEvents: 10, maxProperties: 10 }))[0]).toMatchObject({ count: 3, properties: [{ path: 'p1', types: 3 }, {}, {}] });
  });
});
