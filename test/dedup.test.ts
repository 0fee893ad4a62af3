import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ev } from './support/http.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let s: TestServer;
let now = Date.UTC(2026, 0, 1);

beforeAll(async () => {
  s = await startTestServer({ clock: () => now, env: { DEDUP_WINDOW_SECONDS: '60' } });
});
afterAll(async () => {
  await s.close();
});

const single = (body: unknown, key = s.key) => call(`${s.url}/v1/events`, { key, body });
const batch = (events: unknown[], key = s.key) => call(`${s.url}/v1/events/batch`, { key, body: { events } });

describe('deduplication', () => {
  it('single endpoint: a resent messageId is a successful duplicate, stored once', async () => {
    const a = await single(ev({ messageId: 'order-1', properties: { n: 1 } }));
    const b = await single(ev({ messageId: 'order-1', properties: { n: 2 } }));
    expect(a.body).toEqual({ success: true, messageId: 'order-1', info: 'Event queued for processing' });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ success: true, messageId: 'order-1', duplicate: true });
    const stored = await call(`${s.url}/v1/events/order-1`, { key: s.key });
    expect(stored.body.event.properties).toEqual({ n: 1 });
  });

  it('auto ids: identical content is a duplicate, key order and {} do not matter; a timestamp makes it new', async () => {
    const a = await single(ev({ properties: { a: 1, b: 2 } }));
    const b = await single(ev({ properties: { b: 2, a: 1 }, identify: { email: ' USER@Example.com ', traits: {} } }));
    expect(b.body.duplicate).toBe(true);
    expect(b.body.messageId).toBe(a.body.messageId);
    const c = await single(ev({ properties: { a: 1, b: 2 }, timestamp: '2025-12-31T00:00:00Z' }));
    expect(c.body.duplicate).toBeUndefined();
    const d = await single(ev({ properties: { a: 1, b: 2 }, timestamp: 1767139200 }));
    expect(d.body.duplicate).toBe(true);
  });

  it('across endpoints, both directions', async () => {
    await single(ev({ messageId: 'cross-1' }));
    const b = await batch([ev({ messageId: 'cross-1' }), ev({ messageId: 'cross-2' })]);
    expect(b.body.events.map((e: any) => e.status)).toEqual(['duplicate', 'accepted']);
    expect(b.body.duplicated).toBe(1);
    expect((await single(ev({ messageId: 'cross-2' }))).body.duplicate).toBe(true);
  });

  it('per workspace: the same messageId in another workspace is new', async () => {
    const other = await s.createKey('dedup-other');
    await single(ev({ messageId: 'ws-shared' }));
    expect((await single(ev({ messageId: 'ws-shared' }), other)).body.duplicate).toBeUndefined();
  });

  it('a rejected event reserves nothing', async () => {
    expect((await single(ev({ messageId: 'rejected-first', event: 'bad name' }))).status).toBe(400);
    expect((await single(ev({ messageId: 'rejected-first' }))).body.duplicate).toBeUndefined();
  });

  it('after the window a reused messageId is a new event and GET returns the newest', async () => {
    await single(ev({ messageId: 'windowed', properties: { v: 'old' } }));
    now += 59_000;
    expect((await single(ev({ messageId: 'windowed', properties: { v: 'x' } }))).body.duplicate).toBe(true);
    now += 1_000; // 60 s after the first acceptance
    const again = await single(ev({ messageId: 'windowed', properties: { v: 'new' } }));
    expect(again.body.duplicate).toBeUndefined();
    const got = await call(`${s.url}/v1/events/windowed`, { key: s.key });
    expect(got.body.event.properties).toEqual({ v: 'new' });
    const all = await call(`${s.url}/v1/events?limit=1000`, { key: s.key });
    expect(all.body.events.items.filter((e: any) => e.messageId === 'windowed')).toHaveLength(2);
    // The window restarts at the new acceptance.
    expect((await single(ev({ messageId: 'windowed' }))).body.duplicate).toBe(true);
  });

  it('erasing a contact keeps its messageIds reserved', async () => {
    await single(ev({ messageId: 'erased-1', identify: { email: 'gone@example.com' } }));
    await s.drain();
    const c = await call(`${s.url}/v1/contacts/search?email=gone@example.com`, { key: s.key });
    expect((await call(`${s.url}/v1/contacts/${c.body.contact.id}`, { key: s.key, method: 'DELETE' })).status).toBe(200);
    expect((await single(ev({ messageId: 'erased-1', identify: { email: 'gone@example.com' } }))).body.duplicate).toBe(true);
  });
});
