/**
 * acceptedAfter's gaps on PostgreSQL: an id taken by a transaction still open when a higher
 * one is read is reported (also when the scan bound ends the range on it), and acceptedIn
 * finds its event once it commits.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppendItem } from '../../ingest/event-log.port.js';
import { PostgresStore } from './postgres-store.js';
import { SKIP_POSTGRES, createTestDatabase, type PostgresTestDatabase } from '../../testing/test-database.js';

const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);

describe.skipIf(SKIP_POSTGRES)('PostgreSQL live view gaps', () => {
  let db: PostgresTestDatabase;
  let store: PostgresStore;
  let writer: pg.Client;
  let ws: string;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    store = new PostgresStore(db.url, { poolMax: 4 });
    await store.migrate();
    ws = (await store.keys.ensureWorkspace('gaps', T0)).id;
    writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
  });
  afterAll(async () => {
    await writer?.end();
    await store?.close();
    await db?.drop();
  });

  const ev = (messageId: string): AppendItem => ({ workspaceId: ws, messageId, event: 'e', email: 'ann@example.com', properties: null, traits: null, timestamp: T0 });

  it('reports the ids of open transactions below the newest, within the scan, and finds their events once committed', async () => {
    const start = (await store.activity.positions()).eventSeq;
    await writer.query('BEGIN');
    const held = Number(
      (await writer.query<{ id: string }>(`INSERT INTO events (workspace_id, message_id, event, email, ts, received_at) VALUES ($1, 'held', 'e', 'ann@example.com', $2, $2) RETURNING id`, [ws, T0])).rows[0]!.id,
    );
    try {
      await store.events.append([ev('after-1'), ev('after-2')], T0, 86_400_000);
      const all = await store.activity.acceptedAfter(ws, start, 10);
      expect(all.items.map((e) => e.messageId)).toEqual(['after-1', 'after-2']);
      expect(all.gaps).toEqual([[held, held]]);
      // The scan bound ends the range on the open transaction's id: reported all the same.
      const cut = await store.activity.acceptedAfter(ws, start, 10, held - start);
      expect(cut).toEqual({ items: [], next: held, gaps: [[held, held]] });
      expect(await store.activity.acceptedIn(ws, [[held, held]], 10)).toEqual([]);
      await writer.query('COMMIT');
    } finally {
      await writer.query('ROLLBACK').catch(() => {});
    }
    expect((await store.activity.acceptedIn(ws, [[held, held]], 10)).map((e) => e.messageId)).toEqual(['held']);
    expect((await store.activity.acceptedAfter(ws, start, 10)).gaps).toBeUndefined();
  });
});
