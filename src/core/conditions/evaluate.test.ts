import { describe, expect, it } from 'vitest';
import { parseCondition, type Condition, type ConditionScope, type PerformedCondition } from './condition.js';
import {
  countSatisfies,
  evaluate,
  eventMatchesPerformed,
  jsonEqual,
  nextPropertyChangeAt,
  performedExpiry,
  performedWindowStart,
  readPath,
  type EvalContext,
} from './evaluate.js';

const NOW = Date.UTC(2025, 0, 1); // 2025-01-01T00:00:00Z
const DAY = 86_400_000;

function cond(input: unknown, scope: ConditionScope = 'workflow'): Condition {
  return parseCondition(input, { scope, basePath: 'rule' });
}

function ctx(contact: Record<string, unknown> | null, extra: Partial<EvalContext> = {}): EvalContext {
  return {
    contact,
    event: null,
    now: NOW,
    performedCount: () => {
      throw new Error('performedCount not expected');
    },
    inSegment: () => {
      throw new Error('inSegment not expected');
    },
    ...extra,
  };
}

/** Evaluates one property test on `contact.x` holding `x` (absent when `x` is undefined). */
function test(op: string, value: unknown, x: unknown, now = NOW): boolean {
  const c = cond(value === undefined ? { property: 'contact.x', op } : { property: 'contact.x', op, value });
  return evaluate(c, ctx(x === undefined ? {} : { x }, { now }));
}

const MISSING = undefined;

describe('evaluate: paths', () => {
  it('descends into nested objects with dots', () => {
    const contact = { address: { city: { name: 'Paris' } } };
    expect(evaluate(cond({ property: 'contact.address.city.name', op: 'eq', value: 'Paris' }), ctx(contact))).toBe(true);
    expect(evaluate(cond({ property: 'contact.address.city', op: 'eq', value: { name: 'Paris' } }), ctx(contact))).toBe(true);
    expect(evaluate(cond({ property: 'contact.address.zip', op: 'exists' }), ctx(contact))).toBe(false);
    expect(evaluate(cond({ property: 'contact.address.city.name.x', op: 'exists' }), ctx(contact))).toBe(false);
  });

  it('does not index arrays or read through scalars', () => {
    expect(readPath('contact.items.0', { items: ['a'] }, null)).toBeUndefined();
    expect(readPath('contact.name.length', { name: 'abc' }, null)).toBeUndefined();
  });

  it('reads own properties only: nothing from Object.prototype', () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(evaluate(cond({ property: `contact.${name}`, op: 'exists' }), ctx({}))).toBe(false);
      expect(evaluate(cond({ property: `contact.a.${name}`, op: 'exists' }), ctx({ a: {} }))).toBe(false);
    }
    // An own property of that name is an ordinary property.
    expect(evaluate(cond({ property: 'contact.constructor', op: 'eq', value: 'x' }), ctx({ constructor: 'x' }))).toBe(true);
  });

  it('reads the triggering event for event paths, and treats no event or no contact as missing', () => {
    const event = { name: 'signup', properties: { plan: 'pro', meta: { src: 'ad' } }, timestamp: NOW };
    expect(evaluate(cond({ property: 'event.plan', op: 'eq', value: 'pro' }), ctx(null, { event }))).toBe(true);
    expect(evaluate(cond({ property: 'event.meta.src', op: 'eq', value: 'ad' }), ctx(null, { event }))).toBe(true);
    expect(evaluate(cond({ property: 'event.plan', op: 'exists' }), ctx(null))).toBe(false);
    expect(evaluate(cond({ property: 'event.plan', op: 'exists' }), ctx(null, { event: { ...event, properties: null } }))).toBe(false);
    expect(evaluate(cond({ property: 'contact.plan', op: 'not_exists' }), ctx(null, { event }))).toBe(true);
    // event paths read properties, not the event's own fields.
    expect(evaluate(cond({ property: 'event.name', op: 'exists' }), ctx(null, { event }))).toBe(false);
  });

  it('treats null as missing', () => {
    expect(test('exists', MISSING, null)).toBe(false);
    expect(test('not_exists', MISSING, null)).toBe(true);
    expect(readPath('contact.a.b', { a: null }, null)).toBeUndefined();
  });
});

