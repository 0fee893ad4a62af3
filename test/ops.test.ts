import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ev } from '../src/testing/http.js';
import { BACKEND } from '../src/testing/test-database.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

describe('operations and HTTP edges', () => {
  it('GET /health answers without a key', async () => {
    const r = await call(`${s.url}/health`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
  });

  it('GET /metrics exposes the Prometheus series', async () => {
    await call(`${s.url}/v1/events`, { key: s.key, body: ev({ messageId: 'metrics-1' }) });
    await call(`${s.url}/v1/events`, { key: s.key, body: ev({ messageId: 'metrics-1' }) });
    await call(`${s.url}/v1/events`, { key: s.key, body: ev({ event: '' }) });
    const r = await call(`${s.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    expect(r.text).toMatch(/smashsend_events_accepted_total\{endpoint="single"\} 1/);
    expect(r.text).toMatch(/smashsend_events_duplicate_total\{endpoint="single"\} 1/);
    expect(r.text).toMatch(/smashsend_events_rejected_total\{endpoint="single"\} 1/);
    expect(r.text).toMatch(/smashsend_http_request_duration_seconds_bucket\{.*route="\/v1\/events"/);
    expect(r.text).toMatch(/smashsend_queue_depth 1/);
    expect(r.text).toMatch(/smashsend_queue_lag_seconds \d/);
  });

  it('/metrics fits dashboards: labelled counters start at 0, Node metrics keep their standard names, build info', async () => {
    const t = await startTestServer();
    try {
      const text = (await call(`${t.url}/metrics`)).text;
      for (const endpoint of ['single', 'batch']) {
        for (const name of ['accepted', 'duplicate', 'rejected']) {
          expect(text, `${name} ${endpoint}`).toContain(`smashsend_events_${name}_total{endpoint="${endpoint}"} 0`);
        }
      }
      for (const bucket of ['single', 'batch', 'api']) expect(text).toContain(`smashsend_rate_limit_refusals_total{bucket="${bucket}"} 0`);
      for (const outcome of ['retry', 'failed']) expect(text).toContain(`smashsend_processing_failures_total{outcome="${outcome}"} 0`);
      // Validation refusals are "rejected"; "failed" is for processing.
      expect(text).not.toContain('smashsend_events_failed_total');
      expect(text).toMatch(/^process_cpu_user_seconds_total /m);
      expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
      expect(text).not.toMatch(/smashsend_(process|nodejs)_/);
      const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
      expect(text).toContain(`smashsend_build_info{version="${version}"} 1`);
    } finally {
      await t.close();
    }
  });

  it('unknown paths are JSON 404s, with or without a key', async () => {
    for (const key of [null, s.key]) {
      const r = await call(`${s.url}/v2/nothing`, { key });
      expect(r.status).toBe(404);
      expect(r.headers.get('content-type')).toContain('application/json');
      expect(r.body).toMatchObject({ statusCode: 404, error: 'Not Found', code: 'NOT_FOUND' });
    }
  });

  it('a known path with the wrong method is a JSON 405', async () => {
    for (const [method, path] of [['GET', '/v1/events/batch'], ['DELETE', '/v1/events'], ['PATCH', '/v1/contacts/abc'], ['POST', '/health']]) {
      const r = await call(`${s.url}${path}`, { method, key: s.key });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.body).toMatchObject({ statusCode: 405, error: 'Method Not Allowed', code: 'METHOD_NOT_ALLOWED' });
      expect(r.headers.get('allow')).toBeTruthy();
    }
  });

  it('x-request-id on every response: the client one when safe, else a new one', async () => {
    const mine = await call(`${s.url}/v1/events`, { key: s.key, body: ev(), headers: { 'x-request-id': 'req-123.abc:Z_' } });
    expect(mine.headers.get('x-request-id')).toBe('req-123.abc:Z_');
    const unsafe = await call(`${s.url}/health`, { headers: { 'x-request-id': 'bad id <script>' } });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const a = await call(`${s.url}/nope`);
    const b = await call(`${s.url}/v1/events`, { key: 'sk_live_bad', body: ev() });
    expect(a.headers.get('x-request-id')).toBeTruthy();
    expect(b.headers.get('x-request-id')).toBeTruthy();
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
    const long = await call(`${s.url}/health`, { headers: { 'x-request-id': 'x'.repeat(129) } });
    expect(long.headers.get('x-request-id')).not.toBe('x'.repeat(129));
  });

  it.skipIf(BACKEND !== 'sqlite')('a store failure is a JSON 503, never a false 200, and health says so', async () => {
    const t = await startTestServer({ env: { SQLITE_BUSY_TIMEOUT_MS: '0' } });
    try {
      // Hold SQLite's write lock from another connection longer than the server waits for it.
      const Database = (await import('better-sqlite3')).default;
      const path = t.databaseUrl.slice('sqlite:'.length);
      const other = new Database(path);
      other.exec('BEGIN IMMEDIATE');
      const r = await call(`${t.url}/v1/events`, { key: t.key, body: ev({ messageId: 'during-lock' }) });
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', code: 'SERVICE_UNAVAILABLE' });
      other.exec('ROLLBACK');
      other.close();
      const again = await call(`${t.url}/v1/events`, { key: t.key, body: ev({ messageId: 'during-lock' }) });
      expect(again.status).toBe(200);
      expect(again.body.duplicate).toBeUndefined();
    } finally {
      await t.close();
    }
  });

  it('backpressure: when the store falls behind, ingest answers 503 + Retry-After and memory stays bounded', async () => {
    // The 20 requests must all arrive while the first 5 are still held: 300 ms was not always
    // enough with the whole suite running on two shared cores (seen on Node 22: 6 accepted).
    const t = await startTestServer({ env: { MAX_PENDING_EVENTS: '5', DEBUG_APPEND_DELAY_MS: '1500', RATE_LIMIT_SINGLE_PER_MIN: '100000' } });
    try {
      const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => call(`${t.url}/v1/events`, { key: t.key, body: ev({ messageId: `bp-${i}` }) })));
      const ok = rs.filter((r) => r.status === 200).length;
      const busy = rs.filter((r) => r.status === 503);
      expect(ok).toBe(5);
      expect(busy).toHaveLength(15);
      expect(busy[0]!.headers.get('retry-after')).toBe('1');
      expect(busy[0]!.body).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE' });
      let stored = 0;
      for (let i = 0; i < 20; i++) if ((await call(`${t.url}/v1/events/bp-${i}`, { key: t.key })).status === 200) stored++;
      expect(stored).toBe(5);
      expect((await call(`${t.url}/metrics`)).text).toMatch(/smashsend_ingest_backpressure_total 15/);
    } finally {
      await t.close();
    }
  });

  it('malformed URLs and repeated query parameters are JSON 400s, not 500s', async () => {
    for (const path of ['/v1/events/%E0%A4%A', '/v1/contacts/by-email/%ZZ']) {
      const r = await call(`${s.url}${path}`, { key: s.key, method: path.includes('by-email') ? 'DELETE' : 'GET' });
      expect(r.status, path).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'INVALID_URL' });
      expect(r.headers.get('x-request-id')).toBeTruthy();
    }
    for (const path of [
      '/v1/events?email=a@b.co&email=c@d.co',
      '/v1/events?event=a&event=b',
      '/v1/contacts?search=a&search=b',
      '/v1/contacts/search?email=a@b.co&email=x@y.co',
      '/v1/events?limit=1&limit=2',
    ]) {
      const r = await call(`${s.url}${path}`, { key: s.key });
      expect(r.status, path).toBe(400);
      expect(r.body.code, path).toBe('INVALID_QUERY');
    }
    expect((await call(`${s.url}/health`)).status).toBe(200);
  });
});
