import { describe, expect, it } from 'vitest';
import { canonicalJson, deriveMessageId } from './message-id.js';
import type { JsonValue, ValidEvent } from './types.js';
import { validateEvent } from './validate-event.js';

const NOW = Date.UTC(2025, 0, 1);

function ev(overrides: Partial<ValidEvent> = {}): ValidEvent {
  return {
    event: 'user.signup',
    email: 'user@example.com',
    properties: null,
    traits: null,
    timestamp: NOW,
    clientTimestamp: false,
    messageId: null,
    ...overrides,
  };
}

/** The id of a raw event as a route would compute it: validate, then derive. */
function idOf(raw: unknown, workspaceId = 'ws_1', now = NOW): string {
  const r = validateEvent(raw, now);
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return deriveMessageId(workspaceId, r.value);
}

describe('canonicalJson', () => {
  it('writes scalars as JSON.stringify does', () => {
    const scalars: JsonValue[] = [null, true, false, 0, -0, 1, -1.5, 0.1, 1e21, 1.5e-7, 2 ** 53, '', 'a"b\\c\n', 'é😀', '\ud800', '\u2028'];
    for (const s of scalars) expect(canonicalJson(s)).toBe(JSON.stringify(s));
  });

  it('sorts object keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, 2], c: null } })).toBe('{"a":{"c":null,"d":[3,1,2]},"b":1}');
    expect(canonicalJson([{ z: 1, y: 2 }, [], {}])).toBe('[{"y":2,"z":1},[],{}]');
  });

  it('sorts by UTF-16 code unit, not by code point or locale', () => {
    // U+1F600 is \ud83d\ude00: before U+FFFF in UTF-16 order, after it in code point order.
    expect(canonicalJson({ '\uffff': 1, '😀': 2, é: 3, B: 4, a: 5, _: 6, '10': 7, '9': 8 })).toBe(
      '{"10":7,"9":8,"B":4,"_":6,"a":5,"é":3,"😀":2,"\uffff":1}',
    );
  });

  it('equals JSON.stringify for an object whose keys are already sorted', () => {
    const v = { a: [1, 'two', true, null, { b: 'c' }], d: { e: { f: 'g' } }, h: -0.5 };
    expect(canonicalJson(v)).toBe(JSON.stringify(v));
  });

  it('gives the same text whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
    expect(canonicalJson({ x: { q: 1, p: [{ n: 1, m: 2 }] } })).toBe(canonicalJson({ x: { p: [{ m: 2, n: 1 }], q: 1 } }));
  });

  it('keeps an own "__proto__" key as data', () => {
    expect(canonicalJson(JSON.parse('{"b":2,"__proto__":{"x":1}}'))).toBe('{"__proto__":{"x":1},"b":2}');
  });

  it('omits undefined members and writes undefined array items as null, like JSON.stringify', () => {
    const v = { a: undefined, b: [undefined, 1] } as unknown as JsonValue;
    expect(canonicalJson(v)).toBe('{"b":[null,1]}');
    expect(canonicalJson({ a: undefined, b: 1 } as unknown as JsonValue)).toBe('{"b":1}');
    expect(canonicalJson({ b: 1, a: undefined } as unknown as JsonValue)).toBe('{"b":1}');
  });

  it('handles input nested far deeper than validation allows without overflowing the stack', () => {
    let v: JsonValue = 1;
    for (let i = 0; i < 100_000; i++) v = i % 2 === 0 ? [v] : { k: v };
    const text = canonicalJson(v);
    // "1", plus "[" "]" per array and '{"k":' "}" per object.
    expect(text.length).toBe(1 + 50_000 * 2 + 50_000 * 6);
    expect(text.startsWith('{"k":[{"k":[')).toBe(true);
  });
});