describe('evaluate: exists / not_exists', () => {
  it('is true for any present value, including falsy ones', () => {
    for (const v of ['', 0, false, [], {}, 'x']) {
      expect(test('exists', MISSING, v)).toBe(true);
      expect(test('not_exists', MISSING, v)).toBe(false);
    }
    expect(test('exists', MISSING, MISSING)).toBe(false);
    expect(test('not_exists', MISSING, MISSING)).toBe(true);
  });
});

describe('evaluate: eq / neq', () => {
  it('is strict JSON equality', () => {
    expect(test('eq', 'pro', 'pro')).toBe(true);
    expect(test('eq', 'pro', 'Pro')).toBe(false);
    expect(test('eq', 'pro', 'pro ')).toBe(false);
    expect(test('eq', 5, 5)).toBe(true);
    expect(test('eq', 5, 5.0000001)).toBe(false);
    expect(test('eq', 5, '5')).toBe(false);
    expect(test('eq', '5', 5)).toBe(false);
    expect(test('eq', true, true)).toBe(true);
    expect(test('eq', true, 'true')).toBe(false);
    expect(test('eq', false, 0)).toBe(false);
    expect(test('eq', 0, -0)).toBe(true);
    expect(test('eq', 'x', MISSING)).toBe(false);
    expect(test('eq', 'x', null)).toBe(false);
  });

  it('compares arrays in order and objects whatever their key order', () => {
    expect(test('eq', ['a', 'b'], ['a', 'b'])).toBe(true);
    expect(test('eq', ['a', 'b'], ['b', 'a'])).toBe(false);
    expect(test('eq', ['a', 'b'], ['a', 'b', 'c'])).toBe(false);
    expect(test('eq', ['a'], 'a')).toBe(false);
    expect(test('eq', { a: 1, b: [2] }, { b: [2], a: 1 })).toBe(true);
    expect(test('eq', { a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(test('eq', { a: 1, b: 2 }, { a: 1 })).toBe(false);
    expect(test('eq', { a: 1 }, { a: '1' })).toBe(false);
    expect(test('eq', { a: 1 }, [1])).toBe(false);
    expect(test('eq', [1], { 0: 1 })).toBe(false);
  });

  it('neq is exactly not eq: true on a missing value', () => {
    expect(test('neq', 'pro', 'pro')).toBe(false);
    expect(test('neq', 'pro', 'free')).toBe(true);
    expect(test('neq', 5, '5')).toBe(true);
    expect(test('neq', 'pro', MISSING)).toBe(true);
    expect(test('neq', 'pro', null)).toBe(true);
    const c = cond({ not: { property: 'contact.x', op: 'eq', value: 'pro' } });
    for (const x of [MISSING, 'pro', 'free', 5]) {
      expect(evaluate(c, ctx(x === undefined ? {} : { x }))).toBe(test('neq', 'pro', x));
    }
  });
});

describe('evaluate: gt / gte / lt / lte on numbers', () => {
  it('compares on both sides of the boundary', () => {
    const rows: Array<[string, number, boolean, boolean, boolean]> = [
      // op, value; result for x = 9.999, 10, 10.001
      ['gt', 10, false, false, true],
      ['gte', 10, false, true, true],
      ['lt', 10, true, false, false],
      ['lte', 10, true, true, false],
    ];
    for (const [op, value, below, at, above] of rows) {
      expect([test(op, value, 9.999), test(op, value, 10), test(op, value, 10.001)]).toEqual([below, at, above]);
    }
  });

  it('is false on a missing value or a value of another type (no numeric strings)', () => {
    for (const op of ['gt', 'gte', 'lt', 'lte']) {
      for (const x of [MISSING, null, '10', '11', '9', true, [10], { v: 10 }]) expect(test(op, 10, x)).toBe(false);
    }
  });

  it('handles negatives and zero', () => {
    expect(test('gt', -1, 0)).toBe(true);
    expect(test('lt', 0, -0.5)).toBe(true);
    expect(test('gte', 0, -0)).toBe(true);
  });
});

describe('evaluate: gt / gte / lt / lte on dates', () => {
  const ref = '2024-06-01T00:00:00Z';
  const at = Date.UTC(2024, 5, 1);

  it('compares dates when the value is an ISO date, whatever form the property has', () => {
    for (const [below, same, above] of [
      ['2024-05-31T23:59:59.999Z', '2024-06-01T00:00:00.000Z', '2024-06-01T00:00:00.001Z'],
      [at - 1, at, at + 1],
      [at / 1000 - 1, at / 1000, at / 1000 + 1],
      ['2024-06-01T01:59:59+02:00', '2024-06-01T02:00:00+02:00', '2024-06-01T02:00:01+02:00'],
    ]) {
      expect([test('gt', ref, below), test('gt', ref, same), test('gt', ref, above)]).toEqual([false, false, true]);
      expect([test('gte', ref, below), test('gte', ref, same), test('gte', ref, above)]).toEqual([false, true, true]);
      expect([test('lt', ref, below), test('lt', ref, same), test('lt', ref, above)]).toEqual([true, false, false]);
      expect([test('lte', ref, below), test('lte', ref, same), test('lte', ref, above)]).toEqual([true, true, false]);
    }
  });

  it('reads a bare date as midnight UTC', () => {
    expect(test('gte', '2024-06-01', '2024-06-01T00:00:00Z')).toBe(true);
    expect(test('gt', '2024-06-01', '2024-06-01T00:00:00Z')).toBe(false);
  });

  it('is false on a property that is not a date', () => {
    for (const x of [MISSING, 'soon', '2024-02-30', true, {}, ['2024-07-01']]) expect(test('gt', ref, x)).toBe(false);
  });
});

describe('evaluate: contains', () => {
  it('on strings: case-sensitive substring', () => {
    expect(test('contains', 'gmail', 'a@gmail.com')).toBe(true);
    expect(test('contains', 'a@gmail.com', 'a@gmail.com')).toBe(true);
    expect(test('contains', 'Gmail', 'a@gmail.com')).toBe(false);
    expect(test('contains', 'a@gmail.com.', 'a@gmail.com')).toBe(false);
    expect(test('contains', '', 'x')).toBe(true);
    expect(test('contains', 1, 'a1')).toBe(false);
  });

  it('on arrays: an element equal to the value', () => {
    expect(test('contains', 'vip', ['new', 'vip'])).toBe(true);
    expect(test('contains', 'vi', ['new', 'vip'])).toBe(false);
    expect(test('contains', 'VIP', ['vip'])).toBe(false);
    expect(test('contains', 3, [1, 2, 3])).toBe(true);
    expect(test('contains', 3, ['3'])).toBe(false);
    expect(test('contains', true, [true])).toBe(true);
    expect(test('contains', 'a', [])).toBe(false);
    expect(test('contains', 'a', [['a']])).toBe(false);
  });

  it('is false on missing values and other types', () => {
    for (const x of [MISSING, null, 5, true, { vip: true }]) expect(test('contains', 'vip', x)).toBe(false);
  });
});

describe('evaluate: starts_with', () => {
  it('is a case-sensitive prefix of a string', () => {
    expect(test('starts_with', '+33', '+33612345678')).toBe(true);
    expect(test('starts_with', '+33', '+33')).toBe(true);
    expect(test('starts_with', '+33', '+3')).toBe(false);
    expect(test('starts_with', 'ab', 'Abc')).toBe(false);
    expect(test('starts_with', 'b', 'abc')).toBe(false);
    expect(test('starts_with', '', 'x')).toBe(true);
  });

  it('is false on missing values and other types', () => {
    for (const x of [MISSING, null, 123, ['ab'], { ab: 1 }]) expect(test('starts_with', '1', x)).toBe(false);
  });
});

describe('evaluate: in', () => {
  it('is true when the property equals one of the values', () => {
    expect(test('in', ['FR', 'DE'], 'FR')).toBe(true);
    expect(test('in', ['FR', 'DE'], 'DE')).toBe(true);
    expect(test('in', ['FR', 'DE'], 'fr')).toBe(false);
    expect(test('in', ['FR', 'DE'], 'ES')).toBe(false);
    expect(test('in', [1, 2], 2)).toBe(true);
    expect(test('in', [1, 2], '2')).toBe(false);
    expect(test('in', [], 'FR')).toBe(false);
  });

  it('does not unpack an array property, and is false when missing', () => {
    expect(test('in', ['FR'], ['FR'])).toBe(false);
    expect(test('in', ['FR'], MISSING)).toBe(false);
    expect(test('in', ['FR'], null)).toBe(false);
  });
});

describe('evaluate: before / after', () => {
  const iso = '2024-06-01T12:00:00Z';
  const ms = Date.UTC(2024, 5, 1, 12);

  it('compares strictly, on both sides of the boundary, for every form of value and property', () => {
    for (const value of [iso, ms, ms / 1000]) {
      for (const [below, same, above] of [
        ['2024-06-01T11:59:59.999Z', iso, '2024-06-01T12:00:00.001Z'],
        [ms - 1, ms, ms + 1],
        [ms / 1000 - 1, ms / 1000, ms / 1000 + 1],
      ]) {
        expect([test('before', value, below), test('before', value, same), test('before', value, above)]).toEqual([true, false, false]);
        expect([test('after', value, below), test('after', value, same), test('after', value, above)]).toEqual([false, false, true]);
      }
    }
  });

  it('reads numbers below 1e11 as seconds and others as milliseconds', () => {
    // 99,999,999,999 s is year 5138; 100,000,000,000 ms is 1973.
    expect(test('after', '3000-01-01', 99_999_999_999)).toBe(true);
    expect(test('after', '3000-01-01', 100_000_000_000)).toBe(false);
    expect(test('before', '1974-01-01', 100_000_000_000)).toBe(true);
  });

  it('is false on a missing value or a non-date', () => {
    for (const x of [MISSING, null, 'tomorrow', '2024-13-01', true, [ms], { t: ms }]) {
      expect(test('before', iso, x)).toBe(false);
      expect(test('after', iso, x)).toBe(false);
    }
  });

  it('does not depend on now', () => {
    expect(test('before', iso, ms - 1, 0)).toBe(true);
    expect(test('before', iso, ms - 1, ms * 10)).toBe(true);
  });
});

describe('evaluate: within_last', () => {
  it('is true in [now - duration, now], both ends included', () => {
    expect(test('within_last', '7d', NOW - 7 * DAY - 1)).toBe(false);
    expect(test('within_last', '7d', NOW - 7 * DAY)).toBe(true);
    expect(test('within_last', '7d', NOW - 7 * DAY + 1)).toBe(true);
    expect(test('within_last', '7d', NOW - 1)).toBe(true);
    expect(test('within_last', '7d', NOW)).toBe(true);
    expect(test('within_last', '7d', NOW + 1)).toBe(false);
  });

  it('reads ISO strings and Unix seconds, and ISO durations', () => {
    expect(test('within_last', 'PT2H', '2024-12-31T22:00:00Z')).toBe(true);
    expect(test('within_last', 'PT2H', '2024-12-31T21:59:59.999Z')).toBe(false);
    expect(test('within_last', '2h', NOW / 1000 - 3600)).toBe(true);
  });

  it('moves with now', () => {
    const t = NOW - DAY;
    expect(test('within_last', '1d', t, NOW)).toBe(true);
    expect(test('within_last', '1d', t, NOW + 1)).toBe(false);
    expect(test('within_last', '1d', t, t - 1)).toBe(false);
  });

  it('is false on a missing value or a non-date', () => {
    for (const x of [MISSING, null, 'recently', true, {}]) expect(test('within_last', '7d', x)).toBe(false);
  });
});

describe('evaluate: all / any / not', () => {
  const T = { property: 'contact.t', op: 'exists' };
  const F = { property: 'contact.f', op: 'exists' };
  const run = (c: unknown) => evaluate(cond(c), ctx({ t: 1 }));

  it('combines as logic does', () => {
    expect(run({ all: [T, T] })).toBe(true);
    expect(run({ all: [T, F] })).toBe(false);
    expect(run({ any: [F, T] })).toBe(true);
    expect(run({ any: [F, F] })).toBe(false);
    expect(run({ not: T })).toBe(false);
    expect(run({ not: F })).toBe(true);
    expect(run({ all: [] })).toBe(true);
    expect(run({ any: [] })).toBe(false);
    expect(run({ not: { all: [] } })).toBe(false);
    expect(run({ any: [{ all: [T, { not: F }] }, F] })).toBe(true);
    expect(run({ all: [{ any: [F, { not: T }] }, T] })).toBe(false);
  });

  it('short-circuits: later nodes are not evaluated', () => {
    const calls: string[] = [];
    const c = ctx({}, { inSegment: (id) => (calls.push(id), id === 'seg_yes') });
    expect(evaluate(cond({ any: [{ inSegment: 'seg_yes' }, { inSegment: 'seg_other' }] }), c)).toBe(true);
    expect(evaluate(cond({ all: [{ inSegment: 'seg_no' }, { inSegment: 'seg_other' }] }), c)).toBe(false);
    expect(calls).toEqual(['seg_yes', 'seg_no']);
  });
});

describe('evaluate: performed', () => {
  const withCount = (n: number) => ctx({}, { performedCount: () => n });

  it('defaults to at least once', () => {
    const c = cond({ performed: 'login' });
    expect(evaluate(c, withCount(0))).toBe(false);
    expect(evaluate(c, withCount(1))).toBe(true);
    expect(evaluate(c, withCount(5))).toBe(true);
  });

  it('applies gte, lte, eq and ranges on both sides of the bound', () => {
    const at = (count: unknown, n: number) => evaluate(cond({ performed: 'login', count }), withCount(n));
    expect([2, 3, 4].map((n) => at({ gte: 3 }, n))).toEqual([false, true, true]);
    expect([2, 3, 4].map((n) => at({ lte: 3 }, n))).toEqual([true, true, false]);
    expect([2, 3, 4].map((n) => at({ eq: 3 }, n))).toEqual([false, true, false]);
    expect([1, 2, 5, 6].map((n) => at({ gte: 2, lte: 5 }, n))).toEqual([false, true, true, false]);
    expect([0, 1].map((n) => at({ eq: 0 }, n))).toEqual([true, false]);
    expect([0, 1].map((n) => at({ lte: 0 }, n))).toEqual([true, false]);
  });

  it('passes the parsed node (with withinMs and key) to the callback', () => {
    const seen: PerformedCondition[] = [];
    const c = cond({ all: [{ performed: 'purchase', within: '30d', where: { property: 'event.amount', op: 'gt', value: 10 } }] });
    evaluate(c, ctx({}, { performedCount: (node) => (seen.push(node), 1) }));
    expect(seen).toHaveLength(1);
    expect(seen[0]?.performed).toBe('purchase');
    expect(seen[0]?.withinMs).toBe(30 * DAY);
    expect(seen[0]?.key).toBe(((c as { all: Condition[] }).all[0] as PerformedCondition).key);
  });

  it('countSatisfies checks every bound given', () => {
    expect(countSatisfies({}, 0)).toBe(true);
    expect(countSatisfies({ gte: 1 }, 0)).toBe(false);
    expect(countSatisfies({ gte: 1, lte: 1 }, 1)).toBe(true);
  });
});

describe('evaluate: inSegment', () => {
  it('asks the callback', () => {
    const c = cond({ inSegment: 'seg_a' });
    expect(evaluate(c, ctx({}, { inSegment: (id) => id === 'seg_a' }))).toBe(true);
    expect(evaluate(c, ctx({}, { inSegment: () => false }))).toBe(false);
  });
});

describe('eventMatchesPerformed', () => {
  const node = cond({
    performed: 'purchase',
    within: '7d',
    count: { gte: 3 },
    where: { all: [{ property: 'event.amount', op: 'gte', value: 10 }, { property: 'event.currency', op: 'eq', value: 'EUR' }] },
  }) as PerformedCondition;

  it('matches the name and where, ignoring within and count', () => {
    expect(eventMatchesPerformed(node, { name: 'purchase', properties: { amount: 10, currency: 'EUR' } })).toBe(true);
    expect(eventMatchesPerformed(node, { name: 'purchase', properties: { amount: 9.99, currency: 'EUR' } })).toBe(false);
    expect(eventMatchesPerformed(node, { name: 'purchase', properties: { amount: 10, currency: 'USD' } })).toBe(false);
    expect(eventMatchesPerformed(node, { name: 'purchase', properties: null })).toBe(false);
    expect(eventMatchesPerformed(node, { name: 'Purchase', properties: { amount: 10, currency: 'EUR' } })).toBe(false);
    expect(eventMatchesPerformed(node, { name: 'refund', properties: { amount: 10, currency: 'EUR' } })).toBe(false);
  });

  it('matches any event of the name without where', () => {
    const any = cond({ performed: 'login' }) as PerformedCondition;
    expect(eventMatchesPerformed(any, { name: 'login', properties: null })).toBe(true);
    expect(eventMatchesPerformed(any, { name: 'logout', properties: null })).toBe(false);
  });

  it('evaluates before/after in where against fixed instants (no clock)', () => {
    const n = cond({ performed: 'order', where: { property: 'event.shippedAt', op: 'after', value: '2024-01-01' } }, 'segment');
    expect(eventMatchesPerformed(n as PerformedCondition, { name: 'order', properties: { shippedAt: '2024-01-02' } })).toBe(true);
    expect(eventMatchesPerformed(n as PerformedCondition, { name: 'order', properties: { shippedAt: '2023-12-31' } })).toBe(false);
  });
});

describe('performed windows', () => {
  const node = cond({ performed: 'login', within: '1h' }) as PerformedCondition;
  const ever = cond({ performed: 'login' }) as PerformedCondition;

  it('counts events at or after now - within', () => {
    expect(performedWindowStart(node, NOW)).toBe(NOW - 3_600_000);
    expect(performedWindowStart(ever, NOW)).toBe(Number.NEGATIVE_INFINITY);
  });

  it('gives the first instant an event stops counting', () => {
    const t = NOW - 10;
    const expiry = performedExpiry(node, t) as number;
    expect(performedWindowStart(node, expiry - 1) <= t).toBe(true);
    expect(performedWindowStart(node, expiry) <= t).toBe(false);
    expect(performedExpiry(ever, t)).toBeNull();
  });

  it('works on a hand-written node without withinMs', () => {
    expect(performedWindowStart({ performed: 'x', within: '2h', key: 'k' }, NOW)).toBe(NOW - 7_200_000);
  });
});

describe('nextPropertyChangeAt', () => {
  const c = cond({ any: [{ property: 'contact.lastSeen', op: 'within_last', value: '1d' }, { property: 'contact.plan', op: 'eq', value: 'pro' }] });

  it('is the instant a date leaves its window', () => {
    const t = NOW - 1000;
    const next = nextPropertyChangeAt(c, { contact: { lastSeen: t }, now: NOW }) as number;
    expect(next).toBe(t + DAY + 1);
    expect(evaluate(c, ctx({ lastSeen: t }, { now: next - 1 }))).toBe(true);
    expect(evaluate(c, ctx({ lastSeen: t }, { now: next }))).toBe(false);
  });

  it('is the instant a future date enters its window', () => {
    const t = NOW + 5000;
    expect(nextPropertyChangeAt(c, { contact: { lastSeen: t }, now: NOW })).toBe(t);
    expect(evaluate(c, ctx({ lastSeen: t }, { now: t - 1 }))).toBe(false);
    expect(evaluate(c, ctx({ lastSeen: t }, { now: t }))).toBe(true);
  });

  it('is null when nothing changes with time', () => {
    expect(nextPropertyChangeAt(c, { contact: {}, now: NOW })).toBeNull();
    expect(nextPropertyChangeAt(c, { contact: { lastSeen: NOW - 2 * DAY }, now: NOW })).toBeNull();
    expect(nextPropertyChangeAt(cond({ performed: 'x', within: '1d' }), { contact: {}, now: NOW })).toBeNull();
  });

  it('takes the earliest of several, through not', () => {
    const two = cond({
      all: [
        { not: { property: 'contact.a', op: 'within_last', value: '1h' } },
        { property: 'event.b', op: 'within_last', value: '2h' },
      ],
    });
    const event = { name: 'e', properties: { b: NOW }, timestamp: NOW };
    expect(nextPropertyChangeAt(two, { contact: { a: NOW }, event, now: NOW })).toBe(NOW + 3_600_001);
  });
});

describe('jsonEqual: bounded by the condition value', () => {
  it('does not walk a deep property when the condition value is shallow', () => {
    const deep = JSON.parse('['.repeat(50_000) + ']'.repeat(50_000));
    expect(jsonEqual(deep, [[1]])).toBe(false);
    expect(jsonEqual(deep, 'x')).toBe(false);
  });
});
