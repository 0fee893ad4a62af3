import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ev } from '../src/testing/http.js';
import { USES_REDIS } from '../src/testing/test-database.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

/** Sends `n` requests, `concurrency` at a time; returns the responses in order. */
async function many<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

describe('rate limits (defaults: 1,000 single, 50 batch per workspace per minute)', () => {
  it('the 1,001st single call in a minute is a 429 and is not stored', async () => {
    const key = await s.createKey('rl-single');
    const rs = await many(1000, 20, (i) => call(`${s.url}/v1/events`, { key, body: ev({ messageId: `rl-${i}` }) }));
    expect(rs.every((r) => r.status === 200)).toBe(true);
    expect(rs[0]!.headers.get('x-ratelimit-limit')).toBe('1000');
    const remaining = rs.map((r) => Number(r.headers.get('x-ratelimit-remaining'))).sort((a, b) => a - b);
    expect(remaining[0]).toBe(0);
    expect(remaining[999]).toBe(999);
    const refused = await call(`${s.url}/v1/events`, { key, body: ev({ messageId: 'rl-1000' }) });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ statusCode: 429, error: 'Too Many Requests', message: 'Rate limit exceeded. Please retry after 60 seconds.', code: 'RATE_LIMITED' });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(refused.headers.get('x-ratelimit-reset'))).toBe(retryAfter);
    // Not stored: look it up from another bucket (reads have their own limit).
    expect((await call(`${s.url}/v1/events/rl-1000`, { key })).status).toBe(404);
    expect((await call(`${s.url}/v1/events/rl-999`, { key })).status).toBe(200);
    // Other workspaces and other buckets are unaffected.
    expect((await call(`${s.url}/v1/events`, { key: s.key, body: ev({ messageId: 'rl-other' }) })).status).toBe(200);
    expect((await call(`${s.url}/v1/events/batch`, { key, body: { events: [ev({ messageId: 'rl-batch' })] } })).status).toBe(200);
    const m = await call(`${s.url}/metrics`);
    expect(m.text).toMatch(/smashsend_rate_limit_refusals_total\{bucket="single"\} 1/);
  });

  it('the 51st batch call is a 429; invalid requests count too; 401s count for nobody', async () => {
    const key = await s.createKey('rl-batch');
    for (let i = 0; i < 5; i++) expect((await call(`${s.url}/v1/events/batch`, { key: `${key}x`, body: { events: [ev()] } })).status).toBe(401);
    const rs = await many(50, 10, (i) => call(`${s.url}/v1/events/batch`, { key, body: i % 2 ? { events: 'bad' } : { events: [ev({ messageId: `b-${i}` })] } }));
    expect(rs.filter((r) => r.status === 429)).toHaveLength(0);
    const r = await call(`${s.url}/v1/events/batch`, { key, body: { events: [ev({ messageId: 'b-50' })] } });
    expect(r.status).toBe(429);
    expect(r.headers.get('x-ratelimit-limit')).toBe('50');
    expect(r.headers.get('retry-after')).toBeTruthy();
  });

  it('every authenticated response carries the X-RateLimit headers, reads included', async () => {
    const r = await call(`${s.url}/v1/contacts`, { key: s.key });
    expect(r.headers.get('x-ratelimit-limit')).toBe('6000');
    expect(Number(r.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
    const bad = await call(`${s.url}/v1/events`, { key: s.key, body: ev({ event: '' }) });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-ratelimit-remaining')).not.toBeNull();
  });
});

describe('rate limit window', () => {
  // The window is the server clock's; with Redis it is Redis's own TTL (redis-rate-limit.test.ts).
  it.skipIf(USES_REDIS)('resets a minute after the window opened', async () => {
    let now = Date.UTC(2026, 5, 1);
    const t = await startTestServer({ clock: () => now, env: { RATE_LIMIT_SINGLE_PER_MIN: '2' } });
    try {
      const send = () => call(`${t.url}/v1/events`, { key: t.key, body: ev({ messageId: `w-${now}-${Math.random()}` }) });
      expect((await send()).status).toBe(200);
      now += 30_000;
      expect((await send()).status).toBe(200);
      const r = await send();
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('30');
      now += 30_000;
      expect((await send()).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
