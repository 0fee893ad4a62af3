/**
 * A segment's transitions over HTTP, and the segments module's housekeeping on a controlled
 * clock: builds left `building` by a crash are built again, and `performed` hits past their
 * window are pruned (hits of an all-time count stay). Runs on both backends
 * (TEST_BACKEND=postgres).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEGMENT_BACKFILL_KIND } from '../src/segments/segment-jobs.js';
import { call } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
let now = Date.UTC(2026, 0, 10, 12, 0, 0);
beforeAll(async () => {
  s = await startTestServer({ clock: () => now });
});
afterAll(async () => {
  await s.close();
});

const api = (path: string, body?: unknown, method?: string) => call(`${s.url}${path}`, { key: s.key, ...(body !== undefined ? { body } : {}), ...(method ? { method } : {}) });
const minute = 60_000;

describe('GET /v1/segments/:id/transitions', () => {
  it('lists enters and exits newest first, paged by cursor, with the contact', async () => {
    const seg = (await api('/v1/segments', { name: 'pro', rule: { property: 'contact.plan', op: 'eq', value: 'pro' } })).body.segment;
    for (const e of ['t1@example.com', 't2@example.com', 't3@example.com']) {
      expect((await api('/v1/contacts', { properties: { email: e, plan: 'pro' } })).status).toBeLessThan(300);
      now += 1000;
      await s.drain();
    }
    expect((await api('/v1/contacts', { properties: { email: 't1@example.com', plan: 'free' } })).status).toBe(200);
    now += 1000;
    await s.drain();

    const first = await api(`/v1/segments/${seg.id}/transitions?limit=3`);
    expect(first.status).toBe(200);
    const t = first.body.transitions;
    expect(t.items.map((i: { contact: { email: string }; on: string }) => [i.contact.email, i.on])).toEqual([
      ['t1@example.com', 'exit'],
      ['t3@example.com', 'enter'],
      ['t2@example.com', 'enter'],
    ]);
    expect(t.items[0]).toMatchObject({ contact: { id: expect.any(String) }, at: expect.stringMatching(/^2026-01-10T/) });
    expect(t.hasMore).toBe(true);
    const second = (await api(`/v1/segments/${seg.id}/transitions?limit=3&cursor=${t.cursor}`)).body.transitions;
    expect(second.items.map((i: { contact: { email: string }; on: string }) => [i.contact.email, i.on])).toEqual([['t1@example.com', 'enter']]);
    expect(second).toMatchObject({ cursor: null, hasMore: false });

    expect((await api('/v1/segments/seg_nope/transitions')).status).toBe(404);
    expect((await api(`/v1/segments/${seg.id}/transitions?cursor=nope`)).body.code).toBe('INVALID_CURSOR');
    expect((await api(`/v1/segments/${seg.id}/transitions?limit=0`)).body.code).toBe('INVALID_QUERY');
    const doc = (await call(`${s.url}/openapi.json`, {})).body;
    expect(doc.paths['/v1/segments/{id}/transitions']?.get).toBeDefined();
  });
});

describe('housekeeping', () => {
  it('builds again a segment left building: no backfill job at all, or a dead one', async () => {
    // Contacts to build over (in the `pro` segment above, and two more).
    for (const e of ['h1@example.com', 'h2@example.com']) expect((await api('/v1/contacts', { properties: { email: e, vip: true } })).status).toBe(201);
    await s.drain();
    const rule = { property: 'contact.vip', op: 'eq', value: true };
    // A crash between writing the segment and enqueuing its backfill: the segment alone.
    const ws = (await s.store.contacts.findByEmail((await s.store.keys.ensureWorkspace('default', now)).id, 'h1@example.com'))!.workspaceId;
    await s.store.segments.createSegment({ id: 'seg_orphan', workspaceId: ws, name: 'orphan', rule, version: 1, status: 'building', buildDone: 0, buildTotal: 5, createdAt: now, updatedAt: now });
    // A backfill that died for good.
    const dead = (await api('/v1/segments', { name: 'dead', rule })).body.segment;
    expect(dead.status).toBe('building');
    const [job] = await s.store.jobs.claim({ workerId: 'test', kinds: [SEGMENT_BACKFILL_KIND], limit: 1, now, leaseMs: minute });
    expect(job!.payload).toMatchObject({ segmentId: dead.id });
    await s.store.jobs.fail({ workerId: 'test', id: job!.id, error: 'killed', retryAt: null, now });
    await s.drain();
    for (const id of ['seg_orphan', dead.id]) expect((await api(`/v1/segments/${id}`)).body.segment.status).toBe('building');

    // Within the grace period nothing is repaired; after it, the next slot's housekeeping does.
    now += 2 * minute;
    await s.drain();
    expect((await api('/v1/segments/seg_orphan')).body.segment.status).toBe('building');
    now += 5 * minute;
    await s.drain();
    for (const id of ['seg_orphan', dead.id]) {
      expect((await api(`/v1/segments/${id}`)).body.segment).toMatchObject({ status: 'ready', memberCount: 2 });
    }
  });

  it('prunes hits older than their window, in the housekeeping job; all-time counts keep theirs', async () => {
    await api('/v1/segments', { name: 'hour', rule: { performed: 'purchase', within: '1h' } });
    await api('/v1/segments', { name: 'ever', rule: { performed: 'purchase' } });
    for (let i = 0; i < 3; i++) {
      const r = await api('/v1/events', { event: 'purchase', identify: { email: 'p@example.com' }, messageId: `pr-${i}`, timestamp: new Date(now).toISOString() });
      expect(r.status).toBe(200);
      now += 1000;
    }
    await s.drain();
    const ws = (await s.store.keys.ensureWorkspace('default', now)).id;
    const contact = (await s.store.contacts.findByEmail(ws, 'p@example.com'))!;
    const keys = await s.store.segments.hitKeys();
    const hourKey = keys.find((k) => k.includes('"withinMs":3600000'))!;
    const everKey = keys.find((k) => k === '{"performed":"purchase"}')!;
    const count = async (key: string) => (await s.store.segments.countHits(contact.id, [{ nodeKey: key, since: Number.NEGATIVE_INFINITY }]))[0]!.count;
    expect([await count(hourKey), await count(everKey)]).toEqual([3, 3]);
    // Past the window but within the margin: kept.
    now += 90 * minute;
    await s.drain();
    expect(await count(hourKey)).toBe(3);
    // Past the window and the margin (1 h): gone; the all-time counter keeps every hit.
    now += 40 * minute;
    await s.drain();
    expect([await count(hourKey), await count(everKey)]).toEqual([0, 3]);
  });
});
