import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer({ env: { RATE_LIMIT_BATCH_PER_MIN: '100000' } });
});
afterAll(async () => {
  await s.close();
});

const api = (path: string, key = s.key) => call(`${s.url}${path}`, { key });

describe('events read APIs', () => {
  it('GET /v1/events/:messageId returns the SPEC shape; unknown is 404', async () => {
    await call(`${s.url}/v1/events`, { key: s.key, body: ev({ messageId: 'read-1', properties: { p: 1 }, identify: { email: 'r@example.com', traits: { t: 1 } }, timestamp: '2026-01-01T00:00:00Z' }) });
    const r = await api('/v1/events/read-1');
    expect(r.body).toEqual({
      event: {
        messageId: 'read-1',
        event: 'user.signup',
        email: 'r@example.com',
        contactId: null,
        properties: { p: 1 },
        traits: { t: 1 },
        timestamp: '2026-01-01T00:00:00.000Z',
        receivedAt: expect.stringMatching(/Z$/),
        status: 'queued',
      },
      // The event trace (SPEC.md, Workflows): none in this workspace.
      workflows: [],
    });
    const missing = await api('/v1/events/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ statusCode: 404, error: 'Not Found', code: 'NOT_FOUND' });
  });

  it('lists newest event time first, ties by acceptance; pages never repeat or skip among equal timestamps', async () => {
    const ts = '2025-06-01T00:00:00Z';
    const events = Array.from({ length: 25 }, (_, i) => ev({ messageId: `tie-${i}`, event: 'tie', timestamp: ts, identify: { email: `tie${i % 3}@example.com` } }));
    await call(`${s.url}/v1/events/batch`, { key: s.key, body: { events } });
    await call(`${s.url}/v1/events`, { key: s.key, body: ev({ messageId: 'tie-newer', event: 'tie', timestamp: '2025-06-02T00:00:00Z' }) });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: any = await api(`/v1/events?event=tie&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...r.body.events.items.map((e: any) => e.messageId));
      cursor = r.body.events.hasMore ? r.body.events.cursor : null;
    } while (cursor);
    expect(seen).toEqual(['tie-newer', ...Array.from({ length: 25 }, (_, i) => `tie-${24 - i}`)]);
  });

  it('filters: email (normalised), event, since inclusive, until exclusive; limit bounds', async () => {
    const mk = (id: string, t: string, email = 'f@example.com') => ev({ messageId: id, event: 'filter', timestamp: t, identify: { email } });
    await call(`${s.url}/v1/events/batch`, {
      key: s.key,
      body: { events: [mk('f1', '2025-01-01T00:00:00Z'), mk('f2', '2025-01-02T00:00:00Z'), mk('f3', '2025-01-03T00:00:00Z'), mk('f4', '2025-01-02T00:00:00Z', 'g@example.com')] },
    });
    const r = await api('/v1/events?email=F@Example.com&event=filter&since=2025-01-02T00:00:00Z&until=2025-01-03T00:00:00Z');
    expect(r.body.events.items.map((e: any) => e.messageId)).toEqual(['f2']);
    const secs = await api(`/v1/events?event=filter&since=${Date.UTC(2025, 0, 2) / 1000}`);
    expect(secs.body.events.items.map((e: any) => e.messageId)).toEqual(['f3', 'f4', 'f2']);
    expect((await api('/v1/events?limit=1001')).status).toBe(400);
    expect((await api('/v1/events?limit=1000')).status).toBe(200);
    expect((await api('/v1/events?since=tomorrow')).status).toBe(400);
    expect((await api('/v1/events?cursor=%%%')).status).toBe(400);
  });

  it('another workspace sees none of it', async () => {
    const other = await s.createKey('read-other');
    expect((await api('/v1/events/read-1', other)).status).toBe(404);
    expect((await api('/v1/events?limit=1000', other)).body.events.items).toEqual([]);
  });

  it('GET by messageId works for the longest ids, percent-encoded', async () => {
    for (const id of ['m'.repeat(128), '😀'.repeat(128), 'order 12/ü?#%']) {
      expect((await call(`${s.url}/v1/events`, { key: s.key, body: ev({ messageId: id }) })).status).toBe(200);
      const r = await api(`/v1/events/${encodeURIComponent(id)}`);
      expect(r.status, id).toBe(200);
      expect(r.body.event.messageId).toBe(id);
    }
  });

  it('a filter no index serves is tested on a bounded number of rows: pages may be short with hasMore, and following cursors finds every match', async () => {
    // 1,200 newer events of one email, then the one match, oldest: `event` beside `email` is
    // tested on at most 1,000 rows per request (storage/read-bounds.ts).
    const email = 'many@bounded.test';
    await call(`${s.url}/v1/events`, { key: s.key, body: ev({ messageId: 'bounded-rare', event: 'bounded.rare', timestamp: '2024-01-01T00:00:00Z', identify: { email } }) });
    for (let b = 0; b < 6; b++) {
      const events = Array.from({ length: 200 }, (_, i) => ev({ messageId: `bounded-${b}-${i}`, event: 'bounded.common', timestamp: new Date(Date.UTC(2024, 6, 1) + b * 200 + i).toISOString(), identify: { email } }));
      expect((await call(`${s.url}/v1/events/batch`, { key: s.key, body: { events } })).status).toBe(200);
    }
    const pages: { items: { messageId: string }[]; hasMore: boolean; cursor: string | null }[] = [];
    let cursor: string | null = null;
    do {
      const r: any = await api(`/v1/events?email=${email}&event=bounded.rare&limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      pages.push(r.body.events);
      cursor = r.body.events.cursor;
      expect(r.body.events.hasMore).toBe(cursor !== null);
    } while (cursor && pages.length < 20);
    expect(pages.flatMap((p) => p.items.map((e) => e.messageId))).toEqual(['bounded-rare']);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages[0]!.items).toEqual([]);
    expect(pages[0]!.hasMore).toBe(true);
  });

});
