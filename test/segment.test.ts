/**
 * Segment-compatible ingestion (SPEC.md Part 2) through the real libraries: Segment's
 * @segment/analytics-node and RudderStack's @rudderstack/rudder-sdk-node, configured only
 * with a write key and the server's address, then raw requests for what a browser sends
 * and for the limits.
 */
import { gzipSync } from 'node:zlib';
import { Analytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { mintKey } from '../src/cli/context.js';
import { attachHeldKind } from '../src/processing/attach-held.job.js';
import { ATTACH_HELD_KIND } from '../src/ingest/segment/identity-store.port.js';
import { createTestDatabase } from '../src/testing/test-database.js';
import { call } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.close();
});

async function eventsOf(server: TestServer, email: string, key = server.key): Promise<any[]> {
  const r = await call(`${server.url}/v1/events?email=${encodeURIComponent(email)}&limit=100`, { key });
  expect(r.status).toBe(200);
  return r.body.events.items;
}

async function contactOf(server: TestServer, email: string, key = server.key): Promise<any> {
  const r = await call(`${server.url}/v1/contacts/search?email=${encodeURIComponent(email)}`, { key });
  expect(r.status).toBe(200);
  return r.body.contact;
}

const names = (events: any[]) => events.map((e) => e.event).sort();

describe('@segment/analytics-node, configured with writeKey and host only', () => {
  it('identify, track with spaces in the name, page, group and alias are stored mapped; retries after a restart do not duplicate', async () => {
    const db = await createTestDatabase();
    let first: TestServer | null = null;
    let second: TestServer | null = null;
    try {
      first = await startTestServer({ database: db });
      const port = Number(new URL(first.url).port);
      const writeKey = first.key;
      const sent: { body: string; headers: Record<string, string> }[] = [];
      const analytics = new Analytics({ writeKey, host: first.url });
      analytics.on('http_request', (r) => sent.push({ body: r.body, headers: r.headers }));
      analytics.identify({ userId: 'user-42', traits: { email: 'Jane@Example.com', firstName: 'Jane', plan: 'pro' } });
      analytics.track({ userId: 'user-42', event: 'Order Completed', properties: { total: 42, currency: 'EUR' } });
      analytics.page({ userId: 'user-42', name: 'Pricing', properties: { path: '/pricing' } });
      analytics.group({ userId: 'user-42', groupId: 'grp_1', traits: { name: 'Acme', employees: 12 } });
      analytics.alias({ previousId: 'anon-7', userId: 'user-42' });
      await analytics.closeAndFlush({ timeout: 20_000 });
      expect(sent.length).toBeGreaterThan(0);
      await first.drain();

      const events = await eventsOf(first, 'jane@example.com');
      expect(names(events)).toEqual(['Order_Completed', 'group', 'identify', 'page']);
      const byName = Object.fromEntries(events.map((e) => [e.event, e]));
      expect(byName.Order_Completed.properties).toEqual({ total: 42, currency: 'EUR' });
      expect(byName.page.properties).toEqual({ path: '/pricing', name: 'Pricing' });
      expect(byName.group.properties).toEqual({ name: 'Acme', employees: 12, groupId: 'grp_1' });
      expect(byName.identify.traits).toMatchObject({ firstName: 'Jane', plan: 'pro' });
      for (const e of events) expect(e.status).toBe('processed');
      const contact = await contactOf(first, 'jane@example.com');
      expect(contact.properties).toMatchObject({ email: 'jane@example.com', firstName: 'Jane', plan: 'pro', status: 'SUBSCRIBED' });
      // The alias linked anon-7 to the same email.
      expect((await first.store.identity.resolve(contact.workspaceId, ['anon-7'])).get('anon-7')).toBe('jane@example.com');
      await first.close();
      first = null;

      // The same requests again, as the library's retries would send them, to a restarted server.
      second = await startTestServer({ database: db, port });
      for (const r of sent) {
        const res = await fetch(`${second.url}/v1/batch`, { method: 'POST', headers: r.headers, body: r.body });
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ success: true });
      }
      await second.drain();
      expect(names(await eventsOf(second, 'jane@example.com'))).toEqual(['Order_Completed', 'group', 'identify', 'page']);
    } finally {
      await first?.close();
      await second?.close();
      await db.drop();
    }
  });
});

