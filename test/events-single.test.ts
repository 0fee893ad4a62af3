import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
const post = (body: unknown, key: string | null = s.key) => call(`${s.url}/v1/events`, { key, body });

beforeAll(async () => {
  s = await startTestServer({ env: { RATE_LIMIT_SINGLE_PER_MIN: '100000' } });
});
afterAll(async () => {
  await s.close();
});

function expectError(r: { status: number; body: any; headers: Headers }, status: number, message: string, code?: string) {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toContain('application/json');
  expect(r.body.statusCode).toBe(status);
  expect(r.body.message).toBe(message);
  expect(typeof r.body.error).toBe('string');
  if (code) expect(r.body.code).toBe(code);
}

describe('POST /v1/events: the source document, verbatim', () => {
  it('accepts an event and answers as documented', async () => {
    const r = await post(ev({ properties: { plan: 'premium' } }));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ success: true, messageId: expect.stringMatching(/^msg_[0-9a-f]{32}$/), info: 'Event queued for processing' });
    const stored = await call(`${s.url}/v1/events/${r.body.messageId}`, { key: s.key });
    expect(stored.body.event).toMatchObject({ event: 'user.signup', email: 'user@example.com', properties: { plan: 'premium' }, status: 'queued' });
  });

  it('401 Invalid API key: missing, unknown, malformed', async () => {
    for (const key of [null, 'sk_live_nope', 'garbage']) {
      expectError(await post(ev(), key), 401, 'Invalid API key', 'INVALID_API_KEY');
    }
    const wrongScheme = await call(`${s.url}/v1/events`, { body: ev(), headers: { authorization: `Basic ${s.key}` } });
    expectError(wrongScheme, 401, 'Invalid API key');
    expect(wrongScheme.body.error).toBe('Unauthorized');
  });

  it('event name: charset, length 60/61, missing, non-string, case kept', async () => {
    expectError(await post(ev({ event: 'user signup' })), 400, 'Event name can only contain alphanumeric characters, underscores, hyphens, dots, and colons', 'INVALID_EVENT_NAME');
    expectError(await post(ev({ event: 'a/b' })), 400, 'Event name can only contain alphanumeric characters, underscores, hyphens, dots, and colons');
    expect((await post(ev({ event: 'a'.repeat(60) }))).status).toBe(200);
    expectError(await post(ev({ event: 'a'.repeat(61) })), 400, 'Event name cannot exceed 60 characters', 'EVENT_NAME_TOO_LONG');
    expect((await post(ev({ event: 'A_b-c.d:e9' }))).status).toBe(200);
    for (const event of [undefined, null, '']) expect((await post(ev({ event }))).body.code).toBe('MISSING_EVENT_NAME');
    expect((await post(ev({ event: 42 }))).body.code).toBe('INVALID_EVENT_NAME');
    const a = await post(ev({ event: 'User.Signup' }));
    const b = await post(ev({ event: 'user.signup', messageId: 'case-check' }));
    expect(a.body.messageId).not.toBe(b.body.messageId);
  });

  it('identify.email: verbatim message, missing identify/email', async () => {
    expectError(await post(ev({ identify: { email: 'not-an-email' } })), 400, '"identify.email" must be a valid email', 'INVALID_EMAIL');
    expect((await post(ev({ identify: undefined }))).body.code).toBe('MISSING_IDENTIFY');
    expect((await post(ev({ identify: {} }))).body.code).toBe('MISSING_EMAIL');
    expect((await post(ev({ identify: { email: `${'a'.repeat(64)}@${'b'.repeat(185)}.com` } }))).status).toBe(200); // 254
    expect((await post(ev({ identify: { email: `${'a'.repeat(64)}@${'b'.repeat(186)}.com` } }))).body.code).toBe('INVALID_EMAIL'); // 255
  });

  it('properties depth 3 passes, 4 fails verbatim; traits named in their own message', async () => {
    expect((await post(ev({ properties: { a: { b: { c: 1 } } } }))).status).toBe(200);
    expectError(await post(ev({ properties: { a: { b: { c: { d: 1 } } } } })), 400, 'Properties exceed maximum depth of 3', 'PROPERTIES_TOO_DEEP');
    expectError(await post(ev({ properties: { a: { b: { c: {} } } } })), 400, 'Properties exceed maximum depth of 3');
    const t = await post(ev({ identify: { email: 'u@example.com', traits: { a: { b: { c: { d: 1 } } } } } }));
    expectError(t, 400, 'Traits exceed maximum depth of 3', 'PROPERTIES_TOO_DEEP');
  });

  it('leaf keys 100/101, strings 1000/1001 code points, arrays 100/101 and primitives only', async () => {
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    expect((await post(ev({ properties: keys(100) }))).status).toBe(200);
    expect((await post(ev({ properties: keys(101) }))).body.code).toBe('TOO_MANY_PROPERTIES');
    expect((await post(ev({ properties: { s: '😀'.repeat(1000) } }))).status).toBe(200);
    expect((await post(ev({ properties: { s: 'x'.repeat(1001) } }))).body.code).toBe('STRING_TOO_LONG');
    expect((await post(ev({ properties: { a: Array(100).fill(1) } }))).status).toBe(200);
    expect((await post(ev({ properties: { a: Array(101).fill(1) } }))).body.code).toBe('ARRAY_TOO_LONG');
    expect((await post(ev({ properties: { a: [{ x: 1 }] } }))).body.code).toBe('INVALID_ARRAY_ITEM');
    expect((await post(ev({ properties: 'nope' }))).body.code).toBe('INVALID_PROPERTIES');
    expect((await post(ev({ identify: { email: 'u@example.com', traits: [] } }))).body.code).toBe('INVALID_TRAITS');
  });

  it('timestamps: ISO forms, seconds, milliseconds, ±30 years', async () => {
    const cases: [unknown, string][] = [
      ['2024-01-15T10:30:00Z', '2024-01-15T10:30:00.000Z'],
      ['2024-01-15T10:30:00.123456+02:00', '2024-01-15T08:30:00.123Z'],
      ['2024-01-15T10:30:00', '2024-01-15T10:30:00.000Z'],
      ['2024-01-15', '2024-01-15T00:00:00.000Z'],
      [1705314600, '2024-01-15T10:30:00.000Z'],
      [1705314600123, '2024-01-15T10:30:00.123Z'],
    ];
    for (const [timestamp, expected] of cases) {
      const r = await post(ev({ timestamp, messageId: `ts-${String(timestamp)}` }));
      expect(r.status, String(timestamp)).toBe(200);
      const got = await call(`${s.url}/v1/events/${r.body.messageId}`, { key: s.key });
      expect(got.body.event.timestamp).toBe(expected);
    }
    for (const timestamp of ['1705314600', 'yesterday', '2024-02-30', true, {}]) {
      expect((await post(ev({ timestamp }))).body.code, String(timestamp)).toBe('INVALID_TIMESTAMP');
    }
    const year = 365.25 * 86_400_000;
    expect((await post(ev({ timestamp: Date.now() - 30 * year + 60_000 }))).status).toBe(200);
    expect((await post(ev({ timestamp: Date.now() + 30 * year - 60_000 }))).status).toBe(200);
    expect((await post(ev({ timestamp: Date.now() - 30 * year - 60_000 }))).body.code).toBe('TIMESTAMP_OUT_OF_RANGE');
    expect((await post(ev({ timestamp: Date.now() + 30 * year + 60_000 }))).body.code).toBe('TIMESTAMP_OUT_OF_RANGE');
  });

  it('messageId: 128 passes, 129 fails, non-string and empty fail', async () => {
    expect((await post(ev({ messageId: 'm'.repeat(128) }))).body.messageId).toBe('m'.repeat(128));
    expectError(await post(ev({ messageId: 'm'.repeat(129) })), 400, 'Message ID cannot exceed 128 characters', 'MESSAGE_ID_TOO_LONG');
    expect((await post(ev({ messageId: 7 }))).body.code).toBe('INVALID_MESSAGE_ID');
    expect((await post(ev({ messageId: '' }))).body.code).toBe('INVALID_MESSAGE_ID');
  });

  it('413 over 32,768 bytes (exact boundary), and a 1 MB body gets the same message', async () => {
    const body = bodyOfExactSize(32_768);
    expect(Buffer.byteLength(body)).toBe(32_768);
    const ok = await call(`${s.url}/v1/events`, { key: s.key, raw: body, headers: { 'content-type': 'application/json' } });
    expect(ok.status).toBe(200);
    const over = await call(`${s.url}/v1/events`, { key: s.key, raw: `${body} `, headers: { 'content-type': 'application/json' } });
    expectError(over, 413, 'Event payload exceeds 32KB limit', 'PAYLOAD_TOO_LARGE');
    expect(over.body.error).toBe('Payload Too Large');
    const huge = await call(`${s.url}/v1/events`, { key: s.key, raw: Buffer.alloc(1024 * 1024, 0x20), headers: { 'content-type': 'application/json' } });
    expectError(huge, 413, 'Event payload exceeds 32KB limit');
  });

  it('malformed JSON, wrong content type, non-object bodies', async () => {
    const bad = await call(`${s.url}/v1/events`, { key: s.key, raw: '{"event":', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_JSON');
    const text = await call(`${s.url}/v1/events`, { key: s.key, raw: JSON.stringify(ev()), headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect(text.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    for (const body of [[ev()], 'event', 42, null]) {
      const r = await call(`${s.url}/v1/events`, { key: s.key, raw: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.statusCode).toBe(400);
    }
    const empty = await call(`${s.url}/v1/events`, { key: s.key, raw: '', headers: { 'content-type': 'application/json' } });
    expect(empty.status).toBe(400);
    const withCharset = await call(`${s.url}/v1/events`, { key: s.key, raw: JSON.stringify(ev({ messageId: 'charset' })), headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(withCharset.status).toBe(200);
  });

  it('__proto__ keys are refused and pollute nothing', async () => {
    const raw = '{"event":"x","identify":{"email":"p@example.com","traits":{"__proto__":{"admin":true}}},"properties":{"__proto__":{"polluted":1}}}';
    const r = await call(`${s.url}/v1/events`, { key: s.key, raw, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(['INVALID_PROPERTIES', 'INVALID_TRAITS']).toContain(r.body.code);
    expect(({} as any).polluted).toBeUndefined();
    expect(({} as any).admin).toBeUndefined();
    const top = '{"__proto__":{"polluted":1},"event":"x","identify":{"email":"p@example.com"},"messageId":"proto-top"}';
    const t = await call(`${s.url}/v1/events`, { key: s.key, raw: top, headers: { 'content-type': 'application/json' } });
    expect(t.status).toBe(200);
    expect(({} as any).polluted).toBeUndefined();
  });

  it('a body nested 5,000 levels deep is a clear 400, and the server stays up', async () => {
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const raw = `{"event":"x","identify":{"email":"d@example.com"},"properties":${deep}}`;
    expect(Buffer.byteLength(raw)).toBeLessThan(32_768);
    const r = await call(`${s.url}/v1/events`, { key: s.key, raw, headers: { 'content-type': 'application/json' } });
    expectError(r, 400, 'Properties exceed maximum depth of 3', 'PROPERTIES_TOO_DEEP');
    const arr = `{"event":"x","identify":{"email":"d@example.com"},"properties":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}`;
    expect((await call(`${s.url}/v1/events`, { key: s.key, raw: arr, headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await call(`${s.url}/health`)).status).toBe(200);
  });

  it('unknown top-level fields are ignored', async () => {
    const r = await post(ev({ context: { ip: '1.2.3.4' }, type: 'track', messageId: 'extra-fields' }));
    expect(r.status).toBe(200);
  });
});

/** A valid single-event body of exactly `size` bytes (strings are capped at 1,000 chars, so pad over several keys). */
export function bodyOfExactSize(size: number): string {
  const props: Record<string, string> = {};
  const render = () => JSON.stringify(ev({ messageId: `size-${size}`, properties: props }));
  let i = 0;
  while (Buffer.byteLength(render()) < size - 1000) props[`p${i++}`] = 'x'.repeat(900);
  props[`p${i}`] = '';
  props[`p${i}`] = 'x'.repeat(size - Buffer.byteLength(render()));
  return render();
}
