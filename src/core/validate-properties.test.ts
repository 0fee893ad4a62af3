import { describe, expect, it } from 'vitest';
import type { JsonObject } from './types.js';
import { checkPropertyBag, codePointLength, isPlainObject, withinCodePoints } from './validate-properties.js';

/** An object with `n` leaf keys k0…k(n-1). */
function leaves(n: number, value: unknown = 1): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) o[`k${i}`] = value;
  return o;
}

/** `{a: {a: … {a: leaf}}}` with `levels` keys on the path, built without recursion. */
function nested(levels: number, leaf: unknown): Record<string, unknown> {
  let o: unknown = leaf;
  for (let i = 0; i < levels; i++) o = { a: o };
  return o as Record<string, unknown>;
}

const check = (v: unknown) => checkPropertyBag(v, 'Properties');
const code = (v: unknown) => checkPropertyBag(v, 'Properties')?.code ?? null;

describe('isPlainObject', () => {
  it('is true for objects that are not arrays', () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject({ a: 1 })).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
  });
  it.each([null, undefined, [], [1], 'x', '', 0, 1, true, false])('is false for %j', (v) => {
    expect(isPlainObject(v)).toBe(false);
  });
});

describe('codePointLength / withinCodePoints', () => {
  it('counts a surrogate pair once and a lone surrogate once', () => {
    expect(codePointLength('')).toBe(0);
    expect(codePointLength('abc')).toBe(3);
    expect(codePointLength('é')).toBe(1);
    expect(codePointLength('😀')).toBe(1);
    expect(codePointLength('a😀b')).toBe(3);
    expect(codePointLength('\ud83d')).toBe(1);
    expect(codePointLength('\ud83dx')).toBe(2);
    expect(codePointLength('\ude00\ud83d')).toBe(2);
    expect(codePointLength('x\ud83d')).toBe(2);
    for (const s of ['a😀b', '\ud83d\ude00\ud83d', '\ude00\ude00', '👩‍👩‍👧']) expect(codePointLength(s)).toBe([...s].length);
  });
  it('compares against a maximum on both sides', () => {
    expect(withinCodePoints('a'.repeat(5), 5)).toBe(true);
    expect(withinCodePoints('a'.repeat(6), 5)).toBe(false);
    expect(withinCodePoints('😀'.repeat(5), 5)).toBe(true);
    expect(withinCodePoints('😀'.repeat(6), 5)).toBe(false);
  });
});

describe('checkPropertyBag: valid bags', () => {
  it('accepts an empty bag and every JSON value type', () => {
    expect(check({})).toBeNull();
    expect(check({ s: 'x', n: 1.5, neg: -3, z: 0, t: true, f: false, nil: null, arr: ['a', 1, true, null], empty: [] })).toBeNull();
    expect(check({ o: {}, p: { q: {} } })).toBeNull();
  });

  it('accepts keys that merely look dangerous', () => {
    expect(check({ constructor: 1, prototype: { a: 1 }, toString: 'x', hasOwnProperty: null, __proto: 1 })).toBeNull();
  });

  it('ignores inherited enumerable keys (only own keys are data)', () => {
    const bag = Object.create({ inherited: nested(10, 1) }) as JsonObject;
    bag.own = 1;
    expect(check(bag)).toBeNull();
  });
});

describe('checkPropertyBag: depth', () => {
  it('allows three levels of keys and refuses a fourth', () => {
    expect(check({ a: 1 })).toBeNull();
    expect(check(nested(2, 1))).toBeNull();
    expect(check(nested(3, 1))).toBeNull(); // {a:{a:{a:1}}}
    expect(check(nested(4, 1))).toEqual({ code: 'PROPERTIES_TOO_DEEP', message: 'Properties exceed maximum depth of 3' });
  });

  it('counts an empty object value as opening a level', () => {
    expect(check(nested(2, {}))).toBeNull(); // {a:{a:{}}}: the {} is level 3
    expect(code(nested(3, {}))).toBe('PROPERTIES_TOO_DEEP'); // {a:{a:{a:{}}}}: the {} is level 4
  });

  it('does not count arrays as a level', () => {
    expect(check(nested(3, [1, 2, 3]))).toBeNull();
  });

  it('finds a deep branch beside shallow ones', () => {
    expect(code({ a: 1, b: { c: 2 }, d: { e: { f: 3 } }, g: { h: { i: { j: 4 } } } })).toBe('PROPERTIES_TOO_DEEP');
  });

  it('names the field in the message', () => {
    expect(checkPropertyBag(nested(4, 1), 'Traits')).toEqual({
      code: 'PROPERTIES_TOO_DEEP',
      message: 'Traits exceed maximum depth of 3',
    });
  });

  it('refuses a body nested 5,000 levels deep without overflowing the stack', () => {
    const text = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    expect(code(JSON.parse(text))).toBe('PROPERTIES_TOO_DEEP');
    expect(code(nested(1_000_000, 1))).toBe('PROPERTIES_TOO_DEEP');
  });
});