describe('deriveMessageId', () => {
  it('is msg_ followed by 32 lower-case hex digits', () => {
    expect(deriveMessageId('ws_1', ev())).toMatch(/^msg_[0-9a-f]{32}$/);
  });

  it('is stable across releases (changing it would break dedup of in-flight SDK retries)', () => {
    // Pinned: sha256('["ws_1","user.signup","user@example.com",{"plan":"premium"},null,1705314600000]').
    const id = deriveMessageId('ws_1', ev({ properties: { plan: 'premium' }, timestamp: 1705314600000, clientTimestamp: true }));
    expect(id).toBe('msg_93289543e448607e587fa49abf012e12');
  });

  it('is the same for a resent identical event', () => {
    const raw = { event: 'page.view', identify: { email: 'a@b.co' }, properties: { page: '/home' } };
    expect(idOf(raw)).toBe(idOf(structuredClone(raw)));
  });

  it('ignores object key order', () => {
    expect(idOf({ event: 'x', identify: { email: 'a@b.co' }, properties: { b: 1, a: 2 } })).toBe(
      idOf({ event: 'x', identify: { email: 'a@b.co' }, properties: { a: 2, b: 1 } }),
    );
    expect(idOf({ event: 'x', identify: { email: 'a@b.co', traits: { n: { z: 1, y: 2 } } } })).toBe(
      idOf({ event: 'x', identify: { traits: { n: { y: 2, z: 1 } }, email: 'a@b.co' } }),
    );
  });

  it('treats {} as absent, for properties and traits', () => {
    const plain = idOf({ event: 'x', identify: { email: 'a@b.co' } });
    expect(idOf({ event: 'x', identify: { email: 'a@b.co', traits: {} }, properties: {} })).toBe(plain);
    expect(idOf({ event: 'x', identify: { email: 'a@b.co', traits: null }, properties: null })).toBe(plain);
    // Even when a caller builds a ValidEvent by hand with {}.
    expect(deriveMessageId('ws_1', ev({ properties: {}, traits: {} }))).toBe(deriveMessageId('ws_1', ev()));
  });

  it('normalises the email first', () => {
    expect(idOf({ event: 'x', identify: { email: ' Jane@Example.COM ' } })).toBe(idOf({ event: 'x', identify: { email: 'jane@example.com' } }));
  });

  it('gives one id for one instant, whatever its notation', () => {
    const ids = ['2024-01-15T10:30:00Z', '2024-01-15T10:30', '2024-01-15T11:30:00+01:00', 1705314600, 1705314600000].map((timestamp) =>
      idOf({ event: 'x', identify: { email: 'a@b.co' }, timestamp }),
    );
    expect(new Set(ids).size).toBe(1);
  });

  it('does not depend on the receipt time when the client sent no timestamp', () => {
    const raw = { event: 'x', identify: { email: 'a@b.co' } };
    expect(idOf(raw, 'ws_1', NOW)).toBe(idOf(raw, 'ws_1', NOW + 3_600_000));
    expect(deriveMessageId('ws_1', ev({ timestamp: 1 }))).toBe(deriveMessageId('ws_1', ev({ timestamp: 2 })));
  });

  it('differs when any part of the content differs', () => {
    const reference = deriveMessageId('ws_1', ev({ properties: { a: 1 }, traits: { t: 'x' } }));
    const variants = [
      deriveMessageId('ws_2', ev({ properties: { a: 1 }, traits: { t: 'x' } })),
      deriveMessageId('ws_1', ev({ event: 'user.login', properties: { a: 1 }, traits: { t: 'x' } })),
      deriveMessageId('ws_1', ev({ event: 'User.Signup', properties: { a: 1 }, traits: { t: 'x' } })),
      deriveMessageId('ws_1', ev({ email: 'other@example.com', properties: { a: 1 }, traits: { t: 'x' } })),
      deriveMessageId('ws_1', ev({ properties: { a: 2 }, traits: { t: 'x' } })),
      deriveMessageId('ws_1', ev({ properties: { a: '1' }, traits: { t: 'x' } })),
      deriveMessageId('ws_1', ev({ properties: { a: 1, b: null }, traits: { t: 'x' } })),
      deriveMessageId('ws_1', ev({ properties: null, traits: { t: 'x' } })),
      deriveMessageId('ws_1', ev({ properties: { a: 1 }, traits: { t: 'y' } })),
      deriveMessageId('ws_1', ev({ properties: { a: 1 }, traits: null })),
      deriveMessageId('ws_1', ev({ properties: { a: 1 }, traits: { t: 'x' }, clientTimestamp: true })),
      deriveMessageId('ws_1', ev({ properties: { a: 1 }, traits: { t: 'x' }, clientTimestamp: true, timestamp: NOW + 1 })),
    ];
    expect(new Set([reference, ...variants]).size).toBe(variants.length + 1);
  });

  it('does not confuse properties with traits', () => {
    expect(deriveMessageId('ws_1', ev({ properties: { a: 1 } }))).not.toBe(deriveMessageId('ws_1', ev({ traits: { a: 1 } })));
  });

  it('cannot be fooled by shifting text between fields', () => {
    expect(deriveMessageId('ws', ev({ event: '1x' }))).not.toBe(deriveMessageId('ws1', ev({ event: 'x' })));
    expect(deriveMessageId('ws","x', ev())).not.toBe(deriveMessageId('ws', ev({ event: 'x","user.signup' })));
  });

  it('ignores the client messageId field (derivation is only for events without one)', () => {
    expect(deriveMessageId('ws_1', ev({ messageId: 'abc' }))).toBe(deriveMessageId('ws_1', ev()));
  });
});
