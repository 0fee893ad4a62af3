/**
 * Issue #15 items 9, 10, 11, 12, 13: answers node:http or Fastify would write themselves,
 * bodies that are not valid UTF-8 or hold lone surrogates, integers beyond 2^53,
 * Content-Encoding, and over-long path parameters. Raw sockets where fetch cannot send it.
 */
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ev } from '../src/testing/http.js';
import { openRaw, rawRequest, type RawResponse } from '../src/testing/raw-http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
let host: string;

beforeAll(async () => {
  s = await startTestServer({ env: { RATE_LIMIT_SINGLE_PER_MIN: '100000', RATE_LIMIT_BATCH_PER_MIN: '100000' } });
  host = new URL(s.url).host;
});
afterAll(async () => {
  await s.close();
});

function expectJsonError(r: RawResponse, status: number, code: string) {
  expect(r.status, r.text).toBe(status);
  expect(r.headers['content-type']).toContain('application/json');
  expect(r.body).toMatchObject({ statusCode: status, code });
  expect(typeof r.body.message).toBe('string');
  expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
}

const post = (path: string, raw: string | Buffer, headers: Record<string, string> = {}) =>
  call(`${s.url}${path}`, { method: 'POST', key: s.key, raw, headers: { 'content-type': 'application/json', ...headers } });

