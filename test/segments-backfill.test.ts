/**
 * Backfill at scale: a segment created over 10,000 existing contacts builds, in bounded
 * batches with visible progress, to exactly the members that live evaluation gave a segment
 * with the same rule that existed while the events were processed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ env: { RATE_LIMIT_BATCH_PER_MIN: '100000', RATE_LIMIT_API_PER_MIN: '1000000', WORKER_BATCH_SIZE: '200' } });
});
afterAll(async () => {
  await s.close();
});

const api = (path: string, opts: { method?: string; body?: unknown } = {}) => call(`${s.url}${path}`, { key: s.key, ...opts });
const CONTACTS = 10_000;
const day = 86_400_000;

async function members(id: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '';
  for (;;) {
    const r = await api(`/v1/segments/${id}/contacts?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    out.push(...r.body.contacts.items.map((c: { id: string }) => c.id));
    if (!r.body.contacts.hasMore) return out;
    cursor = r.body.contacts.cursor;
  }
}

describe('backfill over 10,000 contacts', () => {
  it('gives the same members as live evaluation', async () => {
    const rule = {
      any: [
        { performed: 'purchase', within: '30d', where: { property: 'event.total', op: 'gte', value: 50 } },
        { all: [{ property: 'contact.plan', op: 'eq', value: 'pro' }, { not: { property: 'contact.churned', op: 'eq', value: true } }] },
      ],
    };
    const live = (await api('/v1/segments', { body: { name: 'live', rule } })).body.segment;
    const now = Date.now();
    for (let b = 0; b < CONTACTS / 200; b++) {
      const events = Array.from({ length: 200 }, (_, i) => {
        const k = b * 200 + i;
        return {
          event: k % 3 === 0 ? 'purchase' : 'user.signup',
          identify: { email: `bf${k}@example.com`, traits: { plan: k % 5 === 0 ? 'pro' : 'free', ...(k % 7 === 0 ? { churned: true } : {}) } },
          properties: { total: k % 100 },
          // Some purchases are older than the window: they never count.
          timestamp: new Date(now - (k % 11 === 0 ? 40 : 1) * day).toISOString(),
          messageId: `bf-${k}`,
        };
      });
      const r = await api('/v1/events/batch', { body: { events } });
      expect(r.status).toBe(200);
    }
    await s.drain();
    const built = (await api('/v1/segments', { body: { name: 'backfilled', rule } })).body.segment;
    expect(built).toMatchObject({ status: 'building', build: { processed: 0, total: CONTACTS } });
    // Bounded batches: one worker cycle at a time, progress visible between them.
    let seen = 0;
    for (let i = 0; i < 10_000; i++) {
      const handled = await s.worker!.runOnce();
      const seg = (await api(`/v1/segments/${built.id}`)).body.segment;
      if (seg.build.processed > 0 && seg.build.processed < CONTACTS) seen++;
      if (seg.status === 'ready' || handled === 0) break;
    }
    expect(seen).toBeGreaterThan(0);
    const done = (await api(`/v1/segments/${built.id}`)).body.segment;
    expect(done).toMatchObject({ status: 'ready', build: { processed: CONTACTS, total: CONTACTS } });
    const expected = Array.from({ length: CONTACTS }, (_, k) => k).filter((k) => (k % 3 === 0 && k % 11 !== 0 && k % 100 >= 50) || (k % 5 === 0 && k % 7 !== 0)).length;
    const liveMembers = (await members(live.id)).sort();
    expect(liveMembers).toHaveLength(expected);
    expect((await members(built.id)).sort()).toEqual(liveMembers);
    expect(done.memberCount).toBe(expected);
  }, 240_000);
});
