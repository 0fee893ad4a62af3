import { describe, expect, it } from 'vitest';
import {
  CONDITION_LIMITS,
  conditionToJson,
  InvalidConditionError,
  OPS,
  parseCondition,
  performedKey,
  type Condition,
  type ConditionScope,
  type PerformedCondition,
} from './condition.js';

function parse(input: unknown, scope: ConditionScope = 'workflow', basePath = 'rule'): Condition {
  return parseCondition(input, { scope, basePath });
}

function refused(input: unknown, scope: ConditionScope = 'workflow', basePath = 'rule'): InvalidConditionError {
  try {
    parse(input, scope, basePath);
  } catch (e) {
    if (e instanceof InvalidConditionError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

const prop = (property: string, op: string, value?: unknown): Record<string, unknown> =>
  value === undefined ? { property, op } : { property, op, value };

describe('parseCondition: valid conditions', () => {
  it('keeps every kind of node, normalised into fresh objects', () => {
    const input = {
      all: [
        prop('contact.plan', 'eq', 'pro'),
        { any: [prop('contact.age', 'gte', 18), { not: prop('contact.banned', 'exists') }] },
        { performed: 'purchase.completed', where: prop('event.amount', 'gt', 100), count: { gte: 2 }, within: '30d' },
        { inSegment: 'seg_abc123' },
      ],
    };
    const c = parse(input);
    expect(conditionToJson(c)).toEqual(input);
    expect(c).not.toBe(input);
    const performed = (c as { all: Condition[] }).all[2] as PerformedCondition;
    expect(performed.withinMs).toBe(30 * 86_400_000);
    expect(typeof performed.key).toBe('string');
  });

  it('accepts every operator with a value of the right type', () => {
    const ok: Record<string, unknown[]> = {
      eq: ['x', 1, true, ['a', 1], { a: { b: [1] } }],
      neq: ['x', 0, false],
      gt: [1, -1.5, '2024-01-15', '2024-01-15T10:30:00Z'],
      gte: [0],
      lt: [1e9],
      lte: ['2024-01-15T10:30:00+02:00'],
      contains: ['a', '', 3, false],
      starts_with: ['ab', ''],
      in: [[], ['a', 1, true]],
      before: ['2024-01-15', 1705314600, 1705314600000],
      after: ['2024-01-15T10:30:00.123Z', 0],
      within_last: ['7d', 'PT2H'],
    };
    for (const [op, values] of Object.entries(ok)) {
      for (const value of values) expect(parse(prop('contact.x', op, value))).toEqual(prop('contact.x', op, value));
    }
    expect(parse(prop('contact.x', 'exists'))).toEqual({ property: 'contact.x', op: 'exists' });
    expect(parse(prop('contact.x', 'not_exists'))).toEqual({ property: 'contact.x', op: 'not_exists' });
  });

  it('covers every operator in OPS', () => {
    expect([...OPS].sort()).toEqual(
      ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'contains', 'starts_with', 'in', 'exists', 'not_exists', 'before', 'after', 'within_last'].sort(),
    );
  });

  it('accepts nested paths, and empty all/any', () => {
    expect(parse(prop('contact.address.city.name', 'eq', 'x'))).toEqual(prop('contact.address.city.name', 'eq', 'x'));
    expect(parse({ all: [] })).toEqual({ all: [] });
    expect(parse({ any: [] })).toEqual({ any: [] });
  });

  it('treats null where/count/within as absent and accepts count ranges', () => {
    const c = parse({ performed: 'login', where: null, count: null, within: null }) as PerformedCondition;
    expect(conditionToJson(c)).toEqual({ performed: 'login' });
    expect(c.withinMs).toBeUndefined();
    const r = parse({ performed: 'login', count: { gte: 2, lte: 5 } }) as PerformedCondition;
    expect(r.count).toEqual({ gte: 2, lte: 5 });
    expect((parse({ performed: 'login', count: { eq: 0 } }) as PerformedCondition).count).toEqual({ eq: 0 });
    expect((parse({ performed: 'login', count: { lte: 0 } }) as PerformedCondition).count).toEqual({ lte: 0 });
    expect((parse({ performed: 'login', count: { gte: 3, lte: 3 } }) as PerformedCondition).count).toEqual({ gte: 3, lte: 3 });
  });

  it('re-parses its own output (derived key and withinMs are recomputed, not trusted)', () => {
    const c = parse({ performed: 'login', within: '2h' });
    expect(parse(JSON.parse(JSON.stringify(c)))).toEqual(c);
    const forged = parse({ performed: 'login', within: '2h', withinMs: 1, key: 'forged' }) as PerformedCondition;
    expect(forged).toEqual(c);
    const noWindow = parse({ performed: 'login', withinMs: 5 }) as PerformedCondition;
    expect(noWindow.withinMs).toBeUndefined();
  });

  it('copies values, so later changes to the input do not leak in', () => {
    const value = { a: [1, 2] };
    const c = parse(prop('contact.x', 'eq', value)) as { value: unknown };
    value.a.push(3);
    expect(c.value).toEqual({ a: [1, 2] });
  });
});

describe('parseCondition: performed keys', () => {
  const key = (input: unknown): string => (parse(input) as PerformedCondition).key;

  it('is the same for the same name, where and window, whatever the count or spelling', () => {
    const base = key({ performed: 'purchase', where: prop('event.amount', 'gt', 5), within: '1d' });
    expect(key({ performed: 'purchase', within: 'P1D', where: prop('event.amount', 'gt', 5), count: { gte: 3 } })).toBe(base);
    expect(key({ performed: 'purchase', where: { op: 'gt', value: 5, property: 'event.amount' }, within: '24h' })).toBe(base);
  });

  it('differs when what is counted differs', () => {
    const base = key({ performed: 'purchase', within: '1d' });
    expect(key({ performed: 'purchase' })).not.toBe(base);
    expect(key({ performed: 'purchase', within: '2d' })).not.toBe(base);
    expect(key({ performed: 'refund', within: '1d' })).not.toBe(base);
    expect(key({ performed: 'purchase', within: '1d', where: prop('event.a', 'exists') })).not.toBe(base);
  });

  it('is order-insensitive inside object values and computable from a hand-written node', () => {
    expect(key({ performed: 'p', where: prop('event.o', 'eq', { a: 1, b: 2 }) })).toBe(
      key({ performed: 'p', where: prop('event.o', 'eq', { b: 2, a: 1 }) }),
    );
    expect(performedKey({ performed: 'p', within: '1d' })).toBe(key({ performed: 'p', within: '24h' }));
  });
});

describe('parseCondition: invalid conditions name the path', () => {
  const cases: Array<[string, unknown, string, string?]> = [
    // [what, input, expected message, scope]
    ['not an object', 'x', 'rule: must be a condition object: {"all"}, {"any"}, {"not"}, {"property"}, {"performed"} or {"inSegment"}'],
    ['null', null, 'rule: must be a condition object'],
    ['an array', [], 'rule: must be a condition object'],
    ['no kind', {}, 'rule: must have one of "all", "any", "not", "property", "performed" or "inSegment"'],
    ['two kinds', { all: [], property: 'contact.x' }, 'rule: has both "all" and "property": one condition per object'],
    ['an unknown field', { property: 'contact.x', op: 'eq', valeu: 1 }, 'rule: unknown field "valeu" in a "property" condition'],
    ['all not an array', { all: {} }, 'rule.all: must be an array of conditions'],
    ['any not an array', { any: 'x' }, 'rule.any: must be an array of conditions'],
    ['a bad item in all', { all: [prop('contact.a', 'exists'), 5] }, 'rule.all[1]: must be a condition object'],
    ['a bad not', { not: null }, 'rule.not: must be a condition object'],
    ['a property that is not a string', { property: 5, op: 'eq', value: 1 }, 'rule.property: must be a string'],
    ['an unknown prefix', prop('user.plan', 'eq', 1), 'rule.property: must be "contact.<name>" or "event.<name>", got "user.plan"'],
    ['a bare prefix', prop('contact', 'eq', 1), 'rule.property: must be "contact.<name>" or "event.<name>"'],
    ['an empty name', prop('contact.', 'eq', 1), 'rule.property: has an empty name in "contact."'],
    ['a double dot', prop('contact.a..b', 'eq', 1), 'rule.property: has an empty name'],
    ['__proto__', prop('contact.__proto__.x', 'eq', 1), 'rule.property: "__proto__" is not a property name'],
    ['too many segments', prop('contact.a.b.c.d.e.f.g.h.i', 'eq', 1), 'rule.property: cannot have more than 8 names after the "contact." prefix'],
    ['a path too long', prop(`contact.${'a'.repeat(300)}`, 'eq', 1), 'rule.property: cannot exceed 256 characters'],
    ['a missing op', { property: 'contact.x' }, 'rule.op: is required'],
    ['an unknown op', prop('contact.x', 'equals', 1), 'rule.op: unknown operator "equals" (one of eq, neq,'],
    ['an op that is not a string', { property: 'contact.x', op: 1 }, 'rule.op: must be a string (one of eq'],
    ['a missing value', prop('contact.x', 'eq'), 'rule.value: is required with "eq"'],
    ['a value with exists', prop('contact.x', 'exists', 1), 'rule.value: is not allowed with "exists"'],
    ['a value with not_exists', { property: 'contact.x', op: 'not_exists', value: null }, 'rule.value: is not allowed with "not_exists"'],
    ['eq null', { property: 'contact.x', op: 'eq', value: null }, 'rule.value: cannot be null: a null property counts as missing; use "exists" or "not_exists"'],
    ['neq null', { property: 'contact.x', op: 'neq', value: null }, 'rule.value: cannot be null'],
    ['eq too deep', prop('contact.x', 'eq', [[[[[1]]]]]), 'rule.value[0][0][0][0]: cannot be nested more than 4 levels deep'],
    ['eq too big', prop('contact.x', 'eq', Array.from({ length: 1001 }, () => 1)), 'rule.value: cannot have more than 1000 items in all'],
    ['eq with __proto__', prop('contact.x', 'eq', JSON.parse('{"a":{"__proto__":1}}')), 'rule.value.a: "__proto__" is not allowed as a key'],
    ['gt a boolean', prop('contact.x', 'gt', true), 'rule.value: must be a number or an ISO 8601 date with "gt"'],
    ['gte a non-date string', prop('contact.x', 'gte', '10'), 'rule.value: must be a number or an ISO 8601 date with "gte"'],
    ['lt an impossible date', prop('contact.x', 'lt', '2024-02-30'), 'rule.value: must be a number or an ISO 8601 date with "lt"'],
    ['lte null', { property: 'contact.x', op: 'lte', value: null }, 'rule.value: must be a number or an ISO 8601 date with "lte"'],
    ['contains an object', prop('contact.x', 'contains', { a: 1 }), 'rule.value: must be a string, number or boolean with "contains"'],
    ['contains null', { property: 'contact.x', op: 'contains', value: null }, 'rule.value: must be a string, number or boolean'],
    ['starts_with a number', prop('contact.x', 'starts_with', 1), 'rule.value: must be a string with "starts_with"'],
    ['in not an array', prop('contact.x', 'in', 'a'), 'rule.value: must be an array with "in"'],
    ['in with an object', prop('contact.x', 'in', ['a', { b: 1 }]), 'rule.value[1]: must be a string, number or boolean'],
    ['in with null', prop('contact.x', 'in', [null]), 'rule.value[0]: must be a string, number or boolean'],
    ['in too long', prop('contact.x', 'in', Array.from({ length: 1001 }, (_, i) => i)), 'rule.value: cannot have more than 1000 items'],
    ['before a non-date', prop('contact.x', 'before', 'yesterday'), 'rule.value: must be an ISO 8601 date or a Unix timestamp with "before"'],
    ['after a boolean', prop('contact.x', 'after', true), 'rule.value: must be an ISO 8601 date or a Unix timestamp with "after"'],
    ['within_last a bad duration', prop('contact.x', 'within_last', '7 days'), 'rule.value: invalid duration "7 days": use <n>s'],
    ['within_last a number', prop('contact.x', 'within_last', 7), 'rule.value: duration must be a string'],
    ['performed a number', { performed: 5 }, 'rule.performed: must be an event name'],
    ['performed empty', { performed: '' }, 'rule.performed: must be an event name'],
    ['performed a bad name', { performed: 'a b' }, 'rule.performed: Event name can only contain alphanumeric characters'],
    ['performed a long name', { performed: 'a'.repeat(61) }, 'rule.performed: Event name cannot exceed 60 characters'],
    ['an unknown performed field', { performed: 'a', times: 3 }, 'rule: unknown field "times" in a "performed" condition'],
    ['count not an object', { performed: 'a', count: 3 }, 'rule.count: must be an object such as {"gte": 3}'],
    ['count empty', { performed: 'a', count: {} }, 'rule.count: must have "gte", "lte" or "eq"'],
    ['count unknown bound', { performed: 'a', count: { gt: 1 } }, 'rule.count.gt: unknown field; use "gte", "lte" or "eq"'],
    ['count negative', { performed: 'a', count: { gte: -1 } }, 'rule.count.gte: must be a whole number, 0 or more'],
    ['count fractional', { performed: 'a', count: { lte: 1.5 } }, 'rule.count.lte: must be a whole number, 0 or more'],
    ['count a string', { performed: 'a', count: { eq: '1' } }, 'rule.count.eq: must be a whole number, 0 or more'],
    ['count eq and gte', { performed: 'a', count: { eq: 1, gte: 1 } }, 'rule.count: "eq" cannot be combined with "gte" or "lte"'],
    ['count gte > lte', { performed: 'a', count: { gte: 3, lte: 2 } }, 'rule.count: "gte" is greater than "lte": no count can match'],
    ['within a number', { performed: 'a', within: 3600 }, 'rule.within: must be a duration string'],
    ['within a bad duration', { performed: 'a', within: '1M' }, 'rule.within: invalid duration "1M"'],
    ['within months', { performed: 'a', within: 'P1M' }, 'rule.within: invalid duration "P1M": years and months have no fixed length'],
    ['where not a condition', { performed: 'a', where: 'x' }, 'rule.where: must be a condition object'],
    ['contact inside where', { performed: 'a', where: prop('contact.plan', 'eq', 1) }, 'rule.where.property: inside performed.where, paths are "event.<name>"'],
    ['performed inside where', { performed: 'a', where: { any: [{ performed: 'b' }] } }, 'rule.where.any[0]: "performed" cannot appear inside performed.where'],
    ['inSegment inside where', { performed: 'a', where: { not: { inSegment: 'seg_1' } } }, 'rule.where.not: "inSegment" cannot appear inside performed.where'],
    ['within_last inside where', { performed: 'a', where: prop('event.at', 'within_last', '1d') }, 'rule.where.op: "within_last" is not allowed inside performed.where'],
    ['an error deep inside where', { performed: 'a', where: { all: [prop('event.a', 'exists'), prop('event.b', 'gt', 'x')] } }, 'rule.where.all[1].value: must be a number or an ISO 8601 date'],
    ['inSegment not a string', { inSegment: 5 }, 'rule.inSegment: must be a segment id ("seg_…")'],
    ['inSegment without prefix', { inSegment: 'abc' }, 'rule.inSegment: must be a segment id'],
    ['inSegment bare prefix', { inSegment: 'seg_' }, 'rule.inSegment: must be a segment id'],
    ['inSegment too long', { inSegment: `seg_${'a'.repeat(100)}` }, 'rule.inSegment: must be a segment id'],
    ['an unknown inSegment field', { inSegment: 'seg_1', not: true }, 'rule: has both "not" and "inSegment"'],
  ];

  for (const [what, input, message, scope] of cases) {
    it(`refuses ${what}`, () => {
      const e = refused(input, (scope as ConditionScope | undefined) ?? 'workflow');
      expect(e.message.startsWith(message)).toBe(true);
      expect(e.code).toBe('INVALID_CONDITION');
      expect(e.message).toBe(`${e.path}: ${e.reason}`);
    });
  }

  it('names the full path, with basePath first', () => {
    const e = refused({ all: [prop('contact.a', 'exists'), prop('event.plan', 'equals', 'pro')] }, 'workflow', 'trigger.where');
    expect(e.path).toBe('trigger.where.all[1].op');
    expect(e.message).toBe(
      'trigger.where.all[1].op: unknown operator "equals" (one of eq, neq, gt, gte, lt, lte, contains, starts_with, in, exists, not_exists, before, after, within_last)',
    );
    expect(refused({ not: { any: [{ performed: 'a', count: { gte: -1 } }] } }, 'segment', 'steps[2].if').path).toBe(
      'steps[2].if.not.any[0].count.gte',
    );
  });

  it('gives a path without a leading dot when basePath is empty', () => {
    expect(refused({ all: [5] }, 'workflow', '').message).toMatch(/^all\[0\]: must be a condition object/);
    expect(refused(5, 'workflow', '').message).toMatch(/^must be a condition object/);
    expect(refused(5, 'workflow', '').path).toBe('');
  });

  it('cuts long client strings in messages', () => {
    const e = refused(prop('contact.x', 'o'.repeat(10_000), 1));
    expect(e.message.length).toBeLessThan(300);
  });
});

describe('parseCondition: scopes', () => {
  it('allows event paths at the top level of workflow conditions', () => {
    expect(parse(prop('event.plan', 'eq', 'pro'), 'workflow')).toEqual(prop('event.plan', 'eq', 'pro'));
  });

  it('refuses event paths outside performed.where in segment rules', () => {
    expect(refused({ any: [prop('event.plan', 'eq', 'pro')] }, 'segment').message).toBe(
      'rule.any[0].property: a segment rule reads "contact.<name>"; "event.<name>" paths are only allowed inside performed.where',
    );
  });

  it('allows event paths inside performed.where in segment rules, and only those', () => {
    const rule = { performed: 'purchase', where: prop('event.amount', 'gte', 10) };
    expect(conditionToJson(parse(rule, 'segment'))).toEqual(rule);
    expect(refused({ performed: 'purchase', where: prop('contact.plan', 'eq', 1) }, 'segment').path).toBe('rule.where.property');
  });
});

describe('parseCondition: size and depth bounds', () => {
  const nest = (levels: number): unknown => {
    let c: unknown = prop('contact.a', 'exists');
    for (let i = 1; i < levels; i++) c = { not: c };
    return c;
  };

  it(`allows ${CONDITION_LIMITS.maxDepth} levels and refuses one more`, () => {
    expect(() => parse(nest(16))).not.toThrow();
    const e = refused(nest(17));
    expect(e.message).toBe(`rule${'.not'.repeat(16)}: conditions cannot be nested more than 16 levels deep`);
  });

  it('counts performed.where in the depth', () => {
    let where: unknown = prop('event.a', 'exists');
    for (let i = 2; i < 16; i++) where = { not: where };
    expect(() => parse({ performed: 'x', where })).not.toThrow();
    expect(refused({ performed: 'x', where: { not: where } }).reason).toContain('nested more than 16 levels');
  });

  it('refuses a condition nested 100,000 levels deep without overflowing the stack', () => {
    const deep = JSON.parse('{"not":'.repeat(100_000) + '{"inSegment":"seg_1"}' + '}'.repeat(100_000));
    expect(refused(deep).reason).toContain('nested more than 16 levels');
  });

  it(`allows ${CONDITION_LIMITS.maxNodes} nodes and refuses one more`, () => {
    const items = (n: number) => Array.from({ length: n }, () => prop('contact.a', 'exists'));
    expect(() => parse({ all: items(199) })).not.toThrow();
    expect(refused({ all: items(200) }).message).toBe('rule.all[199]: a condition cannot have more than 200 nodes');
  });

  it('stops early on a huge array', () => {
    const huge = { any: Array.from({ length: 1_000_000 }, () => ({ inSegment: 'seg_1' })) };
    const t0 = performance.now();
    expect(refused(huge).path).toBe('rule.any[199]');
    expect(performance.now() - t0).toBeLessThan(100);
  });

  it('counts nodes inside performed.where', () => {
    const where = { all: Array.from({ length: 198 }, () => prop('event.a', 'exists')) };
    expect(() => parse({ performed: 'x', where })).not.toThrow();
    expect(refused({ all: [{ performed: 'x', where }] }).reason).toContain('more than 200 nodes');
  });
});
