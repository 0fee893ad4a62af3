/**
 * Client JSON of any shape through parseCondition, and parsed conditions over contacts of any
 * shape through evaluate: the parser throws nothing but InvalidConditionError, and evaluation
 * throws nothing at all (no TypeError on an odd value, no RangeError on a deep one).
 */
import { describe, expect, it } from 'vitest';
import { InvalidConditionError, OPS, parseCondition, type Condition } from './condition.js';
import { evaluate, nextPropertyChangeAt } from './evaluate.js';
import { references } from './references.js';

/** Deterministic PRNG (mulberry32), so a failure names a reproducible seed. */
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

const NOW = Date.UTC(2025, 0, 1);

function generator(seed: number) {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const scalars = [0, 1, -1, 1.5, 1705314600, 1705314600000, 'pro', '', '2024-01-15', '2024-02-30', '7d', 'PT2H', 'x.y', true, false, null];
  const json = (depth: number): unknown => {
    const k = r();
    if (depth > 3 || k < 0.6) return pick(scalars);
    if (k < 0.8) return Array.from({ length: Math.floor(r() * 4) }, () => json(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = 0; i < Math.floor(r() * 4); i++) o[pick(['a', 'b', 'plan', 'x', 'amount'])] = json(depth + 1);
    return o;
  };
  const paths = ['contact.plan', 'contact.a.b', 'contact.x', 'event.amount', 'event.a', 'contact', 'user.x', 'contact..x', 5];
  const cond = (depth: number): unknown => {
    const k = r();
    if (r() < 0.03) return json(0); // garbage
    if (depth > 6 || k < 0.4) {
      const c: Record<string, unknown> = { property: pick(paths), op: r() < 0.95 ? pick(OPS) : 'equals' };
      if (r() < 0.8) c.value = json(1);
      return c;
    }
    if (k < 0.55) return { all: Array.from({ length: Math.floor(r() * 4) }, () => cond(depth + 1)) };
    if (k < 0.7) return { any: Array.from({ length: Math.floor(r() * 4) }, () => cond(depth + 1)) };
    if (k < 0.8) return { not: cond(depth + 1) };
    if (k < 0.92) {
      const c: Record<string, unknown> = { performed: pick(['login', 'purchase', 'bad name', '']) };
      if (r() < 0.5) c.where = cond(depth + 1);
      if (r() < 0.4) c.count = pick([{ gte: 2 }, { lte: 0 }, { eq: 1 }, { gte: 3, lte: 1 }, {}, 3]);
      if (r() < 0.4) c.within = pick(['1d', 'PT1H', 'P1M', 5, '0s']);
      return c;
    }
    return { inSegment: pick(['seg_a', 'seg_b', 'a', 7]) };
  };
  return { cond, json, r };
}

describe('conditions: random input', () => {
  it('parses or refuses with InvalidConditionError, and evaluates without throwing', () => {
    let parsed = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const g = generator(seed);
      const input = g.cond(0);
      for (const scope of ['workflow', 'segment'] as const) {
        let c: Condition;
        try {
          c = parseCondition(input, { scope, basePath: 'rule' });
        } catch (e) {
          if (!(e instanceof InvalidConditionError)) throw new Error(`seed ${seed}: ${String(e)}`);
          expect(e.message.startsWith('rule')).toBe(true);
          continue;
        }
        parsed++;
        const contact = g.json(0);
        const properties = g.json(0);
        const ctx = {
          contact: typeof contact === 'object' && contact !== null && !Array.isArray(contact) ? (contact as Record<string, unknown>) : { plan: contact },
          event: { name: 'login', properties: { amount: properties, a: g.json(0) }, timestamp: NOW },
          now: NOW,
          performedCount: () => Math.floor(g.r() * 4),
          inSegment: () => g.r() < 0.5,
        };
        expect(typeof evaluate(c, ctx)).toBe('boolean');
        nextPropertyChangeAt(c, ctx);
        references(c);
        // A parsed condition round-trips through JSON (storage).
        expect(parseCondition(JSON.parse(JSON.stringify(c)), { scope, basePath: 'rule' })).toEqual(c);
      }
    }
    // The generator must exercise the evaluator, not only the error paths.
    expect(parsed).toBeGreaterThan(300);
  });

  it('evaluates over a contact property nested 10,000 levels deep', () => {
    const deep = JSON.parse('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000));
    for (const op of OPS) {
      const values: Record<string, unknown> = {
        eq: { a: { a: 1 } },
        neq: [1],
        gt: 1,
        gte: '2024-01-01',
        lt: 1,
        lte: 1,
        contains: 'a',
        starts_with: 'a',
        in: ['a'],
        before: 1,
        after: 1,
        within_last: '1d',
      };
      const value = values[op];
      const c = parseCondition(value === undefined ? { property: 'contact.a.a', op } : { property: 'contact.a.a', op, value }, {
        scope: 'segment',
        basePath: 'rule',
      });
      expect(typeof evaluate(c, { contact: deep, now: NOW, performedCount: () => 0, inSegment: () => false })).toBe('boolean');
    }
  });
});
