import { describe, expect, it } from 'vitest';
import { CompiledPlan, InvalidPlanError, parsePlan, parsePlanYielding, PLAN_LIMITS } from './tracking-plan.js';

const refused = (body: unknown) => {
  try {
    parsePlan(body);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidPlanError);
    return (err as Error).message;
  }
  throw new Error('accepted');
};

describe('parsePlan', () => {
  it('accepts names, patterns and schemas; allowUnplanned defaults to true', () => {
    const p = parsePlan({ mode: 'warn', events: [{ name: 'a.b', properties: { properties: { n: { type: 'number' } } } }, { pattern: '^[a-z_]+\\.[a-z_]+$' }] });
    expect(p).toMatchObject({ mode: 'warn', allowUnplanned: true });
    expect(p.events).toHaveLength(2);
  });

  it('names the path of every problem', () => {
    expect(refused({ mode: 'loud', events: [] })).toBe('"mode" must be "warn" or "block"');
    expect(refused({ mode: 'warn', allowUnplanned: 'no', events: [] })).toBe('"allowUnplanned" must be a boolean');
    expect(refused({ mode: 'warn' })).toBe('"events" must be an array');
    expect(refused({ mode: 'warn', events: [], extra: 1 })).toContain('Unknown field "extra"');
    expect(refused({ mode: 'warn', events: [{}] })).toBe('events[0] must have exactly one of "name" and "pattern"');
    expect(refused({ mode: 'warn', events: [{ name: 'x' }, { name: 'x' }] })).toContain('events[1].name');
    expect(refused({ mode: 'warn', events: [{ pattern: '([a-z' }] })).toContain('events[0].pattern is not a valid regular expression');
    expect(refused({ mode: 'warn', events: [{ pattern: '^(a+)+$' }] })).toContain('events[0].pattern: nested quantifiers');
    expect(refused({ mode: 'warn', events: [{ name: 'x' }, { name: 'y', properties: { type: 'object', properties: { n: { type: 'nmber' } } } }] })).toContain('events[1].properties is not a valid JSON Schema');
    // Strict mode: unknown keywords and remote references are refused.
    expect(refused({ mode: 'warn', events: [{ name: 'x', properties: { propertiez: {} } }] })).toContain('events[0].properties is not a valid JSON Schema');
    expect(refused({ mode: 'warn', events: [{ name: 'x', properties: { $ref: 'https://example.com/schema.json' } }] })).toContain('events[0].properties is not a valid JSON Schema');
    expect(refused({ mode: 'warn', events: [{ name: 'x', properties: { properties: { e: { type: 'string', format: 'email' } } } }] })).toContain('unknown format "email"');
    // Strict types: a nested object's keywords need its type.
    expect(refused({ mode: 'warn', events: [{ name: 'x', properties: { properties: { cart: { properties: { n: { type: 'number' } } } } } }] })).toContain('strict mode');
    // `required` alone is fine: present, any type.
    expect(parsePlan({ mode: 'warn', events: [{ name: 'x', properties: { required: ['total'] } }] }).events).toHaveLength(1);
    expect(refused({ mode: 'warn', events: Array.from({ length: PLAN_LIMITS.maxEntries + 1 }, (_, i) => ({ name: `e${i}` })) })).toContain('more than 1000');
    // A schema nested past the bound is refused before Ajv's recursive compile (3,000 levels overflowed its stack).
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 3000; i++) deep = { type: 'object', properties: { a: deep } };
    expect(refused({ mode: 'warn', events: [{ name: 'x', properties: deep }] })).toBe(`events[0].properties nests deeper than ${PLAN_LIMITS.maxSchemaDepth} levels`);
    let ok: Record<string, unknown> = { type: 'number' };
    for (let i = 0; i < 10; i++) ok = { type: 'object', properties: { a: ok } };
    expect(parsePlan({ mode: 'warn', events: [{ name: 'x', properties: ok }] }).events).toHaveLength(1);
  });
});

describe('parsePlanYielding', () => {
  it('proves 1,000 schemas without holding the event loop, with the same answer and errors as parsePlan', async () => {
    const events = Array.from({ length: 1000 }, (_, i) => ({
      name: `e${i}.x`,
      properties: { type: 'object', required: ['a'], properties: { a: { type: 'string', maxLength: 10 + i }, c: { type: 'object', properties: { d: { type: 'array', items: { type: 'string' } } } } } },
    }));
    let turns = 0;
    let longest = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      turns++;
      longest = Math.max(longest, performance.now() - last);
      last = performance.now();
    }, 1);
    let plan;
    try {
      plan = await parsePlanYielding({ mode: 'warn', events });
    } finally {
      clearInterval(timer);
    }
    expect(plan).toEqual(parsePlan({ mode: 'warn', events }));
    expect(turns).toBeGreaterThan(5);
    console.log(`parsePlanYielding: ${turns} timer turns, longest gap ${longest.toFixed(1)} ms`);
    await expect(parsePlanYielding({ mode: 'warn', events: [...events.slice(0, 999), { name: 'bad', properties: { type: 'nope' } }] })).rejects.toThrow('events[999].properties is not a valid JSON Schema');
  });
});

describe('CompiledPlan', () => {
  const plan = new CompiledPlan(
    parsePlan({
      mode: 'block',
      allowUnplanned: false,
      events: [
        { name: 'order.completed', properties: { required: ['total'], properties: { total: { type: 'number' }, cart: { type: 'object', properties: { size: { type: 'integer' } } } } } },
        { pattern: '^page\\.[a-z]+$' },
        { pattern: '^[a-z]+\\.[a-z]+$', properties: { additionalProperties: false } },
      ],
    }),
    1,
  );

  it('passes what follows the plan, exact names before patterns, patterns in order', () => {
    expect(plan.check('order.completed', { total: 3 })).toBeNull();
    expect(plan.check('page.view', { anything: 1 })).toBeNull();
    expect(plan.check('user.signup', null)).toBeNull();
  });

  it('reports the first problem with its rule and path', () => {
    expect(plan.check('order.completed', null)).toEqual({ rule: 'required', path: 'properties.total', message: 'Tracking plan, event "order.completed", rule "required": properties.total is required' });
    expect(plan.check('order.completed', { total: 'x' })).toMatchObject({ rule: 'type', path: 'properties.total' });
    expect(plan.check('order.completed', { total: 1, cart: { size: 1.5 } })).toMatchObject({ rule: 'type', path: 'properties.cart.size', message: expect.stringContaining('must be integer') });
    expect(plan.check('user.signup', { x: 1 })).toMatchObject({ rule: 'additionalProperties', path: 'properties.x', message: expect.stringContaining('pattern ^[a-z]+\\.[a-z]+$') });
    expect(plan.check('Signup', null)).toEqual({ rule: 'unplanned', path: 'event', message: expect.stringContaining('"Signup" matches no entry') });
  });
});
