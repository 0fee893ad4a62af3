import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

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

  it('a duplicate says when its messageId was first accepted and how to record a legitimate repeat', async () => {
    now += 120_000;
    const first = now;
    await single(ev({ messageId: 'why-1' }));
    now += 5_000;
    const dup = await single(ev({ messageId: 'why-1' }));
    expect(dup.status).toBe(200);
    expect(dup.body).toEqual({
      success: true,
      messageId: 'why-1',
      duplicate: true,
      info: `Duplicate event: this messageId was first accepted at ${new Date(first).toISOString()} and is not processed again within the 60 s dedup window. To record a legitimate repeat, send it with a new messageId.`,
    });
    // A derived messageId: a timestamp (or a messageId of its own) makes a repeat a new event.
    const derivedAt = now;
    await single(ev({ event: 'page.view', properties: { path: '/why' } }));
    now += 1_000;
    const derived = await single(ev({ event: 'page.view', properties: { path: '/why' } }));
    expect(derived.body.info).toBe(
      `Duplicate event: this messageId was first accepted at ${new Date(derivedAt).toISOString()} and is not processed again within the 60 s dedup window. Its messageId is derived from the content: to record a legitimate repeat, send it with its own messageId or a timestamp.`,
    );
    // The time comes from the dedup ledger: it is still known after the contact (and its events) are erased.
    const erasedAt = now;
    await single(ev({ messageId: 'why-erased', identify: { email: 'why-gone@example.com' } }));
    await s.drain();
    const c = await call(`${s.url}/v1/contacts/search?email=why-gone@example.com`, { key: s.key });
    await call(`${s.url}/v1/contacts/${c.body.contact.id}`, { key: s.key, method: 'DELETE' });
    now += 1_000;
    const afterErase = await single(ev({ messageId: 'why-erased', identify: { email: 'why-gone@example.com' } }));
    expect(afterErase.body.duplicate).toBe(true);
    expect(afterErase.body.info).toContain(`first accepted at ${new Date(erasedAt).toISOString()}`);
  });

  it('/metrics counts duplicates per workspace', async () => {
    const key = await s.createKey('dup-metrics');
    const ws = (await s.store.keys.listKeys()).find((k) => k.workspaceName === 'dup-metrics')!.workspaceId;
    await single(ev({ messageId: 'dm-1' }), key);
    await single(ev({ messageId: 'dm-1' }), key);
    await batch([ev({ messageId: 'dm-1' }), ev({ messageId: 'dm-2' }), ev({ messageId: 'dm-2' })], key);
    const text = (await call(`${s.url}/metrics`)).text;
    expect(text).toContain(`smashsend_events_duplicate_by_workspace_total{workspace="${ws}"} 3`);
  });
});