describe('@rudderstack/rudder-sdk-node, configured with writeKey and dataPlaneUrl only (gzip bodies)', () => {
  it('stores every call mapped, traits merged; the same calls resent after a restart do not duplicate', async () => {
    const db = await createTestDatabase();
    let first: TestServer | null = null;
    let second: TestServer | null = null;
    // Explicit messageIds: what the library's own retry of a failed flush resends.
    const sendAll = async (url: string, writeKey: string) => {
      const client = new RudderAnalytics(writeKey, { dataPlaneUrl: url });
      client.identify({ userId: 'r-1', traits: { email: 'rudy@example.com', firstName: 'Rudy' }, messageId: 'r-m1' } as never);
      client.track({ userId: 'r-1', event: 'Product Viewed', properties: { sku: 'A-1' }, messageId: 'r-m2' } as never);
      client.page({ userId: 'r-1', name: 'Home', properties: { path: '/' }, messageId: 'r-m3' } as never);
      client.group({ userId: 'r-1', groupId: 'g-9', traits: { name: 'Initech' }, messageId: 'r-m4' } as never);
      client.alias({ previousId: 'anon-r', userId: 'r-1', messageId: 'r-m5' } as never);
      await client.flush();
    };
    try {
      first = await startTestServer({ database: db });
      const port = Number(new URL(first.url).port);
      const writeKey = first.key;
      await sendAll(first.url, writeKey);
      await first.drain();
      const events = await eventsOf(first, 'rudy@example.com');
      expect(names(events)).toEqual(['Product_Viewed', 'group', 'identify', 'page']);
      expect(events.find((e) => e.event === 'Product_Viewed').properties).toEqual({ sku: 'A-1' });
      expect(events.find((e) => e.event === 'group').properties).toEqual({ name: 'Initech', groupId: 'g-9' });
      const contact = await contactOf(first, 'rudy@example.com');
      expect(contact.properties).toMatchObject({ firstName: 'Rudy' });
      expect((await first.store.identity.resolve(contact.workspaceId, ['anon-r'])).get('anon-r')).toBe('rudy@example.com');
      await first.close();
      first = null;

      second = await startTestServer({ database: db, port });
      await sendAll(second.url, writeKey);
      await second.drain();
      expect(names(await eventsOf(second, 'rudy@example.com'))).toEqual(['Product_Viewed', 'group', 'identify', 'page']);
    } finally {
      await first?.close();
      await second?.close();
      await db.drop();
    }
  });
});

