/**
 * REDIS_URL: the rate limit is one counter shared by every API process; when Redis is
 * unreachable each process falls back to its own counters (documented choice: fail open),
 * logs it and counts it in metrics.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeServer } from '../src/cli/compose.js';
import type { BuiltServer } from '../src/http/build-server.js';
import { call, ev } from '../src/testing/http.js';
import { REDIS_URL } from '../src/testing/test-database.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

describe('rate limits in Redis', () => {
  let a: TestServer;
  let b: BuiltServer;
  let bUrl: string;

  beforeAll(async () => {
    a = await startTestServer({ env: { REDIS_URL, RATE_LIMIT_SINGLE_PER_MIN: '10' } });
    // A second API process on the same store and the same Redis.
    b = await composeServer({ config: a.config, store: a.store, log: pino({ level: 'silent' }) });
    bUrl = await b.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('two API processes share one limit exactly', async () => {
    const key = await a.createKey(`shared-${Date.now()}`);
    const rs = await Promise.all(
      Array.from({ length: 14 }, (_, i) => call(`${i % 2 ? bUrl : a.url}/v1/events`, { key, body: ev({ messageId: `sh-${i}` }) })),
    );
    expect(rs.filter((r) => r.status === 200)).toHaveLength(10);
    const refused = rs.filter((r) => r.status === 429);
    expect(refused).toHaveLength(4);
    const retryAfter = Number(refused[0]!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });
});

describe('Redis unreachable', () => {
  it('falls back to per-process counters, keeps serving, and counts it', async () => {
    const t = await startTestServer({ env: { REDIS_URL: 'redis://127.0.0.1:6399', RATE_LIMIT_SINGLE_PER_MIN: '3' } });
    try {
      const rs = [];
      for (let i = 0; i < 4; i++) rs.push(await call(`${t.url}/v1/events`, { key: t.key, body: ev({ messageId: `down-${i}` }) }));
      expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 429]);
      const m = await call(`${t.url}/metrics`);
      const n = Number(/smashsend_rate_limit_backend_errors_total (\d+)/.exec(m.text)?.[1]);
      expect(n).toBeGreaterThanOrEqual(4);
    } finally {
      await t.close();
    }
  });
});
