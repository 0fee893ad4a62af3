/**
 * Tampered paging cursors are a 400 INVALID_CURSOR on every backend, never a 500: on
 * PostgreSQL a float or 1e300 used to reach a bigint parameter (22P02 / 22003).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
const api = (path: string) => call(`${s.url}${path}`, { key: s.key });
const cursor = (json: string) => Buffer.from(json).toString('base64url');

beforeAll(async () => {
  s = await startTestServer({ env: { RATE_LIMIT_BATCH_PER_MIN: '100000' } });
  await call(`${s.url}/v1/events/batch`, { key: s.key, body: { events: [1, 2, 3].map((i) => ev({ messageId: `c-${i}` })) } });
  for (const i of [1, 2, 3]) await call(`${s.url}/v1/contacts`, { key: s.key, body: { properties: { email: `c${i}@cursor.test` } } });
});
afterAll(async () => {
  await s.close();
});

const NOW = Date.now();
/** Numbers a keyset column cannot hold exactly, in each position. */
const BAD_NUMBERS = ['1.5', '1e300', '-1', '-1e300', '9007199254740992', '123456789012345678901234567890', '"123"', '"abc"', 'null', 'true', '[]', '{}'];

describe('tampered cursors', () => {
  it('GET /v1/events: 400 INVALID_CURSOR for floats, huge, negative, strings, wrong shapes', async () => {
    const bad = [
      ...BAD_NUMBERS.map((n) => cursor(`[${n},5]`)),
      ...BAD_NUMBERS.map((n) => cursor(`[${NOW},${n}]`)),
      cursor('[1,2,3]'),
      cursor('[1]'),
      cursor('{"a":1}'),
      cursor('not json'),
      'garbage!',
      '%%%',
      'A'.repeat(600),
    ];
    for (const c of bad) {
      const r = await api(`/v1/events?cursor=${encodeURIComponent(c)}`);
      expect(r.status, Buffer.from(c, 'base64url').toString()).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'INVALID_CURSOR' });
    }
    for (const q of ['email=c@example.com&', 'event=user.signup&', 'email=c@example.com&event=user.signup&']) {
      expect((await api(`/v1/events?${q}cursor=${cursor('[1e300,1.5]')}`)).body.code).toBe('INVALID_CURSOR');
    }
  });

  it('GET /v1/contacts: 400 INVALID_CURSOR likewise', async () => {
    const bad = [
      ...BAD_NUMBERS.map((n) => cursor(`[${n},"00000000-0000-0000-0000-000000000000"]`)),
      cursor(`[${NOW},1]`),
      cursor(`[${NOW},""]`),
      cursor(`[${NOW},"a\\u0000b"]`),
      cursor(`[${NOW},"${'x'.repeat(200)}"]`),
      cursor('[1]'),
      'garbage',
    ];
    for (const c of bad) {
      for (const q of ['', 'search=cursor&', 'status=SUBSCRIBED&', 'sort=createdAt.asc&']) {
        const r = await api(`/v1/contacts?${q}cursor=${encodeURIComponent(c)}`);
        expect(r.status, `${q} ${Buffer.from(c, 'base64url').toString()}`).toBe(400);
        expect(r.body.code).toBe('INVALID_CURSOR');
      }
    }
  });

  it('cursors the server issued, and the largest exact numbers, still page', async () => {
    const first = await api('/v1/events?limit=2');
    expect(first.body.events.hasMore).toBe(true);
    const next = await api(`/v1/events?limit=2&cursor=${first.body.events.cursor}`);
    expect(next.status).toBe(200);
    expect(next.body.events.items).toHaveLength(1);
    const max = await api(`/v1/events?cursor=${cursor('[9007199254740991,9007199254740991]')}`);
    expect(max.status).toBe(200);
    expect(max.body.events.items).toHaveLength(3);
    const contacts = await api('/v1/contacts?limit=2');
    const rest = await api(`/v1/contacts?limit=2&cursor=${contacts.body.contacts.cursor}`);
    expect(rest.status).toBe(200);
    expect(rest.body.contacts.items).toHaveLength(1);
    expect((await api(`/v1/contacts?cursor=${cursor('[0,"0"]')}`)).body.contacts.items).toEqual([]);
  });
});