describe('browser requests (analytics.js)', () => {
  it('text/plain on a short path with writeKey in the body and an Origin, and its CORS preflight', async () => {
    const pk = (await mintKey(s.store, 'default', 'browser', { publishable: true })).secret;
    expect(pk).toMatch(/^pk_live_/);
    const pre = await fetch(`${s.url}/v1/t`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')).toBe('content-type');

    const sentAt = new Date(Date.now() + 3_600_000); // the browser's clock is an hour fast
    const timestamp = new Date(sentAt.getTime() - 5_000);
    const res = await fetch(`${s.url}/v1/t`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://shop.example' },
      body: JSON.stringify({
        type: 'track',
        event: 'Signed Up!',
        anonymousId: 'b-anon',
        properties: { email: 'browser@example.com', plan: 'free' },
        messageId: 'ajs-next-1',
        timestamp: timestamp.toISOString(),
        sentAt: sentAt.toISOString(),
        writeKey: pk,
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(await res.json()).toEqual({ success: true });
    const ev = (await call(`${s.url}/v1/events/ajs-next-1`, { key: s.key })).body.event;
    expect(ev).toMatchObject({ event: 'Signed_Up_', email: 'browser@example.com', properties: { email: 'browser@example.com', plan: 'free' } });
    // Skew corrected: about 5 s before receipt, not an hour ahead.
    const ts = Date.parse(ev.timestamp);
    expect(ts).toBeLessThan(Date.now() - 4_000);
    expect(ts).toBeGreaterThan(Date.now() - 60_000);
    // The same messageId on our own endpoint is a duplicate: one messageId space.
    const ours = await call(`${s.url}/v1/events`, { key: s.key, body: { event: 'x', identify: { email: 'browser@example.com' }, messageId: 'ajs-next-1' } });
    expect(ours.body.duplicate).toBe(true);
  });

  it('a publishable key sends events, and is refused everywhere else', async () => {
    const pk = (await mintKey(s.store, 'default', 'pk2', { publishable: true })).secret;
    const basic = `Basic ${Buffer.from(`${pk}:`).toString('base64')}`;
    const r = await call(`${s.url}/v1/track`, { headers: { authorization: basic }, body: { userId: 'pk@example.com', event: 'Viewed' } });
    expect(r.status).toBe(200);
    expect((await call(`${s.url}/v1/events`, { key: pk, body: { event: 'a', identify: { email: 'pk@example.com' } } })).status).toBe(200);
    for (const path of ['/v1/contacts', '/v1/events?limit=1', '/v1/contacts/properties', '/v1/api-keys/check']) {
      const denied = await call(`${s.url}${path}`, { key: pk });
      expect(denied.status, path).toBe(401);
      expect(denied.body).toMatchObject({ code: 'INVALID_API_KEY' });
    }
    const listed = (await s.store.keys.listKeys()).find((k) => k.name === 'pk2')!;
    expect(listed.prefix.startsWith('pk_live_')).toBe(true);
    await s.store.keys.revokeKey(listed.id, Date.now());
    await s.server.keys.reload();
    expect((await call(`${s.url}/v1/track`, { headers: { authorization: basic }, body: { userId: 'pk@example.com', event: 'Viewed' } })).status).toBe(401);
  });
});

describe('identity resolution', () => {
  async function scenario(workspace: string, identifyFirst: boolean): Promise<{ contact: any; events: any[]; heldWhileWaiting: number }> {
    const key = await s.createKey(workspace);
    const auth = { authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` };
    const t = Date.now();
    const track = { type: 'track', userId: 'u-77', event: 'Order Completed', properties: { total: 9 }, messageId: `${workspace}-t`, timestamp: new Date(t - 3000).toISOString() };
    // An identify with no email (held too), older than the one that links: its trait loses to the newer one.
    const early = { type: 'identify', userId: 'u-77', traits: { plan: 'free', city: 'Lyon' }, messageId: `${workspace}-i0`, timestamp: new Date(t - 5000).toISOString() };
    const link = { type: 'identify', userId: 'u-77', traits: { email: 'late@example.com', plan: 'pro' }, messageId: `${workspace}-i1`, timestamp: new Date(t - 1000).toISOString() };
    let heldWhileWaiting = 0;
    const send = async (batch: unknown[]) => {
      const r = await call(`${s.url}/v1/batch`, { headers: auth, body: { batch } });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ success: true });
    };
    if (identifyFirst) {
      await send([link]);
      await s.drain();
      await send([track, early]);
    } else {
      await send([track, early]);
      await s.drain();
      const ws = (await s.store.keys.listKeys()).find((k) => k.workspaceName === workspace)!.workspaceId;
      heldWhileWaiting = (await s.store.identity.heldFor(ws, ['u-77'], 10)).length;
      expect(await eventsOf(s, 'late@example.com', key)).toEqual([]);
      await send([link]);
    }
    await s.drain();
    return { contact: await contactOf(s, 'late@example.com', key), events: await eventsOf(s, 'late@example.com', key), heldWhileWaiting };
  }

  it('a track by userId before the identify that links it is held, then attached and processed; identify first gives the same contact', async () => {
    const before = await (await fetch(`${s.url}/metrics`)).text();
    expect(before).toMatch(/^smashsend_segment_unidentified_events \d+/m);
    const late = await scenario('held-late', false);
    expect(late.heldWhileWaiting).toBe(2);
    const first = await scenario('held-first', true);
    expect(late.heldWhileWaiting).toBe(2);
    for (const r of [late, first]) {
      expect(names(r.events)).toEqual(['Order_Completed', 'identify', 'identify']);
      for (const e of r.events) expect(e.status).toBe('processed');
      expect(r.contact.properties).toMatchObject({ email: 'late@example.com', plan: 'pro', city: 'Lyon' });
    }
    expect(late.contact.properties).toEqual(first.contact.properties);
    const after = await (await fetch(`${s.url}/metrics`)).text();
    expect(after).toMatch(/^smashsend_segment_held_total [1-9]/m);
    expect(after).toMatch(/^smashsend_segment_attached_total [1-9]/m);
  });
});

describe('erasure', () => {
  it('erasing a contact erases the links to its address: a later call by the linked userId is held, the contact stays gone', async () => {
    const key = await s.createKey('erase-links');
    const auth = { authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` };
    const ws = (await s.store.keys.listKeys()).find((k) => k.workspaceName === 'erase-links')!.workspaceId;
    const identify = await call(`${s.url}/v1/identify`, { headers: auth, body: { userId: 'u-erase', traits: { email: 'gone@example.com' }, messageId: 'el-1' } });
    expect(identify.status).toBe(200);
    await s.drain();
    expect(await s.store.identity.resolve(ws, ['u-erase'])).not.toEqual(new Map());
    const contact = await contactOf(s, 'gone@example.com', key);
    expect((await call(`${s.url}/v1/contacts/${contact.id}`, { method: 'DELETE', key })).status).toBe(200);
    const track = await call(`${s.url}/v1/track`, { headers: auth, body: { userId: 'u-erase', event: 'Came Back', messageId: 'el-2' } });
    expect(track.status).toBe(200);
    await s.drain();
    expect((await s.store.identity.heldFor(ws, ['u-erase'], 10)).map((e) => e.messageId)).toEqual(['el-2']);
    expect(await contactOf(s, 'gone@example.com', key)).toBeNull();
  });
});

describe('attaching held events', () => {
  it('a worker killed between the append and the release runs the job again without duplicating', async () => {
    const key = await s.createKey('attach-crash');
    const ws = (await s.store.keys.listKeys()).find((k) => k.workspaceName === 'attach-crash')!.workspaceId;
    const send = (body: unknown) => call(`${s.url}/v1/batch`, { body: { ...(body as object), writeKey: key } });
    expect((await send({ batch: [{ type: 'track', userId: 'c-1', event: 'Crash Test', messageId: 'crash-1' }] })).status).toBe(200);
    expect((await send({ batch: [{ type: 'identify', userId: 'c-1', traits: { email: 'crash@example.com' }, messageId: 'crash-id' }] })).status).toBe(200);
    const jobs = await s.store.jobs.claim({ workerId: 'by-hand', kinds: [ATTACH_HELD_KIND], limit: 10, now: Date.now(), leaseMs: 60_000 });
    expect(jobs).toHaveLength(1);
    const ctx = { now: Date.now(), log: pino({ level: 'silent' }), enqueue: async () => [] };
    let releases = 0;
    const crashing = attachHeldKind({
      identity: {
        resolve: (w, ids) => s.store.identity.resolve(w, ids),
        heldFor: (w, ids, n) => s.store.identity.heldFor(w, ids, n),
        aliasesOf: (w, id) => s.store.identity.aliasesOf(w, id),
        release: async () => {
          releases++;
          throw new Error('killed');
        },
      },
      events: s.store.events,
      dedupWindowMs: s.config.dedupWindowMs,
    });
    await expect(crashing.run(jobs[0]!, ctx)).rejects.toThrow('killed');
    expect(releases).toBe(1);
    const healthy = attachHeldKind({ identity: s.store.identity, events: s.store.events, dedupWindowMs: s.config.dedupWindowMs });
    await healthy.run(jobs[0]!, ctx);
    await s.store.jobs.complete({ workerId: 'by-hand', ids: [jobs[0]!.id], now: Date.now() });
    expect(await s.store.identity.heldFor(ws, ['c-1'], 10)).toEqual([]);
    await s.drain();
    const events = await eventsOf(s, 'crash@example.com', key);
    expect(names(events)).toEqual(['Crash_Test', 'identify']);
  });
});

describe('limits and bodies', () => {
  const auth = () => ({ authorization: `Basic ${Buffer.from(`${s.key}:`).toString('base64')}` });

  it('an over-size event in a batch is listed in rejected while the rest are stored', async () => {
    const big = { type: 'track', userId: 'big@example.com', event: 'Big', properties: { blob: 'x'.repeat(900), more: Array.from({ length: 40 }, () => 'y'.repeat(900)) } };
    const r = await call(`${s.url}/v1/batch`, {
      headers: auth(),
      body: {
        batch: [
          { type: 'track', userId: 'ok@example.com', event: 'Small', messageId: 'lim-1' },
          big,
          { type: 'track', userId: 'ok@example.com', event: 'bad', properties: { deep: { a: { b: { c: 1 } } } } },
          { type: 'track', userId: 'ok@example.com', event: 'Small 2', messageId: 'lim-2' },
        ],
      },
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      success: true,
      rejected: [
        { index: 1, code: 'PAYLOAD_TOO_LARGE', message: 'Event payload exceeds 32KB limit' },
        { index: 2, code: 'PROPERTIES_TOO_DEEP', message: expect.any(String) },
      ],
    });
    expect((await call(`${s.url}/v1/events/lim-1`, { key: s.key })).status).toBe(200);
    expect((await call(`${s.url}/v1/events/lim-2`, { key: s.key })).body.event.event).toBe('Small_2');
  });

  it('2,501 events, a request over 500 KB, a single call over 32 KB, invalid JSON: 400', async () => {
    const many = Array.from({ length: 2501 }, (_, i) => ({ type: 'track', userId: 'u', event: 'e', messageId: `m${i}` }));
    const r = await call(`${s.url}/v1/batch`, { headers: auth(), body: { batch: many } });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'BATCH_TOO_LARGE', message: 'Batch cannot exceed 2500 events' });
    const huge = await call(`${s.url}/v1/batch`, { headers: auth(), body: { batch: [{ type: 'track', userId: 'u', event: 'e', properties: { s: 'x'.repeat(520_000) } }] } });
    expect(huge.status).toBe(400);
    expect(huge.body).toMatchObject({ code: 'REQUEST_TOO_LARGE' });
    const single = await call(`${s.url}/v1/track`, { headers: auth(), body: { userId: 'u', event: 'e', properties: { s: 'x'.repeat(40_000) } } });
    expect(single.status).toBe(400);
    expect(single.body).toMatchObject({ code: 'REQUEST_TOO_LARGE', message: 'Event payload exceeds 32KB limit' });
    const bad = await call(`${s.url}/v1/track`, { headers: { ...auth(), 'content-type': 'application/json' }, raw: '{"userId": "u", ' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'INVALID_JSON' });
    const badText = await call(`${s.url}/v1/b`, { headers: { 'content-type': 'text/plain' }, raw: 'not json' });
    expect(badText.status).toBe(400);
  });

  it('a gzip body; a missing or unknown key is a 401', async () => {
    const body = gzipSync(JSON.stringify({ batch: [{ type: 'track', userId: 'gz@example.com', event: 'Zipped', messageId: 'gz-1' }], writeKey: s.key }));
    const r = await call(`${s.url}/v1/batch`, { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, raw: body });
    expect(r.status).toBe(200);
    expect((await call(`${s.url}/v1/events/gz-1`, { key: s.key })).body.event).toMatchObject({ event: 'Zipped', email: 'gz@example.com' });
    expect((await call(`${s.url}/v1/track`, { body: { userId: 'u', event: 'e' } })).status).toBe(401);
    expect((await call(`${s.url}/v1/track`, { body: { userId: 'u', event: 'e', writeKey: 'sk_live_nope' } })).status).toBe(401);
    // Our own endpoints still refuse text/plain.
    expect((await call(`${s.url}/v1/events`, { key: s.key, headers: { 'content-type': 'text/plain' }, raw: '{}' })).status).toBe(415);
  });

  it('a batch costs ceil(N / 200) requests of the batch bucket', async () => {
    const key = await s.createKey('rl-cost');
    const batch = Array.from({ length: 450 }, (_, i) => ({ type: 'track', userId: 'rl@example.com', event: 'e', messageId: `rl-${i}` }));
    const r = await call(`${s.url}/v1/batch`, { body: { batch, writeKey: key } });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-ratelimit-limit')).toBe('50');
    expect(r.headers.get('x-ratelimit-remaining')).toBe('47');
  });
});
