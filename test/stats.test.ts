/** GET /v1/stats/events: per-minute counters kept at ingest equal what was stored, duplicates and rejections included. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});
const flush = () => (s.server as unknown as { flushActivity: () => Promise<void> }).flushActivity();

describe('GET /v1/stats/events', () => {
  it('counts equal the events stored per minute after a mixed load with duplicates and rejections', async () => {
    const t0 = Date.now();
    let duplicates = 0;
    let rejected = 0;
    for (let i = 0; i < 30; i++) {
      const r = await call(`${s.url}/v1/events`, { key: s.key, body: ev({ event: i % 3 ? 'page.view' : 'user.signup', messageId: `m-${i % 20}`, identify: { email: `u${i}@example.com` } }) });
      expect(r.status).toBe(200);
      if (r.body.duplicate) duplicates++;
    }
    for (let i = 0; i < 5; i++) {
      expect((await call(`${s.url}/v1/events`, { key: s.key, body: ev({ identify: { email: 'not-an-email' } }) })).status).toBe(400);
      rejected++;
    }
    const batch = await call(`${s.url}/v1/events/batch`, {
      key: s.key,
      body: { events: [ev({ event: 'page.view', messageId: 'b-1' }), ev({ event: 'page.view', messageId: 'm-1' }), ev({ event: 'bad name!' }), ev({ event: 'page.view', messageId: 'b-2' })] },
    });
    expect(batch.status).toBe(207);
    duplicates += batch.body.duplicated;
    rejected += batch.body.failed;
    await flush();

    const stored = (await s.store.events.list({ workspaceId: (await s.store.keys.ensureWorkspace('default', 0)).id, limit: 1000 })).items;
    const perMinute = new Map<number, number>();
    for (const e of stored) perMinute.set(e.receivedAt - (e.receivedAt % 60_000), (perMinute.get(e.receivedAt - (e.receivedAt % 60_000)) ?? 0) + 1);

    const r = await call(`${s.url}/v1/stats/events?interval=minute&since=${t0 - 120_000}`, { key: s.key });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-ratelimit-limit')).toBeTruthy();
    const series = r.body.series as { t: string; accepted: number; duplicate: number; rejected: number }[];
    for (const p of series) expect(p.accepted, p.t).toBe(perMinute.get(Date.parse(p.t)) ?? 0);
    const sum = (k: 'accepted' | 'duplicate' | 'rejected') => series.reduce((n, p) => n + p[k], 0);
    expect(sum('accepted')).toBe(stored.length);
    expect(sum('duplicate')).toBe(duplicates);
    expect(sum('rejected')).toBe(rejected);
    expect(duplicates).toBe(11);
    expect(stored.length).toBe(22);

    const signups = await call(`${s.url}/v1/stats/events?event=user.signup&since=${t0 - 120_000}`, { key: s.key });
    expect(signups.body.series.reduce((n: number, p: { accepted: number }) => n + p.accepted, 0)).toBe(stored.filter((e) => e.event === 'user.signup').length);
    const hourly = await call(`${s.url}/v1/stats/events?interval=hour&since=${t0 - 3_600_000}`, { key: s.key });
    expect(hourly.body.series.reduce((n: number, p: { accepted: number }) => n + p.accepted, 0)).toBe(stored.length);
  });

  it('counts the events taken by the Segment-compatible paths, duplicates included', async () => {
    const key = await s.createKey('stats-segment');
    const auth = { authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` };
    for (let i = 0; i < 2; i++) {
      const r = await call(`${s.url}/v1/track`, { headers: auth, body: { userId: 'seg@example.com', event: 'Order Completed', messageId: 'seg-1' } });
      expect(r.status).toBe(200);
    }
    await flush();
    const r = await call(`${s.url}/v1/stats/events?event=Order_Completed`, { key });
    const sum = (k: 'accepted' | 'duplicate') => r.body.series.reduce((n: number, p: Record<string, number>) => n + p[k]!, 0);
    expect([sum('accepted'), sum('duplicate')]).toEqual([1, 1]);
  });

  it('sees only its own workspace, and refuses bad parameters', async () => {
    const other = await s.createKey('stats-other');
    const r = await call(`${s.url}/v1/stats/events`, { key: other });
    expect(r.status).toBe(200);
    expect(r.body.series).toHaveLength(60);
    expect(r.body.series.every((p: { accepted: number; rejected: number }) => p.accepted === 0 && p.rejected === 0)).toBe(true);
    expect((await call(`${s.url}/v1/stats/events?interval=week`, { key: s.key })).body.code).toBe('INVALID_QUERY');
    expect((await call(`${s.url}/v1/stats/events?since=2020-01-01T00:00:00Z`, { key: s.key })).body.code).toBe('INVALID_QUERY');
    expect((await call(`${s.url}/v1/stats/events`)).status).toBe(401);
  });
});
