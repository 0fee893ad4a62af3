/**
 * Query strings, the same on every endpoint: unknown parameters are refused by name (a
 * client's `?dryRun=…` must never store), `status` filters the event list, and a `+` is
 * a space in every query string (WHATWG / Node querystring), never in a path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

const api = (path: string, opts: Parameters<typeof call>[1] = {}) => call(`${s.url}${path}`, { key: s.key, ...opts });

describe('query strings', () => {
  it('an unknown query parameter is a 400 INVALID_QUERY naming it, on every endpoint', async () => {
    await api('/v1/events', { body: ev({ messageId: 'q-seen', identify: { email: 'seen@example.com' } }) });
    const contact = (await api('/v1/contacts', { body: { properties: { email: 'q@example.com' } } })).body.contact;
    const endpoints: [string, string, unknown?][] = [
      ['POST', '/v1/events', ev({ messageId: 'q-single' })],
      ['POST', '/v1/events/batch', { events: [ev({ messageId: 'q-batch' })] }],
      ['GET', '/v1/events'],
      ['GET', '/v1/events/q-seen'],
      ['POST', '/v1/contacts', { properties: { email: 'q2@example.com' } }],
      ['GET', '/v1/contacts'],
      ['GET', '/v1/contacts/search?email=q@example.com&'],
      ['GET', '/v1/contacts/properties'],
      ['GET', `/v1/contacts/${contact.id}`],
      ['PUT', `/v1/contacts/${contact.id}`, { properties: { firstName: 'Q' } }],
      ['DELETE', `/v1/contacts/${contact.id}`],
      ['DELETE', '/v1/contacts/by-email/q@example.com'],
      ['GET', '/health'],
      ['GET', '/metrics'],
    ];
    for (const [method, path, body] of endpoints) {
      const sep = path.includes('?') ? '' : '?';
      const r = await api(`${path}${sep}emial=x`, { method, body });
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(r.body, `${method} ${path}`).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'INVALID_QUERY' });
      expect(r.body.message, `${method} ${path}`).toContain('"emial"');
    }
    // Nothing was written by the refused calls.
    expect((await api('/v1/events/q-single')).status).toBe(404);
    expect((await api('/v1/events/q-batch')).status).toBe(404);
    expect((await api('/v1/contacts/search?email=q2@example.com')).body).toEqual({ contact: null });
    expect((await api(`/v1/contacts/${contact.id}`)).body.contact.properties.firstName).toBeUndefined();
  });

  it('a mistyped filter never lists the whole workspace; the message names what the endpoint takes', async () => {
    const r = await api('/v1/events?emial=seen@example.com');
    expect(r.status).toBe(400);
    expect(r.body.events).toBeUndefined();
    expect(r.body.message).toBe('Unknown query parameter "emial"; this endpoint takes email, event, status, since, until, limit, cursor');
  });

  it('?dryRun=true stores nothing (dry runs: test/dry-run.test.ts); a dryRun that is not true or false is refused', async () => {
    const single = await api('/v1/events?dryRun=true', { body: ev({ messageId: 'dry-1' }) });
    expect(single.status).toBe(200);
    expect(single.body.dryRun).toBe(true);
    const batch = await api('/v1/events/batch?dryRun=true', { body: { events: [ev({ messageId: 'dry-2' })] } });
    expect(batch.status).toBe(200);
    expect(batch.body.dryRun).toBe(true);
    const unsure = await api('/v1/events?dryRun=1', { body: ev({ messageId: 'dry-1' }) });
    expect(unsure.status).toBe(400);
    expect(unsure.body.message).toContain('"dryRun"');
    expect((await api('/v1/events/dry-1')).status).toBe(404);
    expect((await api('/v1/events/dry-2')).status).toBe(404);
    // And the messageIds were not reserved: the real call afterwards is accepted, not a duplicate.
    const real = await api('/v1/events', { body: ev({ messageId: 'dry-1' }) });
    expect(real.status).toBe(200);
    expect(real.body.duplicate).toBeUndefined();
  });

  it('a parameter given twice is refused on POST routes too', async () => {
    const r = await api('/v1/events?x=1&x=2', { body: ev({ messageId: 'twice' }) });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('INVALID_QUERY');
    expect((await api('/v1/events/twice')).status).toBe(404);
  });

  it('the official SDK\'s contacts.listProperties() parameters (type=CUSTOM&limit=50) are accepted', async () => {
    const r = await api('/v1/contacts/properties?type=CUSTOM&limit=50');
    expect(r.status).toBe(200);
    expect(Array.isArray(r.body.properties)).toBe(true);
    expect((await api('/v1/contacts/properties?type=STANDARD')).status).toBe(400);
  });

  it('GET /v1/events?status= filters by processing status, with or without an email', async () => {
    const email = 'status@example.com';
    await api('/v1/events', { body: ev({ messageId: 'st-processed', identify: { email } }) });
    await s.drain();
    await api('/v1/events', { body: ev({ messageId: 'st-failed', identify: { email } }) });
    const claimed = await s.store.queue.claim({ workerId: 'status-test', limit: 100, now: Date.now(), leaseMs: 60_000 });
    const failedSeq = claimed.find((c) => c.email === email)!.seq;
    await s.store.queue.fail({ workerId: 'status-test', seqs: claimed.map((c) => c.seq), error: 'boom', retryAt: null, now: Date.now() });
    expect(failedSeq).toBeGreaterThan(0);
    await api('/v1/events', { body: ev({ messageId: 'st-queued', identify: { email } }) });

    for (const [status, id] of [['queued', 'st-queued'], ['processed', 'st-processed'], ['failed', 'st-failed']]) {
      const withEmail = await api(`/v1/events?email=${email}&status=${status}`);
      expect(withEmail.status).toBe(200);
      expect(withEmail.body.events.items.map((e: any) => e.messageId), status).toEqual([id]);
      const all = await api(`/v1/events?status=${status}&limit=1000`);
      expect(all.body.events.items.length, status).toBeGreaterThan(0);
      expect(all.body.events.items.every((e: any) => e.status === status), status).toBe(true);
      expect(all.body.events.items.map((e: any) => e.messageId)).toContain(id);
    }
    const bad = await api('/v1/events?status=done');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'INVALID_QUERY', message: '"status" must be one of queued, processed, failed' });
  });

  it('"+" is a space in every query string, %2B is a "+"; in a path a "+" is a "+"', async () => {
    const created = (await api('/v1/contacts', { body: { properties: { email: 'a+b@example.com' } } })).body.contact;
    await api('/v1/events', { body: ev({ messageId: 'plus-1', identify: { email: 'a+b@example.com' } }) });

    expect((await api('/v1/contacts/search?email=a%2Bb@example.com')).body.contact.id).toBe(created.id);
    expect((await api('/v1/events?email=a%2Bb%40example.com')).body.events.items.map((e: any) => e.messageId)).toEqual(['plus-1']);
    // Unencoded, it is "a b@example.com": the same 400 on both endpoints, saying why.
    for (const path of ['/v1/contacts/search?email=a+b@example.com', '/v1/events?email=a+b@example.com']) {
      const r = await api(path);
      expect(r.status, path).toBe(400);
      expect(r.body, path).toMatchObject({ code: 'INVALID_QUERY', message: '"email" must be a valid email (a "+" in a query string means a space: send "+" as %2B)' });
    }
    // An address that is simply invalid is the same 400 everywhere (search used to answer null).
    for (const path of ['/v1/contacts/search?email=not-an-email', '/v1/events?email=not-an-email']) {
      const r = await api(path);
      expect(r.status, path).toBe(400);
      expect(r.body.message, path).toBe('"email" must be a valid email');
    }
    // Paths are not query strings: both spellings name the same contact.
    expect((await api('/v1/contacts/by-email/a+b@example.com', { method: 'DELETE' })).body.contact.id).toBe(created.id);
  });
});
