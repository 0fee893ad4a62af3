import { describe, expect, it } from 'vitest';
import { mapSegmentCall, segmentEventName, type MappedCall } from './map-call.js';

const NOW = Date.UTC(2024, 0, 15, 12, 0, 0);

function map(raw: unknown, type: Parameters<typeof mapSegmentCall>[1]['type'] = null, extra: { sentAt?: unknown; context?: unknown } = {}): MappedCall {
  const r = mapSegmentCall(raw, { receivedAt: NOW, type, ...extra });
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

function refused(raw: unknown, type: Parameters<typeof mapSegmentCall>[1]['type'] = null) {
  const r = mapSegmentCall(raw, { receivedAt: NOW, type });
  if (r.ok) throw new Error('mapped');
  return r.error;
}

describe('segmentEventName', () => {
  it('turns each run of other characters into one underscore, then cuts to 60', () => {
    expect(segmentEventName('Order Completed')).toBe('Order_Completed');
    expect(segmentEventName('  Added  to / Cart!! ')).toBe('_Added_to_Cart_');
    expect(segmentEventName('user.signup:v2-ok_')).toBe('user.signup:v2-ok_');
    expect(segmentEventName('Café crème')).toBe('Caf_cr_me');
    expect(segmentEventName('a'.repeat(70))).toHaveLength(60);
    expect(segmentEventName('x\ud800y')).toBe('x_y');
  });
});

describe('mapSegmentCall', () => {
  it('track: mapped name, properties, the messageId as sent', () => {
    const m = map({ type: 'track', event: 'Order Completed', userId: 'u1', properties: { total: 5 }, messageId: 'm-1' });
    expect(m).toMatchObject({ type: 'track', userId: 'u1', anonymousId: null, email: null });
    expect(m.body).toEqual({ event: 'Order_Completed', traits: null, properties: { total: 5 }, timestamp: NOW, messageId: 'm-1' });
  });

  it('the path decides the type of a single call', () => {
    expect(map({ event: 'X', anonymousId: 'a' }, 'track').type).toBe('track');
    expect(map({ type: 'page', event: 'X', anonymousId: 'a' }, 'track').type).toBe('track');
  });

  it('page, screen: name (and category) join the properties, the call name winning', () => {
    expect(map({ type: 'page', name: 'Pricing', category: 'Docs', properties: { path: '/p', name: 'old' }, userId: 'u' }).body).toMatchObject({
      event: 'page',
      properties: { path: '/p', name: 'Pricing', category: 'Docs' },
    });
    expect(map({ type: 'screen', name: 'Home', userId: 'u' }).body!.properties).toEqual({ name: 'Home' });
    expect(map({ type: 'page', userId: 'u' }).body!.properties).toBeNull();
  });

  it('identify: traits, and the email from the traits', () => {
    const m = map({ type: 'identify', userId: 'u', traits: { email: 'A@B.io', plan: 'pro' } });
    expect(m.body).toMatchObject({ event: 'identify', traits: { email: 'A@B.io', plan: 'pro' }, properties: undefined });
    expect(m.email).toBe('A@B.io');
  });

  it('group: groupId and the group traits as properties; a group trait email is not the user', () => {
    const m = map({ type: 'group', userId: 'u', groupId: 'g1', traits: { name: 'Acme', email: 'sales@acme.io' } });
    expect(m.body!.properties).toEqual({ name: 'Acme', email: 'sales@acme.io', groupId: 'g1' });
    expect(m.email).toBeNull();
    expect(refused({ type: 'group', userId: 'u' }).message).toContain('groupId');
  });

  it('alias: no event, previousId and userId required', () => {
    expect(map({ type: 'alias', previousId: 'anon', userId: 'u' })).toMatchObject({ body: null, previousId: 'anon', userId: 'u' });
    expect(refused({ type: 'alias', userId: 'u' }).code).toBe('INVALID_EVENT');
    expect(refused({ type: 'alias', previousId: 'p' }).code).toBe('INVALID_EVENT');
  });

  it('the email: traits, then context.traits, then properties, then userId when it is one', () => {
    expect(map({ type: 'track', event: 'e', userId: 'u', context: { traits: { email: 'c@x.io' } }, properties: { email: 'p@x.io' } }).email).toBe('c@x.io');
    expect(map({ type: 'track', event: 'e', userId: 'u', properties: { email: 'p@x.io' } }).email).toBe('p@x.io');
    expect(map({ type: 'track', event: 'e', userId: 'Jane@X.io' }).email).toBe('Jane@X.io');
    expect(map({ type: 'track', event: 'e', userId: 'user-1' }).email).toBeNull();
    // A batch's context applies to items without their own.
    expect(map({ type: 'track', event: 'e', userId: 'u' }, null, { context: { traits: { email: 'b@x.io' } } }).email).toBe('b@x.io');
  });

  it('clock skew: receivedAt − (sentAt − timestamp); the batch sentAt when the call has none', () => {
    const ahead = NOW + 3_600_000;
    expect(map({ type: 'track', event: 'e', userId: 'u', timestamp: new Date(ahead - 2000).toISOString(), sentAt: new Date(ahead).toISOString() }).body!.timestamp).toBe(NOW - 2000);
    expect(map({ type: 'track', event: 'e', userId: 'u', timestamp: new Date(ahead - 2000).toISOString() }, null, { sentAt: new Date(ahead).toISOString() }).body!.timestamp).toBe(NOW - 2000);
    expect(map({ type: 'track', event: 'e', userId: 'u', timestamp: new Date(NOW - 60_000).toISOString() }).body!.timestamp).toBe(NOW - 60_000);
    expect(map({ type: 'track', event: 'e', userId: 'u', timestamp: 'yesterday' }).body!.timestamp).toBe('yesterday');
  });

  it('a derived messageId is stable across retries (it ignores sentAt and the receipt time) and follows the content', () => {
    const call = { type: 'track', event: 'e', userId: 'u', properties: { a: 1 }, timestamp: '2024-01-15T11:00:00Z' };
    const a = mapSegmentCall({ ...call, sentAt: '2024-01-15T11:00:01Z' }, { receivedAt: NOW, type: null });
    const b = mapSegmentCall({ ...call, sentAt: '2024-01-15T11:05:00Z' }, { receivedAt: NOW + 300_000, type: null });
    const c = mapSegmentCall({ ...call, properties: { a: 2 } }, { receivedAt: NOW, type: null });
    const id = (r: typeof a) => (r.ok ? r.value.body!.messageId : null);
    expect(id(a)).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(id(a)).toBe(id(b));
    expect(id(c)).not.toBe(id(a));
  });

  it('refuses what has no identity, an unknown type, and bad ids', () => {
    expect(refused({ type: 'track', event: 'e' }).message).toContain('userId');
    expect(refused({ type: 'nope', userId: 'u' }).message).toContain('"type"');
    expect(refused(['x']).code).toBe('INVALID_EVENT');
    expect(refused({ type: 'track', event: 'e', userId: { id: 1 } }).message).toContain('userId');
    expect(refused({ type: 'track', event: 'e', userId: 'x'.repeat(257) }).message).toContain('256');
    expect(refused({ type: 'track', event: 'e', anonymousId: 'a\u0000b' }).code).toBe('INVALID_EVENT');
    expect(map({ type: 'track', event: 'e', userId: 42 }).userId).toBe('42');
  });

  it('a __proto__ key in properties stays data', () => {
    const raw = JSON.parse('{"type":"page","userId":"u","name":"n","properties":{"__proto__":{"polluted":true}}}');
    const m = map(raw);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(m.body!.properties)).toBe(Object.prototype);
  });
});
