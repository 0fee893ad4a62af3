import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/testing/eventually.js';
import { call, ev } from '../src/testing/http.js';
import { BACKEND } from '../src/testing/test-database.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer({ env: { RATE_LIMIT_SINGLE_PER_MIN: '100000', PROCESSING_RETRY_BASE_MS: '1', PROCESSING_MAX_ATTEMPTS: '3' } });
});
afterAll(async () => {
  await s.close();
});

const track = (body: unknown) => call(`${s.url}/v1/events`, { key: s.key, body });
const contact = async (email: string) => (await call(`${s.url}/v1/contacts/search?email=${encodeURIComponent(email)}`, { key: s.key })).body.contact;

describe('background processing', () => {
  it('creates the contact, merges traits over several events, marks events processed', async () => {
    const a = await track(ev({ identify: { email: 'merge@example.com', traits: { firstName: 'John', plan: 'free', company: 'ACME' } }, timestamp: '2026-01-01T00:00:00Z' }));
    await track(ev({ event: 'plan.changed', identify: { email: 'merge@example.com', traits: { plan: 'pro', company: null } }, timestamp: '2026-01-02T00:00:00Z' }));
    await track(ev({ event: 'noop', identify: { email: 'merge@example.com', traits: {} }, timestamp: '2026-01-03T00:00:00Z' }));
    expect((await call(`${s.url}/v1/events/${a.body.messageId}`, { key: s.key })).body.event.status).toBe('queued');
    expect(await contact('merge@example.com')).toBeNull();
    await s.drain();
    const c = await contact('merge@example.com');
    expect(c.properties).toEqual({ email: 'merge@example.com', status: 'SUBSCRIBED', firstName: 'John', plan: 'pro' });
    const e = (await call(`${s.url}/v1/events/${a.body.messageId}`, { key: s.key })).body.event;
    expect(e.status).toBe('processed');
    expect(e.contactId).toBe(c.id);
  });

  it('a backdated event never overwrites a newer value, whatever the processing order', async () => {
    await track(ev({ identify: { email: 'backfill@example.com', traits: { tier: 'gold', city: 'Paris' } }, timestamp: '2026-03-01T00:00:00Z' }));
    await s.drain();
    await track(ev({ event: 'old', identify: { email: 'backfill@example.com', traits: { tier: 'bronze', city: null, legacy: true } }, timestamp: '2025-03-01T00:00:00Z' }));
    await s.drain();
    const c = await contact('backfill@example.com');
    expect(c.properties).toMatchObject({ tier: 'gold', city: 'Paris', legacy: true });
    // And the other order, in one batch of processing: same result.
    await track(ev({ event: 'old', identify: { email: 'backfill2@example.com', traits: { tier: 'bronze', city: null, legacy: true } }, timestamp: '2025-03-01T00:00:00Z' }));
    await track(ev({ identify: { email: 'backfill2@example.com', traits: { tier: 'gold', city: 'Paris' } }, timestamp: '2026-03-01T00:00:00Z' }));
    await s.drain();
    expect((await contact('backfill2@example.com')).properties).toEqual({ ...c.properties, email: 'backfill2@example.com' });
  });

  it('a null from a newer event clears, and an older event cannot bring the value back', async () => {
    await track(ev({ identify: { email: 'clear@example.com', traits: { phone: '+1' } }, timestamp: '2026-01-01T00:00:00Z' }));
    await track(ev({ event: 'e2', identify: { email: 'clear@example.com', traits: { phone: null } }, timestamp: '2026-01-03T00:00:00Z' }));
    await track(ev({ event: 'e3', identify: { email: 'clear@example.com', traits: { phone: '+2' } }, timestamp: '2026-01-02T00:00:00Z' }));
    await s.drain();
    expect((await contact('clear@example.com')).properties.phone).toBeUndefined();
  });

  it('email is case-insensitive: one contact for Jane@Example.COM and jane@example.com', async () => {
    await track(ev({ identify: { email: 'Jane@Example.COM', traits: { firstName: 'Jane' } } }));
    await track(ev({ event: 'login', identify: { email: ' jane@example.com ' } }));
    await s.drain();
    const c = await contact('JANE@example.com');
    expect(c.properties.email).toBe('jane@example.com');
    const list = await call(`${s.url}/v1/contacts?search=jane@example.com`, { key: s.key });
    expect(list.body.contacts.items).toHaveLength(1);
  });

  it('a contact erased while its events are queued stays erased, and its events are gone', async () => {
    await track(ev({ identify: { email: 'erase@example.com', traits: { a: 1 } } }));
    await s.drain();
    const c = await contact('erase@example.com');
    const queued = await track(ev({ event: 'later', identify: { email: 'erase@example.com', traits: { b: 2 } } }));
    // Claimed by a worker, then erased before the worker applies it.
    const claimed = await s.store.queue.claim({ workerId: 'w-test', limit: 10, now: Date.now(), leaseMs: 60_000 });
    expect(claimed.map((e) => e.email)).toContain('erase@example.com');
    const del = await call(`${s.url}/v1/contacts/by-email/Erase@Example.com`, { key: s.key, method: 'DELETE' });
    expect(del.body).toMatchObject({ isDeleted: true, contact: { id: c.id } });
    const target = claimed.filter((e) => e.email === 'erase@example.com');
    const r = await s.store.queue.applyToContact({
      workerId: 'w-test',
      workspaceId: target[0]!.workspaceId,
      email: 'erase@example.com',
      events: target.map((e) => ({ seq: e.seq, patch: { b: 2 }, timestamp: e.timestamp })),
      now: Date.now(),
    });
    expect(r.processed).toEqual([]);
    await s.drain();
    expect(await contact('erase@example.com')).toBeNull();
    expect((await call(`${s.url}/v1/events/${queued.body.messageId}`, { key: s.key })).status).toBe(404);
    expect((await call(`${s.url}/v1/events?email=erase@example.com`, { key: s.key })).body.events.items).toEqual([]);
  });

  it.skipIf(BACKEND !== 'sqlite')('a failing event is retried with backoff, then marked failed with the error', async () => {
    const r = await track(ev({ messageId: 'poison', identify: { email: 'poison@example.com', traits: { ok: 1 } } }));
    // Corrupt the stored row below the API, as a bad disk or a manual edit would.
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(s.databaseUrl.slice('sqlite:'.length));
    db.prepare("UPDATE events SET traits = '{not json' WHERE message_id = 'poison'").run();
    const seen: number[] = [];
    for (let i = 0; i < 50; i++) {
      await s.worker!.runOnce();
      const e = (await call(`${s.url}/v1/events/poison`, { key: s.key })).body.event;
      const attempts = (db.prepare("SELECT attempts FROM events WHERE message_id = 'poison'").get() as { attempts: number }).attempts;
      if (!seen.includes(attempts)) seen.push(attempts);
      if (e.status === 'failed') break;
      await new Promise((res) => setTimeout(res, 10));
    }
    const e = (await call(`${s.url}/v1/events/${r.body.messageId}`, { key: s.key })).body.event;
    expect(e.status).toBe('failed');
    expect(e.error).toMatch(/SyntaxError/);
    expect(seen).toEqual(expect.arrayContaining([1, 2, 3]));
    expect(await contact('poison@example.com')).toBeNull();
    db.close();
  });

  it('the background worker processes without being asked, and metrics show the queue', async () => {
    const bg = await startTestServer({ backgroundWorker: true });
    try {
      await call(`${bg.url}/v1/events`, { key: bg.key, body: ev({ identify: { email: 'bg@example.com', traits: { x: 1 } } }) });
      const c = await eventually(async () => (await call(`${bg.url}/v1/contacts/search?email=bg@example.com`, { key: bg.key })).body.contact, {
        timeoutMs: 10_000,
        intervalMs: 25,
      });
      expect(c?.properties.x).toBe(1);
      const m = await call(`${bg.url}/metrics`);
      expect(m.text).toMatch(/smashsend_queue_depth 0/);
      expect(m.text).toMatch(/smashsend_events_processed_total 1/);
    } finally {
      await bg.close();
    }
  });
});
