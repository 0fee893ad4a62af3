import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
let other: string;

beforeAll(async () => {
  s = await startTestServer();
  other = await s.createKey('contacts-other');
});
afterAll(async () => {
  await s.close();
});

const api = (path: string, opts: { method?: string; body?: unknown; key?: string } = {}) =>
  call(`${s.url}${path}`, { key: opts.key ?? s.key, method: opts.method, body: opts.body });

describe('contacts endpoints', () => {
  it('POST upserts by email: 201 then 200, with the SDK shape', async () => {
    const a = await api('/v1/contacts', { body: { properties: { email: 'Ann@Example.com', firstName: 'Ann', plan: 'pro' } } });
    expect(a.status).toBe(201);
    expect(a.body.contact).toEqual({
      id: expect.any(String),
      createdAt: expect.stringMatching(/Z$/),
      updatedAt: expect.stringMatching(/Z$/),
      workspaceId: expect.stringMatching(/^ws_/),
      properties: { email: 'ann@example.com', status: 'SUBSCRIBED', firstName: 'Ann', plan: 'pro' },
    });
    const b = await api('/v1/contacts', { body: { properties: { email: 'ann@example.com', lastName: 'Lee', plan: null } } });
    expect(b.status).toBe(200);
    expect(b.body.contact.id).toBe(a.body.contact.id);
    expect(b.body.contact.properties).toEqual({ email: 'ann@example.com', status: 'SUBSCRIBED', firstName: 'Ann', lastName: 'Lee' });
  });

  it('validates: email required and valid, status enum, same limits as traits', async () => {
    expect((await api('/v1/contacts', { body: { properties: { firstName: 'x' } } })).body.code).toBe('MISSING_EMAIL');
    expect((await api('/v1/contacts', { body: { properties: { email: 'nope' } } })).body.code).toBe('INVALID_EMAIL');
    expect((await api('/v1/contacts', { body: { properties: { email: 'a@b.co', status: 'VIP' } } })).status).toBe(400);
    expect((await api('/v1/contacts', { body: { properties: { email: 'a@b.co', x: { y: { z: { w: 1 } } } } } })).body.message).toBe('Properties exceed maximum depth of 3');
    expect((await api('/v1/contacts', { body: {} })).status).toBe(400);
  });

  it('search, get, 404 for unknown ids', async () => {
    const found = await api('/v1/contacts/search?email=ANN@example.com');
    expect(found.body.contact.properties.email).toBe('ann@example.com');
    expect((await api('/v1/contacts/search?email=nobody@example.com')).body).toEqual({ contact: null });
    expect((await api(`/v1/contacts/${found.body.contact.id}`)).body.contact.id).toBe(found.body.contact.id);
    const missing = await api('/v1/contacts/00000000-0000-0000-0000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('NOT_FOUND');
  });

  it('PUT merges, null clears, a new email moves the contact, 409 when taken', async () => {
    const a = (await api('/v1/contacts', { body: { properties: { email: 'move@example.com', city: 'Oslo', phone: '1' } } })).body.contact;
    await api('/v1/contacts', { body: { properties: { email: 'taken@example.com' } } });
    const u = await api(`/v1/contacts/${a.id}`, { method: 'PUT', body: { properties: { city: 'Bergen', phone: null, email: 'Moved@Example.com' } } });
    expect(u.status).toBe(200);
    expect(u.body.contact.properties).toEqual({ email: 'moved@example.com', status: 'SUBSCRIBED', city: 'Bergen' });
    expect((await api('/v1/contacts/search?email=move@example.com')).body.contact).toBeNull();
    const clash = await api(`/v1/contacts/${a.id}`, { method: 'PUT', body: { properties: { email: 'taken@example.com' } } });
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('CONFLICT');
    expect((await api('/v1/contacts/nope', { method: 'PUT', body: { properties: { city: 'x' } } })).status).toBe(404);
  });

  it('an API write at the time of the call beats an older event, loses to a newer one', async () => {
    const c = (await api('/v1/contacts', { body: { properties: { email: 'timed@example.com', tier: 'api' } } })).body.contact;
    await api('/v1/events', { body: ev({ identify: { email: 'timed@example.com', traits: { tier: 'old-event' } }, timestamp: Date.now() - 86_400_000 }) });
    await s.drain();
    expect((await api(`/v1/contacts/${c.id}`)).body.contact.properties.tier).toBe('api');
    await api('/v1/events', { body: ev({ identify: { email: 'timed@example.com', traits: { tier: 'new-event' } }, timestamp: Date.now() + 60_000 }) });
    await s.drain();
    expect((await api(`/v1/contacts/${c.id}`)).body.contact.properties.tier).toBe('new-event');
  });

  it('DELETE by id and by email erase the contact and its events', async () => {
    const t = await api('/v1/events', { body: ev({ identify: { email: 'bye@example.com', traits: { a: 1 } } }) });
    await s.drain();
    const c = (await api('/v1/contacts/search?email=bye@example.com')).body.contact;
    const d = await api(`/v1/contacts/${c.id}`, { method: 'DELETE' });
    expect(d.body).toEqual({ isDeleted: true, contact: expect.objectContaining({ id: c.id }) });
    expect((await api(`/v1/events/${t.body.messageId}`)).status).toBe(404);
    expect((await api(`/v1/contacts/${c.id}`, { method: 'DELETE' })).status).toBe(404);
    await api('/v1/contacts', { body: { properties: { email: 'bye2@example.com' } } });
    expect((await api('/v1/contacts/by-email/BYE2%40example.com', { method: 'DELETE' })).body.isDeleted).toBe(true);
    expect((await api('/v1/contacts/by-email/bye2@example.com', { method: 'DELETE' })).status).toBe(404);
  });

  it('list: sort, paging without repeats, search, status filter, limit bounds', async () => {
    for (let i = 0; i < 7; i++) await api('/v1/contacts', { body: { properties: { email: `page${i}@list.test`, firstName: i === 3 ? 'Zelda' : 'P', status: i % 2 ? 'UNSUBSCRIBED' : 'SUBSCRIBED' } } });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: any = await api(`/v1/contacts?limit=3&sort=createdAt.asc&search=list.test${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...r.body.contacts.items.map((c: any) => c.properties.email));
      cursor = r.body.contacts.hasMore ? r.body.contacts.cursor : null;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `page${i}@list.test`));
    const desc = await api('/v1/contacts?search=list.test&limit=100');
    expect(desc.body.contacts.items[0].properties.email).toBe('page6@list.test');
    expect(desc.body.contacts.hasMore).toBe(false);
    expect((await api('/v1/contacts?search=zELDA')).body.contacts.items.map((c: any) => c.properties.email)).toEqual(['page3@list.test']);
    expect((await api('/v1/contacts?search=list.test&status=UNSUBSCRIBED')).body.contacts.items).toHaveLength(3);
    expect((await api('/v1/contacts?limit=101')).status).toBe(400);
    expect((await api('/v1/contacts?limit=0')).status).toBe(400);
    expect((await api('/v1/contacts?sort=name')).status).toBe(400);
    expect((await api('/v1/contacts?status=VIP')).status).toBe(400);
    expect((await api('/v1/contacts?cursor=garbage')).status).toBe(400);
  });

  it('properties lists the custom properties seen, not standard ones', async () => {
    const r = await api('/v1/contacts/properties');
    const names = r.body.properties.map((p: any) => p.name);
    expect(names).toContain('plan');
    expect(names).not.toContain('firstName');
    expect(r.body.properties.find((p: any) => p.name === 'plan')).toEqual({ name: 'plan', type: 'string' });
  });

  it('a key sees only its own workspace', async () => {
    const mine = (await api('/v1/contacts/search?email=ann@example.com')).body.contact;
    expect((await api(`/v1/contacts/${mine.id}`, { key: other })).status).toBe(404);
    expect((await api('/v1/contacts/search?email=ann@example.com', { key: other })).body).toEqual({ contact: null });
    expect((await api(`/v1/contacts/${mine.id}`, { key: other, method: 'PUT', body: { properties: { x: 1 } } })).status).toBe(404);
    expect((await api(`/v1/contacts/${mine.id}`, { key: other, method: 'DELETE' })).status).toBe(404);
    expect((await api('/v1/contacts/by-email/ann@example.com', { key: other, method: 'DELETE' })).status).toBe(404);
    expect((await api('/v1/contacts', { key: other })).body.contacts.items).toEqual([]);
    expect((await api('/v1/contacts/properties', { key: other })).body.properties).toEqual([]);
    expect((await api(`/v1/contacts/${mine.id}`)).status).toBe(200);
  });
});
