/**
 * Erasure is final (SPEC.md "Contacts endpoints"): once a contact is erased, nothing that was
 * queued before may bring it back, however its email moved, and an address whose events are
 * still queued (no contact yet) can be erased too. The worker is not running: events stay
 * queued until the test calls drain().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer({ env: { RATE_LIMIT_SINGLE_PER_MIN: '100000' } });
});
afterAll(async () => {
  await s.close();
});

const api = (path: string, opts: { method?: string; body?: unknown } = {}) => call(`${s.url}${path}`, { key: s.key, method: opts.method, body: opts.body });
const contact = async (email: string) => (await api(`/v1/contacts/search?email=${encodeURIComponent(email)}`)).body.contact;
const event = async (messageId: string) => api(`/v1/events/${encodeURIComponent(messageId)}`);

describe('erasure is final', () => {
  it('events queued under a moved contact\'s old email follow it, and are erased with it', async () => {
    const c = (await api('/v1/contacts', { body: { properties: { email: 'old@erase.test', firstName: 'Ann' } } })).body.contact;
    const queued = await api('/v1/events', { body: ev({ identify: { email: 'old@erase.test', traits: { plan: 'pro' } } }) });
    expect((await event(queued.body.messageId)).body.event.status).toBe('queued');
    const moved = await api(`/v1/contacts/${c.id}`, { method: 'PUT', body: { properties: { email: 'new@erase.test' } } });
    expect(moved.status).toBe(200);
    const del = await api(`/v1/contacts/${c.id}`, { method: 'DELETE' });
    expect(del.body).toMatchObject({ isDeleted: true, contact: { id: c.id } });
    expect((await event(queued.body.messageId)).status).toBe(404);
    await s.drain();
    expect(await contact('old@erase.test')).toBeNull();
    expect(await contact('new@erase.test')).toBeNull();
    expect((await api('/v1/events?email=old@erase.test')).body.events.items).toEqual([]);
  });

  it('without an erasure, those queued events are applied to the moved contact, not to a new one', async () => {
    const c = (await api('/v1/contacts', { body: { properties: { email: 'before@move.test' } } })).body.contact;
    const queued = await api('/v1/events', { body: ev({ identify: { email: 'before@move.test', traits: { plan: 'pro' } } }) });
    await api(`/v1/contacts/${c.id}`, { method: 'PUT', body: { properties: { email: 'after@move.test' } } });
    await s.drain();
    expect(await contact('before@move.test')).toBeNull();
    expect((await contact('after@move.test')).properties).toMatchObject({ email: 'after@move.test', plan: 'pro' });
    const e = (await event(queued.body.messageId)).body.event;
    expect(e).toMatchObject({ status: 'processed', contactId: c.id, email: 'after@move.test' });
  });

  it('an address whose events are only queued (no contact yet) is erased: 200, contact null, events gone', async () => {
    const a = await api('/v1/events', { body: ev({ identify: { email: 'queued@erase.test', traits: { x: 1 } } }) });
    const b = await api('/v1/events', { body: ev({ event: 'second', identify: { email: 'Queued@Erase.test' } }) });
    expect(await contact('queued@erase.test')).toBeNull();
    const del = await api('/v1/contacts/by-email/QUEUED%40erase.test', { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ isDeleted: true, contact: null });
    expect((await event(a.body.messageId)).status).toBe(404);
    expect((await event(b.body.messageId)).status).toBe(404);
    await s.drain();
    expect(await contact('queued@erase.test')).toBeNull();
    // Nothing left to erase: 404 as for any unknown address. Resending is a duplicate (the messageIds stay reserved).
    expect((await api('/v1/contacts/by-email/queued@erase.test', { method: 'DELETE' })).status).toBe(404);
    expect((await api('/v1/events', { body: ev({ identify: { email: 'queued@erase.test', traits: { x: 1 } } }) })).body.duplicate).toBe(true);
  });

  it('an event a worker holds while the address is erased is skipped, and the contact is not created', async () => {
    await api('/v1/events', { body: ev({ event: 'held', identify: { email: 'held@erase.test', traits: { x: 1 } } }) });
    const claimed = (await s.store.queue.claim({ workerId: 'w-test', limit: 100, now: Date.now(), leaseMs: 60_000 })).filter((e) => e.email === 'held@erase.test');
    expect(claimed).toHaveLength(1);
    expect((await api('/v1/contacts/by-email/held@erase.test', { method: 'DELETE' })).body).toEqual({ isDeleted: true, contact: null });
    const r = await s.store.queue.applyToContact({
      workerId: 'w-test',
      workspaceId: claimed[0]!.workspaceId,
      email: 'held@erase.test',
      events: claimed.map((e) => ({ seq: e.seq, patch: { x: 1 }, timestamp: e.timestamp })),
      now: Date.now(),
    });
    expect(r.processed).toEqual([]);
    expect(await contact('held@erase.test')).toBeNull();
  });

  it('an event a worker holds while its contact\'s email moves is not applied under the old email', async () => {
    const c = (await api('/v1/contacts', { body: { properties: { email: 'held-old@move.test' } } })).body.contact;
    await api('/v1/events', { body: ev({ event: 'held', identify: { email: 'held-old@move.test', traits: { y: 2 } } }) });
    const claimed = (await s.store.queue.claim({ workerId: 'w-test', limit: 100, now: Date.now(), leaseMs: 60_000 })).filter((e) => e.email === 'held-old@move.test');
    expect(claimed).toHaveLength(1);
    await api(`/v1/contacts/${c.id}`, { method: 'PUT', body: { properties: { email: 'held-new@move.test' } } });
    const r = await s.store.queue.applyToContact({
      workerId: 'w-test',
      workspaceId: claimed[0]!.workspaceId,
      email: 'held-old@move.test',
      events: claimed.map((e) => ({ seq: e.seq, patch: { y: 2 }, timestamp: e.timestamp })),
      now: Date.now(),
    });
    expect(r.processed).toEqual([]);
    expect(await contact('held-old@move.test')).toBeNull();
    // The move released the lease: the next worker cycle applies the event to the moved contact.
    await s.drain();
    expect((await contact('held-new@move.test')).properties).toMatchObject({ y: 2 });
  });
});
