/**
 * Issue #15 item 2: memory bounded in bytes. Bodies that do not arrive in time are a 408
 * (REQUEST_BODY_TIMEOUT_MS); bytes of bodies in flight are capped (MAX_PENDING_BYTES), decided
 * from Content-Length before buffering and counted as they arrive for chunked bodies; batch
 * bodies in flight are capped (MAX_CONCURRENT_BATCHES). RSS under the attack is measured by
 * the benchmark's backpressure phase, not here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ev } from '../src/testing/http.js';
import { openRaw } from '../src/testing/raw-http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
let host: string;

const BUDGET = 200_000;

beforeAll(async () => {
  s = await startTestServer({
    env: {
      REQUEST_BODY_TIMEOUT_MS: '800',
      MAX_PENDING_BYTES: String(BUDGET),
      MAX_CONCURRENT_BATCHES: '2',
      RATE_LIMIT_SINGLE_PER_MIN: '100000',
      RATE_LIMIT_BATCH_PER_MIN: '100000',
    },
  });
  host = new URL(s.url).host;
});
afterAll(async () => {
  await s.close();
});

/** A batch body of about `bytes` bytes (events padded with one property). */
function batchOf(bytes: number, tag: string): string {
  const events = [];
  const per = 20_000;
  for (let i = 0; i * per < bytes; i++) events.push(ev({ messageId: `${tag}-${i}`, properties: { pad: 'p'.repeat(900).repeat(1), list: Array(19).fill('x'.repeat(900)) } }));
  return JSON.stringify({ events });
}

const head = (path: string, extra: string) =>
  `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${s.key}\r\nContent-Type: application/json\r\n${extra}\r\n`;

describe('REQUEST_BODY_TIMEOUT_MS', () => {
  it('a body that stalls is answered 408 JSON with its request id, and the connection is dropped', async () => {
    const body = JSON.stringify(ev());
    const r = await openRaw(s.url, head('/v1/events', `Content-Length: ${body.length}\r\nX-Request-Id: slow-body-1\r\n`) + body.slice(0, 5));
    const res = await r.response(5000);
    r.close();
    expect(res.status, res.text).toBe(408);
    expect(res.headers['content-type']).toContain('application/json');
    expect(res.body).toEqual({ statusCode: 408, error: 'Request Timeout', message: 'Request was not fully received within 800 ms', code: 'REQUEST_TIMEOUT' });
    expect(res.headers['x-request-id']).toBe('slow-body-1');
    expect(res.closed).toBe(true);
  });

  it('headers that never end are a 408 too', async () => {
    const r = await openRaw(s.url, `GET /health HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `);
    const res = await r.response(5000);
    r.close();
    expect(res.status).toBe(408);
    expect(res.body).toMatchObject({ code: 'REQUEST_TIMEOUT' });
    expect(res.closed).toBe(true);
  });
});