describe('checkPropertyBag: leaf keys', () => {
  it('allows 100 leaf keys and refuses 101', () => {
    expect(check(leaves(100))).toBeNull();
    expect(check(leaves(101))).toEqual({ code: 'TOO_MANY_PROPERTIES', message: 'Properties cannot exceed 100 keys' });
  });

  it('counts leaves across all levels', () => {
    expect(check({ ...leaves(50), n: { ...leaves(49), m: { x: 1 } } })).toBeNull(); // 50 + 49 + 1
    expect(code({ ...leaves(50), n: { ...leaves(49), m: { x: 1, y: 2 } } })).toBe('TOO_MANY_PROPERTIES');
    expect(check({ a: leaves(100) })).toBeNull();
    expect(code({ a: leaves(50), b: { c: leaves(51) } })).toBe('TOO_MANY_PROPERTIES');
  });

  it('counts null and array values as leaves, object values not', () => {
    expect(code({ ...leaves(100, null), extra: null })).toBe('TOO_MANY_PROPERTIES');
    expect(code({ ...leaves(100, []), extra: [] })).toBe('TOO_MANY_PROPERTIES');
    expect(check({ ...leaves(100), o1: {}, o2: { o3: {} } })).toBeNull();
  });

  it('names the field in the message', () => {
    expect(checkPropertyBag(leaves(101), 'Traits')?.message).toBe('Traits cannot exceed 100 keys');
  });
});

describe('checkPropertyBag: strings', () => {
  it('allows 1,000 characters and refuses 1,001, as values and as array items, at any level', () => {
    const max = 'x'.repeat(1000);
    const over = 'x'.repeat(1001);
    const msg = { code: 'STRING_TOO_LONG', message: 'Properties string values cannot exceed 1000 characters' };
    expect(check({ s: max })).toBeNull();
    expect(check({ s: over })).toEqual(msg);
    expect(check({ a: [max] })).toBeNull();
    expect(check({ a: ['ok', over] })).toEqual(msg);
    expect(check(nested(3, max))).toBeNull();
    expect(check(nested(3, over))).toEqual(msg);
  });

  it('counts code points, not UTF-16 units', () => {
    expect(check({ s: '😀'.repeat(1000) })).toBeNull(); // 2,000 units
    expect(code({ s: '😀'.repeat(1001) })).toBe('STRING_TOO_LONG');
    expect(check({ s: 'é'.repeat(1000) })).toBeNull();
    expect(check({ s: 'x'.repeat(999) + '😀' })).toBeNull();
    expect(code({ s: 'x'.repeat(1000) + '😀' })).toBe('STRING_TOO_LONG');
  });

  it('does not limit keys', () => {
    expect(check({ ['k'.repeat(5000)]: 1 })).toBeNull();
  });

  it('names the field in the message', () => {
    expect(checkPropertyBag({ s: 'x'.repeat(1001) }, 'Traits')?.message).toBe(
      'Traits string values cannot exceed 1000 characters',
    );
  });
});

describe('checkPropertyBag: arrays', () => {
  it('allows 100 items and refuses 101', () => {
    expect(check({ a: Array(100).fill(1) })).toBeNull();
    expect(check({ a: Array(101).fill(1) })).toEqual({
      code: 'ARRAY_TOO_LONG',
      message: 'Properties arrays cannot exceed 100 items',
    });
  });

  it('checks the length before the items', () => {
    expect(code({ a: Array(101).fill({}) })).toBe('ARRAY_TOO_LONG');
  });

  it('accepts primitive items only', () => {
    const msg = { code: 'INVALID_ARRAY_ITEM', message: 'Properties arrays can only contain primitive values' };
    expect(check({ a: ['s', 0, -1.5, true, false, null] })).toBeNull();
    expect(check({ a: [{}] })).toEqual(msg);
    expect(check({ a: [1, { b: 2 }] })).toEqual(msg);
    expect(check({ a: [[1]] })).toEqual(msg);
    expect(check({ a: [[]] })).toEqual(msg);
  });

  it('names the field in the messages', () => {
    expect(checkPropertyBag({ a: Array(101).fill(1) }, 'Traits')?.message).toBe('Traits arrays cannot exceed 100 items');
    expect(checkPropertyBag({ a: [{}] }, 'Traits')?.message).toBe('Traits arrays can only contain primitive values');
  });
});

