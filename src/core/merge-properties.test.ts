import { describe, expect, it } from 'vitest';
import {
  compareClock,
  type ContactLimits,
  ContactMerge,
  type ContactState,
  describeRefusals,
  mergeProperties,
  type Refusal,
  patchFromTraits,
  type PropertyClock,
} from './merge-properties.js';
import type { JsonObject, JsonValue } from './types.js';

const EMPTY: ContactState = { properties: {}, clocks: {} };
const DAY = 86_400_000;
const TODAY = Date.UTC(2025, 0, 1);

function apply(state: ContactState, patch: JsonObject, clock: PropertyClock): ContactState {
  return mergeProperties(state, patch, clock).state;
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Deterministic PRNG (mulberry32) so a failing permutation can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

function* permutations<T>(items: readonly T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield [...items];
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const p of permutations(rest)) yield [items[i] as T, ...p];
  }
}

describe('compareClock', () => {
  it('orders by time first, then by sequence', () => {
    expect(compareClock([1, 9], [2, 0])).toBeLessThan(0);
    expect(compareClock([2, 0], [1, 9])).toBeGreaterThan(0);
    expect(compareClock([5, 1], [5, 2])).toBeLessThan(0);
    expect(compareClock([5, 2], [5, 1])).toBeGreaterThan(0);
    expect(compareClock([5, 2], [5, 2])).toBe(0);
    expect(compareClock([-5, 0], [5, 0])).toBeLessThan(0);
  });
});

