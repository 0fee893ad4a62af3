import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
const batch = (events: unknown, key: string | null = s.key) => call(`${s.url}/v1/events/batch`, { key, body: { events } });

beforeAll(async () => {
  s = await startTestServer({ env: { RATE_LIMIT_BATCH_PER_MIN: '100000' } });
});
afterAll(async () => {
  await s.close();
});

describe('POST /v1/events/batch', () => {
  it('200 when every event is accepted, in the documented shape', async () => {
    const r = await batch([
      ev({ event: 'page.view', identify: { email: 'user1@example.com' }, properties: { page: '/home' } }),
      ev({ event: 'button.click', identify: { email: 'user2@example.com' } }),
      ev({ event: 'form.submitted', identify: { email: 'user3@example.com', traits: { firstName: 'Jane' } } }),
    ]);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      accepted: 3,
      failed: 0,
      duplicated: 0,
      events: [0, 1, 2].map((index) => ({ index, messageId: expect.stringMatching(/^msg_/), status: 'accepted' })),
      errors: [],
    });
  });

  it('207 on partial success: failed items listed by index with codes', async () => {
    const r = await batch([ev({ messageId: 'p-0' }), ev({ identify: { email: 'bad' } }), ev({ messageId: 'p-2' })]);
    expect(r.status).toBe(207);
    expect(r.body.accepted).toBe(2);
    expect(r.body.failed).toBe(1);
    expect(r.body.events.map((e: any) => e.index)).toEqual([0, 2]);
    expect(r.body.errors).toEqual([{ index: 1, errors: [{ code: 'INVALID_EMAIL', message: 'Invalid email format' }] }]);
  });

  it('400 when every event failed, same shape plus the error fields', async () => {
    const r = await batch([ev({ event: '' }), ev({ event: 'x'.repeat(61) }), 'not-an-object']);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'ALL_EVENTS_FAILED', accepted: 0, failed: 3, duplicated: 0, events: [] });
    expect(r.body.errors.map((e: any) => e.errors[0].code)).toEqual(['MISSING_EVENT_NAME', 'EVENT_NAME_TOO_LONG', 'INVALID_EVENT']);
  });

  it('every item code a batch can report', async () => {
    const items = [
      ev({ event: 'bad name' }),
      ev({ identify: null }),
      ev({ identify: { email: '' } }),
      ev({ properties: [] }),
      ev({ properties: { a: { b: { c: { d: 1 } } } } }),
      ev({ properties: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, 1])) }),
      ev({ properties: { s: 'x'.repeat(1001) } }),
      ev({ properties: { a: Array(101).fill(0) } }),
      ev({ properties: { a: [[1]] } }),
      ev({ identify: { email: 'a@example.com', traits: 'x' } }),
      ev({ timestamp: 'soon' }),
      ev({ timestamp: 1 }),
      ev({ messageId: 5 }),
      ev({ messageId: 'm'.repeat(129) }),
      ev({ messageId: 'big', properties: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'x'.repeat(1000)])) }),
    ];
    const r = await batch(items);
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: any) => e.errors[0].code)).toEqual([
      'INVALID_EVENT_NAME',
      'MISSING_IDENTIFY',
      'MISSING_EMAIL',
      'INVALID_PROPERTIES',
      'PROPERTIES_TOO_DEEP',
      'TOO_MANY_PROPERTIES',
      'STRING_TOO_LONG',
      'ARRAY_TOO_LONG',
      'INVALID_ARRAY_ITEM',
      'INVALID_TRAITS',
      'INVALID_TIMESTAMP',
      'TIMESTAMP_OUT_OF_RANGE',
      'INVALID_MESSAGE_ID',
      'MESSAGE_ID_TOO_LONG',
      'PAYLOAD_TOO_LARGE',
    ]);
  });

  it('200 events pass, 201 are refused verbatim; empty and non-array refused', async () => {
    const mk = (n: number) => Array.from({ length: n }, (_, i) => ev({ messageId: `n${n}-${i}` }));
    const ok = await batch(mk(200));
    expect(ok.status).toBe(200);
    expect(ok.body.accepted).toBe(200);
    const over = await batch(mk(201));
    expect(over.status).toBe(400);
    expect(over.body.message).toBe('Batch cannot exceed 200 events');
    expect(over.body.statusCode).toBe(400);
    expect(typeof over.body.code).toBe('string');
    expect((await batch([])).status).toBe(400);
    expect((await batch('x')).status).toBe(400);
    expect((await call(`${s.url}/v1/events/batch`, { key: s.key, body: {} })).status).toBe(400);
    expect((await call(`${s.url}/v1/events/batch`, { key: s.key, body: [ev()] })).status).toBe(400);
    // Nothing of the refused 201 was stored.
    expect((await call(`${s.url}/v1/events/n201-0`, { key: s.key })).status).toBe(404);
  });

  it('413 for a batch body over 6,553,600 bytes; an oversized item fails alone', async () => {
    const big = JSON.stringify({ events: [ev({ properties: { s: 'x'.repeat(1000) } })] }).padEnd(6_553_601, ' ');
    const r = await call(`${s.url}/v1/events/batch`, { key: s.key, raw: big, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(413);
    expect(r.body.code).toBe('PAYLOAD_TOO_LARGE');
    const justFits = JSON.stringify({ events: [ev({ messageId: 'fits' })] }).padEnd(6_553_600, ' ');
    expect((await call(`${s.url}/v1/events/batch`, { key: s.key, raw: justFits, headers: { 'content-type': 'application/json' } })).status).toBe(200);
  });

  it('a repeated messageId inside one batch: first accepted, second duplicate', async () => {
    const r = await batch([ev({ messageId: 'twice' }), ev({ messageId: 'twice' }), ev({ messageId: 'once' })]);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ accepted: 2, duplicated: 1, failed: 0 });
    expect(r.body.events.map((e: any) => e.status)).toEqual(['accepted', 'duplicate', 'accepted']);
    const auto = await batch([ev({ properties: { same: true } }), ev({ properties: { same: true } })]);
    expect(auto.body.events.map((e: any) => e.status)).toEqual(['accepted', 'duplicate']);
    expect(auto.body.events[0].messageId).toBe(auto.body.events[1].messageId);
  });

  it('one item nested thousands of levels deep fails alone, or is accepted when it is only unknown fields', async () => {
    // JSON.parse takes any depth; JSON.stringify (and any recursive walk) throws from ~5,000
    // levels. Bodies are written as text: the test's own JSON.stringify would throw too.
    const arrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    const objects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const item = (id: string, extra: string) => `{"event":"deep.test","messageId":"${id}","identify":{"email":"deep@example.com"${extra.startsWith('identify:') ? ',' + extra.slice(9) : ''}}${extra.startsWith('identify:') ? '' : ',' + extra}}`;
    const items = [
      item('deep-0', '"properties":{"plan":"pro"}'),
      item('deep-1', `"context":${arrays(4_100)}`), // ~8 KB, unknown: ignored
      item('deep-2', `identify:"device":${objects(4_100)}`), // ~25 KB inside identify, unknown
      item('deep-3', `"context":${arrays(20_000)}`), // 40 KB: too large, alone
      item('deep-4', `"properties":${objects(4_100)}`), // too deep
      item('deep-5', '"properties":{"plan":"team"}'),
    ];
    const r = await call(`${s.url}/v1/events/batch`, {
      key: s.key,
      raw: `{"events":[${items.join(',')}]}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(207);
    expect(r.body.accepted).toBe(4);
    expect(r.body.events.map((e: any) => [e.index, e.messageId, e.status])).toEqual([
      [0, 'deep-0', 'accepted'],
      [1, 'deep-1', 'accepted'],
      [2, 'deep-2', 'accepted'],
      [5, 'deep-5', 'accepted'],
    ]);
    expect(r.body.errors).toEqual([
      { index: 3, errors: [{ code: 'PAYLOAD_TOO_LARGE', message: 'Event payload exceeds 32KB limit' }] },
      { index: 4, errors: [{ code: 'PROPERTIES_TOO_DEEP', message: 'Properties exceed maximum depth of 3' }] },
    ]);
    const stored = await call(`${s.url}/v1/events/deep-1`, { key: s.key });
    expect(stored.status).toBe(200);
    expect(stored.body.event.messageId).toBe('deep-1');
  });
});