describe('responses node:http and Fastify would write themselves', () => {
  it('a request line that is not HTTP is a JSON 400 INVALID_REQUEST, and the connection is closed', async () => {
    const r = await rawRequest(s.url, 'HELLO THERE\r\n\r\n');
    expectJsonError(r, 400, 'INVALID_REQUEST');
    expect(r.closed).toBe(true);
    expectJsonError(await rawRequest(s.url, `GET /health HTTP/9.9\r\nHost: ${host}\r\n\r\n`), 400, 'INVALID_REQUEST');
  });

  it('headers over the limit are a JSON 431 HEADERS_TOO_LARGE', async () => {
    const r = await rawRequest(s.url, `GET /health HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expectJsonError(r, 431, 'HEADERS_TOO_LARGE');
  });

  it('HTTP/1.1 without Host is a JSON 400 with x-request-id (HTTP/1.0 needs none)', async () => {
    const r = await rawRequest(s.url, 'GET /health HTTP/1.1\r\n\r\n');
    expectJsonError(r, 400, 'INVALID_REQUEST');
    expect(r.body.message).toContain('Host');
    const old = await rawRequest(s.url, 'GET /health HTTP/1.0\r\n\r\n');
    expect(old.status).toBe(200);
  });

  it('CONNECT is a JSON 405, not a dropped connection', async () => {
    const r = await rawRequest(s.url, `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`);
    expectJsonError(r, 405, 'METHOD_NOT_ALLOWED');
  });

  it('TRACE, PROPFIND, PURGE…: 405 on a known path (with Allow), 404 elsewhere', async () => {
    for (const [method, path] of [['TRACE', '/v1/events'], ['PROPFIND', '/v1/events/batch'], ['PURGE', '/health'], ['SEARCH', '/v1/contacts'], ['OPTIONS', '/v1/events']]) {
      const r = await rawRequest(s.url, `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.body).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
      expect(r.headers.allow).toBeTruthy();
    }
    const unknown = await rawRequest(s.url, `TRACE /v2/nothing HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a 404 is answered before the body is read', async () => {
    const r = await openRaw(s.url, `POST /v2/nothing HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{`);
    const res = await r.response(3000);
    r.close();
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a 405 is answered before the body is read', async () => {
    const r = await openRaw(s.url, `PUT /v1/events HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{`);
    const res = await r.response(3000);
    r.close();
    expect(res.status).toBe(405);
  });

  it('a request arriving on a kept-alive connection while the server closes is a JSON 503 with code and x-request-id', async () => {
    const t = await startTestServer();
    const tHost = new URL(t.url).host;
    const body = JSON.stringify(ev({ messageId: 'during-close' }));
    // Request 1 is in flight (half its body sent) when close() begins; request 2 follows on the same connection.
    const conn = await openRaw(
      t.url,
      `POST /v1/events HTTP/1.1\r\nHost: ${tHost}\r\nAuthorization: Bearer ${t.key}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    await new Promise((r) => setTimeout(r, 100));
    const closing = t.close();
    await new Promise((r) => setTimeout(r, 100));
    conn.write(`${body.slice(10)}GET /health HTTP/1.1\r\nHost: ${tHost}\r\n\r\n`);
    const res = await conn.response(5000);
    conn.close();
    await closing;
    const second = res.text.slice(res.text.indexOf('HTTP/1.1', 10));
    expect(res.status).toBe(200);
    const { parseRaw } = await import('../src/testing/raw-http.js');
    const r2 = parseRaw(second);
    expect(r2.status, res.text).toBe(503);
    expect(r2.body).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE', message: 'Server is shutting down, please retry' });
    expect(r2.headers['x-request-id']).toBeTruthy();
    expect(r2.headers['retry-after']).toBe('1');
  });
});

describe('invalid UTF-8 and lone surrogates', () => {
  it('a body that is not valid UTF-8 is a 400 INVALID_JSON, not silently replaced by U+FFFD', async () => {
    const head = Buffer.from('{"event":"utf8.bad","identify":{"email":"u@example.com"},"properties":{"name":"caf');
    const r = await post('/v1/events', Buffer.concat([head, Buffer.from([0xe9]), Buffer.from('"}}')]));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'INVALID_JSON', message: 'Request body is not valid JSON: it is not valid UTF-8' });
    // Valid UTF-8 (é as C3 A9) is fine.
    const ok = await post('/v1/events', Buffer.concat([head, Buffer.from('é"}}')]));
    expect(ok.status).toBe(200);
  });

  it('messageIds with distinct lone surrogates are refused, so they cannot collide as one', async () => {
    for (const id of ['dup\\ud800', 'dup\\ud801', '\\udc00x']) {
      const r = await post('/v1/events', `{"event":"s.id","identify":{"email":"u@example.com"},"messageId":"${id}"}`);
      expect(r.status, id).toBe(400);
      expect(r.body.code).toBe('INVALID_MESSAGE_ID');
    }
    // A surrogate pair (an emoji) is a valid character.
    expect((await post('/v1/events', '{"event":"s.id","identify":{"email":"u@example.com"},"messageId":"ok-\\ud83d\\ude00"}')).status).toBe(200);
  });

  it('emails with lone surrogates are refused, so distinct ones never merge into one contact', async () => {
    const r = await post('/v1/events', '{"event":"s.email","identify":{"email":"a\\ud800@example.com"}}');
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('INVALID_EMAIL');
    const batch = await post('/v1/events/batch', '{"events":[{"event":"s.email","identify":{"email":"a\\ud801@example.com"}},{"event":"s.e\\ud800","identify":{"email":"b@example.com"}}]}');
    expect(batch.status).toBe(400);
    expect(batch.body.errors.map((e: any) => e.errors[0].code)).toEqual(['INVALID_EMAIL', 'INVALID_EVENT_NAME']);
    const contact = await call(`${s.url}/v1/contacts`, { key: s.key, body: { properties: { email: 'c\ud800@example.com' } } });
    expect(contact.status).toBe(400);
    expect(contact.body.code).toBe('INVALID_EMAIL');
  });
});

