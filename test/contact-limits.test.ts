/**
 * Contacts are bounded (LIMITS.maxContact*): at most 500 custom properties and 524,288
 * characters of JSON. Traits beyond are refused key by key: the event is still processed,
 * with the refusal in its `error`; a contacts API write beyond is a 400 and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../src/core/limits.js';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer({ env: { RATE_LIMIT_SINGLE_PER_MIN: '100000', RATE_LIMIT_BATCH_PER_MIN: '100000' } });
});
afterAll(async () => {
  await s.close();
});

const api = (path: string, opts: { method?: string; body?: unknown } = {}) => call(`${s.url}${path}`, { key: s.key, method: opts.method, body: opts.body });
const contact = async (email: string) => (await api(`/v1/contacts/search?email=${encodeURIComponent(email)}`)).body.contact;
const customCount = (c: { properties: Record<string, unknown> }) => Object.keys(c.properties).filter((k) => k.startsWith('p')).length;

/** Traits p{from}..p{from+count-1}, 100 per event at most (the traits limit). */
function traits(from: number, count: number, value: (i: number) => unknown = (i) => i): Record<string, unknown> {
  const t: Record<string, unknown> = {};
  for (let i = from; i < from + count; i++) t[`p${i}`] = value(i);
  return t;
}

describe('contact limits', () => {
  it(`traits beyond ${LIMITS.maxContactCustomProperties} custom properties are refused, recorded on the event, which is processed`, async () => {
    const email = 'full@limits.test';
    const base = Date.UTC(2026, 0, 1);
    for (let k = 0; k < 5; k++) {
      const r = await api('/v1/events', { body: ev({ identify: { email, traits: traits(k * 100, 100) }, timestamp: base + k }) });
      expect(r.status).toBe(200);
    }
    const over = await api('/v1/events', {
      body: ev({ event: 'over', identify: { email, traits: { p0: 'updated', p500: 'x', p501: 'y', firstName: 'Ann', lastName: 'Lee' } }, timestamp: base + 10 }),
    });
    await s.drain();
    const c = await contact(email);
    expect(customCount(c)).toBe(500);
    expect(c.properties).toMatchObject({ p0: 'updated', p499: 499, firstName: 'Ann', lastName: 'Lee' });
    expect(c.properties).not.toHaveProperty('p500');
    const e = (await api(`/v1/events/${over.body.messageId}`)).body.event;
    expect(e.status).toBe('processed');
    expect(e.contactId).toBe(c.id);
    expect(e.error).toBe('TOO_MANY_CONTACT_PROPERTIES: not applied: "p500", "p501" (A contact cannot have more than 500 custom properties)');
    // A refused name is not listed as a property of the workspace.
    const names = (await api('/v1/contacts/properties')).body.properties.map((p: { name: string }) => p.name);
    expect(names).toContain('p499');
    expect(names).not.toContain('p500');

    // The contacts API: adding one more is a 400 and changes nothing; updates and clears work.
    const post = await api('/v1/contacts', { body: { properties: { email, p0: 'api', p600: 'new' } } });
    expect(post.status).toBe(400);
    expect(post.body).toMatchObject({ statusCode: 400, code: 'TOO_MANY_CONTACT_PROPERTIES', message: 'A contact cannot have more than 500 custom properties' });
    const put = await api(`/v1/contacts/${c.id}`, { method: 'PUT', body: { properties: { p601: 'new', city: 'Oslo' } } });
    expect(put.status).toBe(400);
    expect(put.body.code).toBe('TOO_MANY_CONTACT_PROPERTIES');
    // Nor does a refused PUT move the contact.
    expect((await api(`/v1/contacts/${c.id}`, { method: 'PUT', body: { properties: { email: 'moved@limits.test', p602: 1 } } })).status).toBe(400);
    expect((await contact(email)).properties).toEqual(c.properties);
    const ok = await api(`/v1/contacts/${c.id}`, { method: 'PUT', body: { properties: { p0: 'api', p1: null, p600: 'fits now', city: 'Oslo' } } });
    expect(ok.status).toBe(200);
    expect(customCount(ok.body.contact)).toBe(500);
    expect(ok.body.contact.properties).toMatchObject({ p0: 'api', p600: 'fits now', city: 'Oslo' });
  });

  it(`a contact's JSON beyond ${LIMITS.maxContactJsonChars} characters: the trait that would grow it is refused`, async () => {
    const email = 'big@limits.test';
    // 30 strings of 1,000 characters: one ~30 KB property per event (an event is at most 32 KB).
    const big = (i: number) => Array.from({ length: 30 }, (_, j) => String.fromCharCode(97 + ((i + j) % 26)).repeat(1000));
    const ids: string[] = [];
    for (let i = 0; i < 18; i++) {
      const r = await api('/v1/events', { body: ev({ event: `big${i}`, identify: { email, traits: { [`p${i}`]: big(i) } } }) });
      expect(r.status).toBe(200);
      ids.push(r.body.messageId);
    }
    await s.drain();
    const c = await contact(email);
    const size = JSON.stringify(c.properties).length;
    expect(size).toBeLessThanOrEqual(LIMITS.maxContactJsonChars);
    expect(customCount(c)).toBe(17);
    const last = (await api(`/v1/events/${ids[17]}`)).body.event;
    expect(last.status).toBe('processed');
    expect(last.error).toMatch(/^CONTACT_TOO_LARGE: not applied: "p17" \(A contact's properties cannot exceed 524288 characters of JSON\)$/);
    expect((await api(`/v1/events/${ids[16]}`)).body.event).not.toHaveProperty('error');
    // Smaller values still fit in place of bigger ones.
    const put = await api(`/v1/contacts/${c.id}`, { method: 'PUT', body: { properties: { p0: 'small', p17: 'small too' } } });
    expect(put.status).toBe(200);
    const post = await api('/v1/contacts', { body: { properties: { email, p1: big(1).map((x) => x.toUpperCase()), p18: big(2), p19: big(3) } } });
    expect(post.status).toBe(400);
    expect(post.body.code).toBe('CONTACT_TOO_LARGE');
  });
});