describe('MAX_PENDING_BYTES', () => {
  it('refuses a declared body that would overflow the budget before reading it (503 + Retry-After), then admits it once the budget frees', async () => {
    const holder = batchOf(150_000, 'hold');
    expect(holder.length).toBeGreaterThan(140_000);
    expect(holder.length).toBeLessThan(BUDGET);
    const a = await openRaw(s.url, head('/v1/events/batch', `Content-Length: ${holder.length}\r\n`) + holder.slice(0, 1000));
    await new Promise((r) => setTimeout(r, 100));

    const other = batchOf(100_000, 'other');
    const b = await openRaw(s.url, head('/v1/events/batch', `Content-Length: ${other.length}\r\n`)); // headers only
    const refused = await b.response(3000);
    b.close();
    expect(refused.status, refused.text).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: 'Server is busy receiving other requests (MAX_PENDING_BYTES), please retry' });

    a.write(holder.slice(1000));
    const held = await a.response(3000);
    a.close();
    expect(held.status, held.text).toBe(200);

    const again = await openRaw(s.url, head('/v1/events/batch', `Content-Length: ${other.length}\r\n`) + other);
    const admitted = await again.response(3000);
    again.close();
    expect(admitted.status).toBe(200);
  });

  it('a chunked body is counted as it arrives and cut at the budget', async () => {
    const holder = batchOf(150_000, 'hold2');
    const a = await openRaw(s.url, head('/v1/events/batch', `Content-Length: ${holder.length}\r\n`) + holder.slice(0, 10));
    await new Promise((r) => setTimeout(r, 100));
    const c = await openRaw(s.url, head('/v1/events/batch', 'Transfer-Encoding: chunked\r\n'));
    const chunk = 'x'.repeat(30_000);
    c.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    c.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    const cut = await c.response(3000);
    c.close();
    expect(cut.status, cut.text).toBe(503);
    expect(cut.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(cut.closed).toBe(true);
    a.write(holder.slice(10));
    expect((await a.response(3000)).status).toBe(200);
    a.close();
  });

  it('a body alone in flight is admitted even when it is larger than the budget', async () => {
    const big = batchOf(260_000, 'alone');
    expect(big.length).toBeGreaterThan(BUDGET);
    const r = await openRaw(s.url, head('/v1/events/batch', `Content-Length: ${big.length}\r\n`) + big);
    const res = await r.response(3000);
    r.close();
    expect(res.status).toBe(200);
  });

  it('a client refused early that then stalls gets no second response (the 503 stands)', async () => {
    const holder = batchOf(150_000, 'hold3');
    const a = await openRaw(s.url, head('/v1/events/batch', `Content-Length: ${holder.length}\r\n`) + holder.slice(0, 10));
    await new Promise((r) => setTimeout(r, 100));
    const b = await openRaw(s.url, head('/v1/events/batch', 'Content-Length: 100000\r\n') + '{"events":[');
    // Past the body timeout: the connection is closed, with the 503 as its only response.
    await new Promise((r) => setTimeout(r, 2500));
    const res = await b.response(1000);
    b.close();
    a.close();
    expect(res.status).toBe(503);
    expect(res.text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });
});

describe('MAX_CONCURRENT_BATCHES', () => {
  it('a third batch in flight is refused with 503 while single events still flow', async () => {
    const small = JSON.stringify({ events: [ev({ messageId: 'cc-1' })] });
    const held = [];
    for (let i = 0; i < 2; i++) held.push(await openRaw(s.url, head('/v1/events/batch', `Content-Length: ${small.length}\r\n`) + small.slice(0, 5)));
    await new Promise((r) => setTimeout(r, 100));
    const third = await openRaw(s.url, head('/v1/events/batch', `Content-Length: ${small.length}\r\n`) + small);
    const res = await third.response(3000);
    third.close();
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: 'Server is busy receiving other requests (MAX_CONCURRENT_BATCHES), please retry' });
    expect(res.headers['retry-after']).toBe('1');

    const single = JSON.stringify(ev({ messageId: 'cc-single' }));
    const one = await openRaw(s.url, head('/v1/events', `Content-Length: ${single.length}\r\n`) + single);
    expect((await one.response(3000)).status).toBe(200);
    one.close();
    for (const h of held) h.close();
  });
});

describe('stalled bodies holding the budget', () => {
  it('are cut (408) when they block others, so the refused client gets in on its retry', async () => {
    const t = await startTestServer({ env: { MAX_PENDING_BYTES: String(BUDGET), RATE_LIMIT_BATCH_PER_MIN: '100000' } });
    try {
      const tHost = new URL(t.url).host;
      const h = (len: number) =>
        `POST /v1/events/batch HTTP/1.1\r\nHost: ${tHost}\r\nAuthorization: Bearer ${t.key}\r\nContent-Type: application/json\r\nContent-Length: ${len}\r\nX-Request-Id: squatter\r\n\r\n`;
      const squatter = await openRaw(t.url, h(190_000) + '{"events":[');
      await new Promise((r) => setTimeout(r, 2600)); // stalled for longer than STALL_MS (2 s)
      const body = batchOf(50_000, 'after-squat');
      const first = await openRaw(t.url, h(body.length) + body);
      expect((await first.response(3000)).status).toBe(503); // refused, and the squatter is cut
      first.close();
      const cut = await squatter.response(3000);
      squatter.close();
      expect(cut.status, cut.text).toBe(408);
      expect(cut.body).toMatchObject({ code: 'REQUEST_TIMEOUT', message: 'Request body stalled while the server was busy receiving other requests' });
      expect(cut.headers['x-request-id']).toBe('squatter');
      const retry = await openRaw(t.url, h(body.length) + body);
      expect((await retry.response(3000)).status).toBe(200);
      retry.close();
    } finally {
      await t.close();
    }
  });
});