describe('integers beyond 2^53', () => {
  it('are a 400 naming the field, never rounded so that distinct events dedup as one', async () => {
    const body = (n: string) => `{"event":"order.placed","identify":{"email":"big@example.com"},"properties":{"orderId":${n}}}`;
    for (const n of ['12345678901234567891', '12345678901234567892', '-9007199254740993', '9007199254740992']) {
      const r = await post('/v1/events', body(n));
      expect(r.status, n).toBe(400);
      expect(r.body.code).toBe('INVALID_PROPERTIES');
      expect(r.body.message).toBe('Properties cannot hold an integer beyond 2^53 exactly ("orderId"): send such numbers as strings');
    }
    const traits = await post('/v1/events', '{"event":"x","identify":{"email":"big@example.com","traits":{"ids":[1,99999999999999999999]}}}');
    expect(traits.body.code).toBe('INVALID_TRAITS');
    const batch = await post('/v1/events/batch', `{"events":[${body('1')},${body('123456789012345678901234567890')}]}`);
    expect(batch.status).toBe(207);
    expect(batch.body.errors).toEqual([{ index: 1, errors: [{ code: 'INVALID_PROPERTIES', message: expect.stringContaining('2^53') }] }]);
  });

  it('the largest exact integer is kept to the digit', async () => {
    const r = await post('/v1/events', '{"event":"order.placed","identify":{"email":"big@example.com"},"properties":{"orderId":9007199254740991,"neg":-9007199254740991}}');
    expect(r.status).toBe(200);
    const stored = await call(`${s.url}/v1/events/${r.body.messageId}`, { key: s.key });
    expect(stored.text).toContain('"orderId":9007199254740991');
  });
});

describe('Content-Encoding', () => {
  const batchJson = JSON.stringify({ events: [ev({ messageId: 'gz-1' }), ev({ messageId: 'gz-2' })] });

  it('gzip and deflate bodies are decoded', async () => {
    const g = await post('/v1/events/batch', gzipSync(batchJson), { 'content-encoding': 'gzip' });
    expect(g.status, g.text).toBe(200);
    expect(g.body.accepted).toBe(2);
    const d = await post('/v1/events', deflateSync(JSON.stringify(ev({ messageId: 'df-1' }))), { 'content-encoding': 'deflate' });
    expect(d.status, d.text).toBe(200);
    expect((await call(`${s.url}/v1/events/df-1`, { key: s.key })).status).toBe(200);
  });

  it('other encodings are a 415, corrupt data a 400 INVALID_BODY: never "not valid JSON"', async () => {
    const br = await post('/v1/events', Buffer.from('whatever'), { 'content-encoding': 'br' });
    expect(br.status).toBe(415);
    expect(br.body).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(br.body.message).toContain('Content-Encoding');
    const corrupt = await post('/v1/events', Buffer.from('definitely not gzip'), { 'content-encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(corrupt.body).toMatchObject({ code: 'INVALID_BODY', message: 'Request body is not valid gzip data' });
  });

  it('a zip bomb is a 413 at the decoded limit, on either endpoint', async () => {
    // 200 MB of JSON in ~200 KB of gzip.
    const bomb = gzipSync(Buffer.concat([Buffer.from('{"events":[{"event":"x","identify":{"email":"z@example.com"},"properties":{"p":"'), Buffer.alloc(200 * 2 ** 20, 0x61), Buffer.from('"}}]}')]));
    expect(bomb.length).toBeLessThan(300_000);
    const b = await post('/v1/events/batch', bomb, { 'content-encoding': 'gzip' });
    expect(b.status).toBe(413);
    expect(b.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: 'Batch payload exceeds 6.4MB limit' });
    const e = await post('/v1/events', bomb, { 'content-encoding': 'gzip' });
    expect(e.status).toBe(413);
    expect(e.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: 'Event payload exceeds 32KB limit' });
    // The server is fine afterwards.
    expect((await post('/v1/events', JSON.stringify(ev()))).status).toBe(200);
  });
});

describe('path parameters', () => {
  it('over 2,048 characters is a 414 that says so, not a misleading 404', async () => {
    for (const path of [`/v1/events/${'m'.repeat(2049)}`, `/v1/contacts/${'c'.repeat(5000)}`]) {
      const r = await call(`${s.url}${path}`, { key: s.key });
      expect(r.status, path.slice(0, 20)).toBe(414);
      expect(r.body).toMatchObject({ statusCode: 414, code: 'URI_TOO_LONG', message: 'Path parameter exceeds 2048 characters' });
      expect(r.headers.get('x-request-id')).toBeTruthy();
    }
    expect((await call(`${s.url}/v1/events/${'m'.repeat(2048)}`, { key: s.key })).status).toBe(404);
  });
});