describe('checkPropertyBag: __proto__', () => {
  it('refuses a __proto__ key at any level, as JSON.parse creates it', () => {
    const expected = { code: 'INVALID_PROPERTIES', message: 'Properties cannot contain the key "__proto__"' };
    expect(check(JSON.parse('{"__proto__": 1}'))).toEqual(expected);
    expect(check(JSON.parse('{"__proto__": {"polluted": true}}'))).toEqual(expected);
    expect(check(JSON.parse('{"a": {"__proto__": null}}'))).toEqual(expected);
    expect(check(JSON.parse('{"a": {"b": {"__proto__": "x"}}}'))).toEqual(expected);
  });

  it('uses INVALID_TRAITS for traits', () => {
    expect(checkPropertyBag(JSON.parse('{"__proto__": 1}'), 'Traits')).toEqual({
      code: 'INVALID_TRAITS',
      message: 'Traits cannot contain the key "__proto__"',
    });
  });

  it('does not mistake an inherited prototype for the key', () => {
    expect(check({ a: 1 })).toBeNull(); // every object has a __proto__ accessor, inherited
  });
});

describe('checkPropertyBag: values JSON cannot carry (reachable only from code)', () => {
  it.each([
    ['undefined', { a: undefined }],
    ['NaN', { a: NaN }],
    ['Infinity', { a: Infinity }],
    ['a function', { a: () => 1 }],
    ['a bigint', { a: 1n }],
    ['NaN in an array', { a: [NaN] }],
  ])('refuses %s', (_name, bag) => {
    expect(check(bag)).toEqual({ code: 'INVALID_PROPERTIES', message: 'Properties can only contain JSON values' });
  });

  it('refuses undefined in an array as a non-primitive item', () => {
    expect(code({ a: [undefined] })).toBe('INVALID_ARRAY_ITEM');
  });

  it('refuses a value that is not a plain object', () => {
    expect(code([])).toBe('INVALID_PROPERTIES');
    expect(checkPropertyBag('x', 'Traits')?.code).toBe('INVALID_TRAITS');
  });
});

describe('checkPropertyBag: numbers JSON.parse cannot keep exactly', () => {
  it('refuses 2^53 and beyond, either sign, in values and arrays, naming the key', () => {
    for (const n of [2 ** 53, -(2 ** 53), 1e19, 12345678901234567891, 1.5e300]) {
      expect(check({ orderId: n })).toEqual({
        code: 'INVALID_PROPERTIES',
        message: 'Properties cannot hold an integer beyond 2^53 exactly ("orderId"): send such numbers as strings',
      });
    }
    expect(check({ a: { ids: [1, 2 ** 60] } })?.message).toContain('("ids")');
    expect(checkPropertyBag({ n: 2 ** 53 }, 'Traits')?.code).toBe('INVALID_TRAITS');
  });

  it('keeps every number below 2^53, fractions included', () => {
    expect(check({ a: 2 ** 53 - 1, b: -(2 ** 53 - 1), c: 0.1, d: -0, e: [9007199254740991, 1e15, 3.14] })).toBeNull();
  });
});

describe('checkPropertyBag: which error', () => {
  it('reports the first violation in document order, one error only', () => {
    expect(code({ s: 'x'.repeat(1001), d: nested(5, 1) })).toBe('STRING_TOO_LONG');
    expect(code({ d: nested(5, 1), s: 'x'.repeat(1001) })).toBe('PROPERTIES_TOO_DEEP');
  });
});

describe('checkPropertyBag: cost', () => {
  it('checks a typical bag in microseconds (loose bound, guards against accidental quadratic work)', () => {
    const bag = JSON.parse(
      JSON.stringify({
        plan: 'premium',
        amount: 99.99,
        items: ['product_1', 'product_2'],
        order: { id: 'order_12345', shipping: { city: 'Paris', express: true } },
        ...leaves(90, 'value'),
      }),
    ) as JsonObject;
    let failures = 0;
    const start = performance.now();
    for (let i = 0; i < 20_000; i++) if (checkPropertyBag(bag, 'Properties') !== null) failures++;
    expect(failures).toBe(0);
    // ~5 µs each here (100 ms for 20,000, warm-up included); 20× slower still passes.
    expect(performance.now() - start).toBeLessThan(2_000);
  });
});

describe('NUL in keys', () => {
  it('refuses a key holding U+0000 at any level, names the field', () => {
    expect(checkPropertyBag({ 'a\u0000b': 1 }, 'Properties')).toEqual({ code: 'INVALID_PROPERTIES', message: 'Properties keys cannot contain the NUL character' });
    expect(checkPropertyBag({ x: { 'a\u0000': 1 } }, 'Traits')?.code).toBe('INVALID_TRAITS');
    expect(checkPropertyBag({ 'a\u0001b': 1 }, 'Properties')).toBeNull();
  });
});
