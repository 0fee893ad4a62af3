/**
 * Several processes on one PostgreSQL database, simulated by two PostgresStores (two pools,
 * so two sets of server sessions): dedup, claiming and contact merges must hold across them.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations } from '../shared/migrations.js';
import type { AppendItem } from '../../ingest/event-log.port.js';
import type { ClaimedEvent } from '../../processing/event-queue.port.js';
import type { Store } from '../ports.js';
import { PostgresStore } from './postgres-store.js';
import { SKIP_POSTGRES, createTestDatabase, type PostgresTestDatabase } from '../../testing/test-database.js';

const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
const WINDOW = 86_400_000;

describe.skipIf(SKIP_POSTGRES)('PostgresStore across processes', () => {
  let db: PostgresTestDatabase;
  let a: PostgresStore;
  let b: PostgresStore;
  let ws: string;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    a = new PostgresStore(db.url, { poolMax: 6 });
    b = new PostgresStore(db.url, { poolMax: 6 });
    // Both "processes" start at once: the advisory lock lets exactly one of them migrate.
    const [ra, rb] = await Promise.all([a.migrate(), b.migrate()]);
    expect([...ra.applied, ...rb.applied]).toEqual(readMigrations('postgres').map((m) => m.name));
    ws = (await a.keys.ensureWorkspace('race', T0)).id;
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  function ev(messageId: string, over: Partial<AppendItem> = {}): AppendItem {
    return { workspaceId: ws, messageId, event: 'e', email: 'ann@example.com', properties: null, traits: null, timestamp: T0, ...over };
  }

  /** A worker loop: claim small batches and apply them, grouped by contact, until the queue is empty. */
  async function drain(store: Store, workerId: string, limit: number): Promise<number[]> {
    const seen: number[] = [];
    for (;;) {
      const batch = await store.queue.claim({ workerId, limit, now: T0, leaseMs: 600_000 });
      if (batch.length === 0) return seen;
      seen.push(...batch.map((c) => c.seq));
      const groups = new Map<string, ClaimedEvent[]>();
      for (const c of batch) groups.set(c.email, [...(groups.get(c.email) ?? []), c]);
      const results = await store.queue.applyBatch({
        workerId,
        now: T0,
        groups: [...groups.values()].map((g) => ({
          workspaceId: ws,
          email: g[0]!.email,
          events: g.map((c) => ({ seq: c.seq, patch: c.traitsJson ? JSON.parse(c.traitsJson) : null, timestamp: c.timestamp })),
        })),
      });
      for (const r of results) if ('error' in r) throw r.error;
    }
  }

  it('accepts a messageId raced by two processes exactly once', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `race-${i}`);
    // Single-item calls racing pairwise, and whole batches in opposite orders.
    const singles = await Promise.all(ids.slice(0, 50).map((id) => Promise.all([a, b].map((s) => s.events.append([ev(id)], T0, WINDOW)))));
    for (const pair of singles) expect(pair.flat().sort()).toEqual(['accepted', 'duplicate']);
    const batch = ids.slice(50);
    const [fromA, fromB] = await Promise.all([
      a.events.append(batch.map((id) => ev(id)), T0, WINDOW),
      b.events.append([...batch].reverse().map((id) => ev(id)), T0, WINDOW),
    ]);
    const reversedB = [...fromB!].reverse();
    batch.forEach((_, i) => expect([fromA![i], reversedB[i]].sort()).toEqual(['accepted', 'duplicate']));
    expect(await db.scalar("SELECT COUNT(*) FROM events WHERE message_id LIKE 'race-%'")).toBe(100);
    await db.sql("DELETE FROM events WHERE message_id LIKE 'race-%'");
  });

  it('hands each event to exactly one of many workers in two processes', async () => {
    const items = Array.from({ length: 400 }, (_, i) => ev(`claim-${i}`, { email: `u${i % 40}@example.com` }));
    await a.events.append(items, T0, WINDOW);
    const runs = await Promise.all([
      drain(a, 'a1', 7),
      drain(a, 'a2', 7),
      drain(a, 'a3', 7),
      drain(b, 'b1', 7),
      drain(b, 'b2', 7),
      drain(b, 'b3', 7),
    ]);
    const all = runs.flat();
    expect(all).toHaveLength(400);
    expect(new Set(all).size).toBe(400);
    expect(runs.filter((r) => r.length > 0).length).toBeGreaterThan(1);
    const stats = await b.queue.stats(T0);
    expect(stats.depth).toBe(0);
  });

  it('loses no update when workers of two processes merge into one contact at once', async () => {
    // 120 events for one new contact: each sets its own key, and all set `last` (newest wins).
    const items = Array.from({ length: 120 }, (_, i) =>
      ev(`merge-${i}`, { email: 'shared@example.com', traits: JSON.stringify({ [`k${i}`]: i, last: i }), timestamp: T0 + i }),
    );
    // Accepted in shuffled order, so processing order differs from event-time order.
    const shuffled = items.map((it, i) => ({ it, r: (i * 7919) % 120 })).sort((x, y) => x.r - y.r).map((x) => x.it);
    await a.events.append(shuffled, T0, WINDOW);
    await Promise.all([drain(a, 'ma1', 3), drain(a, 'ma2', 3), drain(b, 'mb1', 3), drain(b, 'mb2', 3)]);
    const contact = await a.contacts.findByEmail(ws, 'shared@example.com');
    expect(contact).not.toBeNull();
    const expected: Record<string, number> = {};
    for (let i = 0; i < 120; i++) expected[`k${i}`] = i;
    expect(contact!.properties).toEqual({ email: 'shared@example.com', status: 'SUBSCRIBED', ...expected, last: 119 });
    expect(await db.scalar("SELECT COUNT(*) FROM contacts WHERE email = 'shared@example.com'")).toBe(1);
  });

  it('does not deadlock when batches of two processes share contacts in opposite orders', async () => {
    const emails = Array.from({ length: 8 }, (_, i) => `o${i}@example.com`);
    for (const email of emails) await a.contacts.upsert(ws, { email }, T0);
    // A third session holds every one of those contacts, so both batches start waiting on
    // them and then run truly at once when it lets go.
    const gate = new pg.Client({ connectionString: db.url });
    await gate.connect();
    try {
      for (let round = 0; round < 5; round++) {
        const items = emails.flatMap((email, i) => [0, 1].map((k) => ev(`opp-${round}-${i}-${k}`, { email, traits: `{"r${k}":${round}}` })));
        await a.events.append(items, T0, WINDOW);
        const claimed = await a.queue.claim({ workerId: 'oa', limit: 100, now: T0, leaseMs: 600_000 });
        const byEmail = new Map<string, ClaimedEvent[]>();
        for (const c of claimed) byEmail.set(c.email, [...(byEmail.get(c.email) ?? []), c]);
        // Half of each contact's events leased to a worker of the other process.
        await db.sql("UPDATE events SET lease_owner = 'ob' WHERE id = ANY($1::bigint[])", [[...byEmail.values()].map((g) => g[1]!.seq)]);
        const groupsFor = (pick: 0 | 1) =>
          [...byEmail.values()].map((g) => ({
            workspaceId: ws,
            email: g[0]!.email,
            events: [{ seq: g[pick]!.seq, patch: JSON.parse(g[pick]!.traitsJson!), timestamp: T0 }],
          }));
        await gate.query('BEGIN');
        await gate.query('SELECT id FROM contacts WHERE workspace_id = $1 AND email = ANY($2) FOR UPDATE', [ws, emails]);
        const both = Promise.all([
          a.queue.applyBatch({ workerId: 'oa', now: T0, groups: groupsFor(0) }),
          b.queue.applyBatch({ workerId: 'ob', now: T0, groups: groupsFor(1).reverse() }),
        ]);
        const deadline = Date.now() + 10_000;
        while ((await db.scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'", [db.name])) < 2) {
          if (Date.now() > deadline) throw new Error('the two batches never both waited on the gate');
          await new Promise((r) => setTimeout(r, 10));
        }
        await gate.query('COMMIT');
        const [ra, rb] = await both;
        for (const r of [...ra, ...rb]) expect(r).not.toHaveProperty('error');
      }
    } finally {
      await gate.end();
    }
    for (const email of emails) {
      expect((await a.contacts.findByEmail(ws, email))!.properties).toMatchObject({ r0: 4, r1: 4 });
    }
  });

  it('erasing a contact while workers of two processes apply to it leaves nothing behind', async () => {
    for (let round = 0; round < 5; round++) {
      const email = `erase${round}@example.com`;
      await a.contacts.upsert(ws, { email, plan: 'x' }, T0);
      await a.events.append(
        Array.from({ length: 30 }, (_, i) => ev(`erase-${round}-${i}`, { email, traits: `{"n":${i}}` })),
        T0,
        WINDOW,
      );
      const [, , deleted] = await Promise.all([drain(a, `ea${round}`, 4), drain(b, `eb${round}`, 4), b.contacts.delete(ws, { email })]);
      expect(deleted?.contact?.email).toBe(email);
      expect(await a.contacts.findByEmail(ws, email)).toBeNull();
      expect(await a.events.list({ workspaceId: ws, email, limit: 100 })).toEqual({ items: [], next: null });
    }
  });

  it('detected no deadlock in any of the above', async () => {
    // Lock order, not deadlock detection plus retry, must be what kept the tests above
    // passing. A backend reports its statistics when it exits, so close the pools first
    // and wait (with a deadline) for their sessions to be gone.
    await a.close();
    await b.close();
    const deadline = Date.now() + 10_000;
    for (;;) {
      const sessions = await db.scalar('SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
      if (sessions === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await db.scalar('SELECT deadlocks FROM pg_stat_database WHERE datname = $1', [db.name])).toBe(0);
  });
});