describe('mergeProperties', () => {
  it('sets values and their clocks on an empty contact', () => {
    const r = mergeProperties(EMPTY, { firstName: 'John', tags: ['a'], address: { city: 'Paris' } }, [TODAY, 1]);
    expect(r.changed).toBe(true);
    expect(r.state).toEqual({
      properties: { firstName: 'John', tags: ['a'], address: { city: 'Paris' } },
      clocks: { firstName: [TODAY, 1], tags: [TODAY, 1], address: [TODAY, 1] },
    });
  });

  it('returns a new state and never modifies its inputs', () => {
    const state = deepFreeze({ properties: { a: 1, b: 2 }, clocks: { a: [1, 1], b: [1, 1] } } as ContactState);
    const patch = deepFreeze({ a: 9, b: null, c: 3 });
    const clock = deepFreeze([2, 1] as const);
    const before = structuredClone(state);
    const r = mergeProperties(state, patch, clock);
    expect(state).toEqual(before);
    expect(r.state).not.toBe(state);
    expect(r.state.properties).not.toBe(state.properties);
    expect(r.state.clocks).not.toBe(state.clocks);
    expect(r.state).toEqual({ properties: { a: 9, c: 3 }, clocks: { a: [2, 1], b: [2, 1], c: [2, 1] } });
  });

  it('keeps its own copy of the clock', () => {
    const clock: [number, number] = [TODAY, 1];
    const s = apply(EMPTY, { a: 1 }, clock);
    clock[0] = 0;
    expect(s.clocks.a).toEqual([TODAY, 1]);
  });

  it('lets a newer event overwrite', () => {
    const s1 = apply(EMPTY, { plan: 'free' }, [TODAY - DAY, 1]);
    const r = mergeProperties(s1, { plan: 'premium' }, [TODAY, 2]);
    expect(r.changed).toBe(true);
    expect(r.state.properties).toEqual({ plan: 'premium' });
  });

  it('never lets a backdated event overwrite a newer value', () => {
    const today = apply(EMPTY, { plan: 'premium' }, [TODAY, 1]);
    // A backfill of last year's events arrives later (higher sequence), still older in event time.
    const r = mergeProperties(today, { plan: 'free' }, [TODAY - 365 * DAY, 99]);
    expect(r.changed).toBe(false);
    expect(r.state).toEqual(today);
  });

  it('resolves keys independently: an old event still sets keys nobody set later', () => {
    const s1 = apply(EMPTY, { plan: 'premium' }, [TODAY, 1]);
    const r = mergeProperties(s1, { plan: 'free', city: 'Paris' }, [TODAY - DAY, 2]);
    expect(r.changed).toBe(true);
    expect(r.state.properties).toEqual({ plan: 'premium', city: 'Paris' });
    expect(r.state.clocks).toEqual({ plan: [TODAY, 1], city: [TODAY - DAY, 2] });
  });

  it('breaks a same-time tie by sequence: the later-accepted event wins, in either order', () => {
    const early: [JsonObject, PropertyClock] = [{ plan: 'a' }, [TODAY, 1]];
    const late: [JsonObject, PropertyClock] = [{ plan: 'b' }, [TODAY, 2]];
    expect(apply(apply(EMPTY, ...early), ...late).properties).toEqual({ plan: 'b' });
    expect(apply(apply(EMPTY, ...late), ...early).properties).toEqual({ plan: 'b' });
  });

  it('applies an equal clock (ties go to the later one)', () => {
    const s1 = apply(EMPTY, { plan: 'a' }, [TODAY, 1]);
    const r = mergeProperties(s1, { plan: 'b' }, [TODAY, 1]);
    expect(r.changed).toBe(true);
    expect(r.state.properties).toEqual({ plan: 'b' });
  });

  it('is idempotent: re-applying the same patch at the same clock changes nothing', () => {
    const patch = { a: 1, n: { y: [1, 2], x: 'z' }, gone: null };
    const s1 = apply(EMPTY, patch, [TODAY, 1]);
    const r = mergeProperties(s1, { gone: null, n: { x: 'z', y: [1, 2] }, a: 1 }, [TODAY, 1]);
    expect(r.changed).toBe(false);
    expect(r.state).toEqual(s1);
  });

  it('reports a change when only the clock moves forward', () => {
    const s1 = apply(EMPTY, { a: 1 }, [TODAY, 1]);
    const r = mergeProperties(s1, { a: 1 }, [TODAY, 2]);
    expect(r.changed).toBe(true);
    expect(r.state.clocks.a).toEqual([TODAY, 2]);
  });

  it('reports no change for an empty patch', () => {
    const s1 = apply(EMPTY, { a: 1 }, [TODAY, 1]);
    const r = mergeProperties(s1, {}, [TODAY, 2]);
    expect(r.changed).toBe(false);
    expect(r.state).toEqual(s1);
  });

  describe('null', () => {
    it('clears the property and records a tombstone clock', () => {
      const s1 = apply(EMPTY, { phone: '+1234567890', city: 'Paris' }, [TODAY - DAY, 1]);
      const r = mergeProperties(s1, { phone: null }, [TODAY, 2]);
      expect(r.changed).toBe(true);
      expect(r.state.properties).toEqual({ city: 'Paris' });
      expect('phone' in r.state.properties).toBe(false);
      expect(r.state.clocks.phone).toEqual([TODAY, 2]);
    });

    it('blocks an older event from bringing the value back', () => {
      const cleared = apply(apply(EMPTY, { phone: '1' }, [TODAY - DAY, 1]), { phone: null }, [TODAY, 2]);
      const r = mergeProperties(cleared, { phone: '2' }, [TODAY - DAY / 2, 3]);
      expect(r.changed).toBe(false);
      expect(r.state.properties).toEqual({});
    });

    it('lets a newer event set the value again', () => {
      const cleared = apply(EMPTY, { phone: null }, [TODAY, 1]);
      expect(apply(cleared, { phone: '3' }, [TODAY + 1, 0]).properties).toEqual({ phone: '3' });
    });

    it('records a tombstone even for a property that never existed', () => {
      const r = mergeProperties(EMPTY, { phone: null }, [TODAY, 1]);
      expect(r.changed).toBe(true);
      expect(r.state).toEqual({ properties: {}, clocks: { phone: [TODAY, 1] } });
      expect(apply(r.state, { phone: 'old' }, [TODAY - 1, 9]).properties).toEqual({});
    });

    it('is ignored when older than the value', () => {
      const s1 = apply(EMPTY, { phone: '1' }, [TODAY, 1]);
      const r = mergeProperties(s1, { phone: null }, [TODAY - 1, 2]);
      expect(r.changed).toBe(false);
      expect(r.state.properties).toEqual({ phone: '1' });
    });
  });

  describe('__proto__', () => {
    it('skips a __proto__ key, so no prototype is ever replaced', () => {
      const patch = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as JsonObject;
      const r = mergeProperties(EMPTY, patch, [TODAY, 1]);
      expect(r.state.properties).toEqual({ a: 1 });
      expect(Object.getPrototypeOf(r.state.properties)).toBe(Object.prototype);
      expect(Object.getPrototypeOf(r.state.clocks)).toBe(Object.prototype);
      expect(Object.keys(r.state.clocks)).toEqual(['a']);
      expect((r.state.properties as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('stores keys such as constructor or hasOwnProperty as plain data', () => {
      const s = apply(EMPTY, { constructor: 'c', hasOwnProperty: 'h', toString: null }, [TODAY, 1]);
      expect(Object.keys(s.properties).sort()).toEqual(['constructor', 'hasOwnProperty']);
      const r = mergeProperties(s, { constructor: 'd' }, [TODAY, 2]);
      expect(r.state.properties.constructor).toBe('d');
      expect(r.state.clocks.toString).toEqual([TODAY, 1]);
    });
  });

  describe('order independence', () => {
    const KEYS = ['a', 'b', 'c', 'd'];
    const VALUES: JsonValue[] = [1, 2, 'x', 'y', true, null, null, { n: 1 }, [1, 2], 0];

    /** `count` patches with distinct clocks; times repeat so sequence tie-breaks are exercised. */
    function randomUpdates(random: () => number, count: number): [JsonObject, PropertyClock][] {
      const updates: [JsonObject, PropertyClock][] = [];
      for (let seq = 0; seq < count; seq++) {
        const patch: JsonObject = {};
        for (const k of KEYS) if (random() < 0.5) patch[k] = VALUES[Math.floor(random() * VALUES.length)] as JsonValue;
        updates.push([patch, [TODAY + Math.floor(random() * 3) * DAY, seq]]);
      }
      return updates;
    }

    /** What the contact must be: per key, the value of the update with the greatest clock. */
    function oracle(updates: [JsonObject, PropertyClock][]): ContactState {
      const properties: JsonObject = {};
      const clocks: Record<string, PropertyClock> = {};
      for (const k of KEYS) {
        let best: [JsonValue, PropertyClock] | null = null;
        for (const [patch, clock] of updates) {
          if (!(k in patch)) continue;
          if (best === null || compareClock(clock, best[1]) > 0) best = [patch[k] as JsonValue, clock];
        }
        if (best === null) continue;
        clocks[k] = best[1];
        if (best[0] !== null) properties[k] = best[0];
      }
      return { properties, clocks };
    }

    it('reaches the same contact in every one of the 720 orders of six events', () => {
      const updates = randomUpdates(rng(42), 6);
      const expected = oracle(updates);
      let orders = 0;
      for (const order of permutations(updates)) {
        expect(order.reduce((s, [patch, clock]) => apply(s, patch, clock), EMPTY)).toEqual(expected);
        orders++;
      }
      expect(orders).toBe(720);
    });

    it('reaches the same contact for random shuffles of larger histories (200 seeds)', () => {
      for (let seed = 1; seed <= 200; seed++) {
        const random = rng(seed);
        const updates = randomUpdates(random, 12);
        const expected = oracle(updates);
        for (let trial = 0; trial < 5; trial++) {
          const final = shuffle(updates, random).reduce((s, [patch, clock]) => apply(s, patch, clock), EMPTY);
          expect(final, `seed ${seed}`).toEqual(expected);
        }
      }
    });

    it('is unaffected by duplicates (an event processed twice after a retry)', () => {
      const random = rng(7);
      const updates = randomUpdates(random, 8);
      const withRetries = [...updates, ...updates.slice(0, 4)];
      expect(shuffle(withRetries, random).reduce((s, [p, c]) => apply(s, p, c), EMPTY)).toEqual(oracle(updates));
    });
  });
});

describe('patchFromTraits', () => {
  it('passes ordinary traits through, null included', () => {
    const traits = { firstName: 'John', isCustomer: true, lifetimeValue: 499.99, tags: ['a'], address: { city: 'Paris' }, phone: null };
    expect(patchFromTraits(traits)).toEqual(traits);
  });

  it('drops email: identity comes from identify.email only', () => {
    expect(patchFromTraits({ email: 'other@example.com', firstName: 'Jane' })).toEqual({ firstName: 'Jane' });
    expect(patchFromTraits({ email: null })).toEqual({});
  });

  it('keeps status only when it is a known contact status', () => {
    for (const status of ['SUBSCRIBED', 'UNSUBSCRIBED', 'ARCHIVED', 'OPT_IN_PENDING', 'BANNED']) {
      expect(patchFromTraits({ status })).toEqual({ status });
    }
    for (const status of ['subscribed', 'Subscribed', ' SUBSCRIBED', 'ACTIVE', '', null, 1, true, ['SUBSCRIBED'], { s: 'SUBSCRIBED' }]) {
      expect(patchFromTraits({ status: status as JsonValue, a: 1 })).toEqual({ a: 1 });
    }
  });

  it('drops a __proto__ key and returns a fresh plain object', () => {
    const traits = JSON.parse('{"__proto__": {"x": 1}, "a": 1}') as JsonObject;
    const patch = patchFromTraits(traits);
    expect(patch).toEqual({ a: 1 });
    expect(Object.keys(patch)).toEqual(['a']);
    expect(Object.getPrototypeOf(patch)).toBe(Object.prototype);
    expect(patch).not.toBe(traits);
  });

  it('does not modify the traits', () => {
    const traits = deepFreeze({ email: 'a@b.co', status: 'nope', a: 1 });
    expect(patchFromTraits(traits)).toEqual({ a: 1 });
    expect(traits).toEqual({ email: 'a@b.co', status: 'nope', a: 1 });
  });
});

describe('ContactMerge limits', () => {
  const SMALL: ContactLimits = { maxCustomProperties: 3, maxClearedProperties: 2, maxJsonChars: 400 };
  const fresh = (limits = SMALL) => new ContactMerge({ properties: { email: 'a@b.co', status: 'SUBSCRIBED' }, clocks: {} }, limits);
  const exactChars = (m: ContactMerge) => JSON.stringify(m.properties).length + JSON.stringify(m.clocks).length;
  const propertyLength = (k: string, v: JsonValue) => JSON.stringify({ [k]: v }).length - 1;

  it('refuses a custom property beyond the limit, and records nothing of it', () => {
    const m = fresh();
    expect(m.apply({ a: 1, b: 2, firstName: 'Ann', city: 'Oslo' }, [TODAY, 1])).toEqual([]);
    expect(m.apply({ c: 3, d: 4, e: 5 }, [TODAY, 2])).toEqual([
      { key: 'd', code: 'TOO_MANY_CONTACT_PROPERTIES' },
      { key: 'e', code: 'TOO_MANY_CONTACT_PROPERTIES' },
    ]);
    expect(m.properties).toEqual({ email: 'a@b.co', status: 'SUBSCRIBED', a: 1, b: 2, firstName: 'Ann', city: 'Oslo', c: 3 });
    expect(Object.keys(m.clocks).sort()).toEqual(['a', 'b', 'c', 'city', 'firstName']);
  });

  it('at the limit, existing properties can still be updated and cleared, and clearing makes room', () => {
    const m = fresh();
    m.apply({ a: 1, b: 2, c: 3 }, [TODAY, 1]);
    expect(m.apply({ a: 10, b: null, lastName: 'Lee' }, [TODAY, 2])).toEqual([]);
    expect(m.apply({ d: 4 }, [TODAY, 3])).toEqual([]);
    expect(m.properties).toMatchObject({ a: 10, c: 3, d: 4, lastName: 'Lee' });
    expect(m.properties).not.toHaveProperty('b');
    // b's tombstone still blocks an older value; setting b anew needs a free slot again.
    expect(m.apply({ b: 'old' }, [TODAY - DAY, 4])).toEqual([]);
    expect(m.apply({ b: 'new' }, [TODAY + DAY, 5])).toEqual([{ key: 'b', code: 'TOO_MANY_CONTACT_PROPERTIES' }]);
    expect(m.properties).not.toHaveProperty('b');
  });

  it('refuses growth beyond the JSON size limit, and keeps its running size close to the real one', () => {
    const m = fresh();
    expect(m.apply({ a: 'x'.repeat(150) }, [TODAY, 1])).toEqual([]);
    expect(m.apply({ b: 'y'.repeat(200) }, [TODAY, 2])).toEqual([{ key: 'b', code: 'CONTACT_TOO_LARGE' }]);
    expect(m.apply({ a: 'x'.repeat(400) }, [TODAY, 3])).toEqual([{ key: 'a', code: 'CONTACT_TOO_LARGE' }]);
    expect(m.properties.a).toBe('x'.repeat(150));
    expect(m.apply({ a: 'short', b: 'y'.repeat(100) }, [TODAY, 4])).toEqual([]);
    // The count is per entry (a trailing comma each), so it may exceed the exact size by one per object.
    expect(m.jsonChars - exactChars(m)).toBeGreaterThanOrEqual(0);
    expect(m.jsonChars - exactChars(m)).toBeLessThanOrEqual(2);
  });

  it('keeps at most maxClearedProperties tombstones, forgetting the oldest', () => {
    const m = fresh();
    m.apply({ a: 1, b: 2, c: 3 }, [TODAY, 1]);
    m.apply({ a: null }, [TODAY + 1, 2]);
    m.apply({ b: null }, [TODAY + 3, 3]);
    m.apply({ c: null }, [TODAY + 2, 4]);
    // a's tombstone (oldest clock) is forgotten; c's and b's remain.
    expect(Object.keys(m.clocks).sort()).toEqual(['b', 'c']);
    expect(m.apply({ a: 'back', b: 'back', c: 'back' }, [TODAY, 5])).toEqual([]);
    expect(m.properties).toMatchObject({ a: 'back' });
    expect(m.properties).not.toHaveProperty('b');
    expect(m.properties).not.toHaveProperty('c');
  });

  it('forgets tombstones to make room for a value, never the key being set', () => {
    const m = fresh({ maxCustomProperties: 10, maxClearedProperties: 10, maxJsonChars: 340 });
    m.apply({ long_name_one: null, long_name_two: null, long_name_three: null, v: 'x'.repeat(60) }, [TODAY, 1]);
    const before = Object.keys(m.clocks).length;
    expect(exactChars(m) + propertyLength('long_name_two', 'y'.repeat(120))).toBeGreaterThan(340); // does not fit as it is
    expect(m.apply({ long_name_two: 'y'.repeat(120) }, [TODAY + 1, 2])).toEqual([]);
    expect(m.properties.long_name_two).toBe('y'.repeat(120));
    expect(Object.keys(m.clocks).length).toBeLessThan(before);
    expect(m.jsonChars).toBeLessThanOrEqual(340);
  });

  it('never grows past its limits, whatever it is fed', () => {
    const random = rng(99);
    const m = fresh({ maxCustomProperties: 20, maxClearedProperties: 20, maxJsonChars: 2000 });
    for (let seq = 1; seq <= 3000; seq++) {
      const patch: JsonObject = {};
      for (let i = 0; i < 4; i++) {
        const k = `k${Math.floor(random() * 200)}`;
        patch[k] = random() < 0.4 ? null : 'v'.repeat(Math.floor(random() * 80));
      }
      m.apply(patch, [TODAY + Math.floor(random() * 100), seq]);
      const custom = Object.keys(m.properties).filter((k) => k.startsWith('k')).length;
      expect(custom).toBeLessThanOrEqual(20);
      expect(Object.keys(m.clocks).length - custom).toBeLessThanOrEqual(20);
      expect(exactChars(m)).toBeLessThanOrEqual(2000);
    }
  });

  it('describes refusals for the event they are recorded on, bounded', () => {
    const many: Refusal[] = Array.from({ length: 8 }, (_, i) => ({ key: `p${i}`, code: 'TOO_MANY_CONTACT_PROPERTIES' }));
    expect(describeRefusals(many)).toBe(
      'TOO_MANY_CONTACT_PROPERTIES: not applied: "p0", "p1", "p2", "p3", "p4" and 3 more (A contact cannot have more than 500 custom properties)',
    );
    expect(describeRefusals([{ key: 'x'.repeat(100), code: 'CONTACT_TOO_LARGE' }])).toBe(
      `CONTACT_TOO_LARGE: not applied: "${'x'.repeat(60)}…" (A contact's properties cannot exceed 524288 characters of JSON)`,
    );
  });
});
