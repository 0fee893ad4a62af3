/**
 * A PostgreSQL that stalls (connections stay open, nothing answers) or whose tables are
 * locked must not make requests hang for the whole stall: they get a JSON 503 within the
 * configured timeouts, /health answers 503 from its own shorter probe, and service resumes
 * by itself when the stall ends. The server reaches PostgreSQL through a TCP proxy that can
 * freeze (src/testing/tcp-proxy.ts).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND } from '../src/testing/test-database.js';
import { call, ev } from '../src/testing/http.js';
import { startTcpProxy, type TcpProxy } from '../src/testing/tcp-proxy.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

const STATEMENT_TIMEOUT_MS = 1000;
const CONNECT_TIMEOUT_MS = 1000;
const HEALTH_TIMEOUT_MS = 500;
/** Scheduling slack on two shared cores. The client-side deadline trails the statement timeout by 500 ms. */
const SLACK_MS = 1000;

describe.skipIf(BACKEND !== 'postgres')('a stalled PostgreSQL', () => {
  let proxy: TcpProxy;
  let s: TestServer;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    s = await startTestServer({
      databaseUrl: (url) => proxy.rewrite(url),
      env: {
        DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
        DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        HEALTH_CHECK_TIMEOUT_MS: String(HEALTH_TIMEOUT_MS),
        RATE_LIMIT_SINGLE_PER_MIN: '100000',
      },
    });
  });
  afterAll(async () => {
    proxy?.thaw();
    await s?.close();
    await proxy?.close();
  });

  const track = (email: string) => call(`${s.url}/v1/events`, { key: s.key, body: ev({ identify: { email, traits: { ok: true } } }), timeoutMs: 15_000 });
  const timed = async <T>(fn: () => Promise<T>): Promise<{ r: T; ms: number }> => {
    const t0 = performance.now();
    const r = await fn();
    return { r, ms: performance.now() - t0 };
  };
  /** Polls until ingest succeeds again; returns how long it took. */
  const untilIngestWorks = async (email: string): Promise<number> => {
    const t0 = performance.now();
    for (;;) {
      const r = await track(email);
      if (r.status === 200) return performance.now() - t0;
      expect(r.status).toBe(503);
      if (performance.now() - t0 > 15_000) throw new Error('ingest did not recover within 15 s');
      await new Promise((res) => setTimeout(res, 50));
    }
  };

  it('frozen connections: ingest, reads and /health answer 503 within their timeouts, then recover by themselves', async () => {
    expect((await track('before@stall.test')).status).toBe(200);
    proxy.freeze();
    try {
      // Concurrent requests: some get an idle pooled connection that no longer answers (the
      // statement deadline), others wait for a new connection that never completes its
      // start-up (the connect timeout).
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => timed(() => (i % 3 === 2 ? call(`${s.url}/v1/contacts?limit=5`, { key: s.key, timeoutMs: 15_000 }) : track(`frozen${i}@stall.test`)))),
      );
      for (const { r, ms } of results) {
        expect(r.status).toBe(503);
        expect(r.body).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE' });
        expect(r.headers.get('retry-after')).toBe('1');
        expect(ms).toBeLessThan(STATEMENT_TIMEOUT_MS + 500 + CONNECT_TIMEOUT_MS + SLACK_MS);
      }
      const health = await timed(() => call(`${s.url}/health`, { timeoutMs: 15_000 }));
      expect(health.r.status).toBe(503);
      expect(health.r.body).toMatchObject({ status: 'unavailable', code: 'SERVICE_UNAVAILABLE' });
      expect(health.ms).toBeLessThan(HEALTH_TIMEOUT_MS + SLACK_MS);
    } finally {
      proxy.thaw();
    }
    await untilIngestWorks('after@stall.test');
    expect((await call(`${s.url}/health`, { timeoutMs: 15_000 })).status).toBe(200);
    await s.drain();
    const c = await call(`${s.url}/v1/contacts/search?email=after@stall.test`, { key: s.key, timeoutMs: 15_000 });
    expect(c.body.contact.properties).toMatchObject({ ok: true });
  });

  it('a table locked by another session: the server cancels the statement (503), /health stays 200, ingest resumes on unlock', async () => {
    const locker = new pg.Client({ connectionString: s.databaseUrl });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
      const { r, ms } = await timed(() => track('locked@stall.test'));
      expect(r.status).toBe(503);
      expect(r.body.code).toBe('SERVICE_UNAVAILABLE');
      expect(ms).toBeLessThan(STATEMENT_TIMEOUT_MS + SLACK_MS);
      // The database itself answers: healthy, though one table is locked.
      expect((await call(`${s.url}/health`, { timeoutMs: 15_000 })).status).toBe(200);
      await locker.query('ROLLBACK');
    } finally {
      await locker.end();
    }
    await untilIngestWorks('unlocked@stall.test');
  });
});
