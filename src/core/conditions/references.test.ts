import { describe, expect, it } from 'vitest';
import { parseCondition, type ConditionScope } from './condition.js';
import { references } from './references.js';

const refs = (input: unknown, scope: ConditionScope = 'workflow') => references(parseCondition(input, { scope, basePath: 'rule' }));

describe('references', () => {
  it('collects top-level contact properties, event names, segments and performed nodes', () => {
    const r = refs({
      all: [
        { property: 'contact.plan', op: 'eq', value: 'pro' },
        { property: 'contact.address.city', op: 'eq', value: 'Paris' },
        { property: 'contact.address.zip', op: 'exists' },
        { any: [{ inSegment: 'seg_a' }, { not: { inSegment: 'seg_b' } }] },
        { performed: 'purchase', where: { property: 'event.amount', op: 'gt', value: 10 } },
        { not: { performed: 'refund', count: { gte: 1 } } },
      ],
    });
    expect([...r.properties].sort()).toEqual(['address', 'plan']);
    expect([...r.eventProperties]).toEqual([]);
    expect([...r.events].sort()).toEqual(['purchase', 'refund']);
    expect([...r.segments].sort()).toEqual(['seg_a', 'seg_b']);
    expect(r.performed.map((p) => p.performed)).toEqual(['purchase', 'refund']);
    expect(r.timeDependent).toBe(false);
  });

  it('does not count where paths as contact or trigger-event properties', () => {
    const r = refs({ performed: 'purchase', where: { property: 'event.amount', op: 'gt', value: 10 } });
    expect(r.properties.size).toBe(0);
    expect(r.eventProperties.size).toBe(0);
  });

  it('collects trigger-event properties in workflow conditions', () => {
    const r = refs({ any: [{ property: 'event.plan', op: 'eq', value: 'pro' }, { property: 'event.meta.src', op: 'exists' }] });
    expect([...r.eventProperties].sort()).toEqual(['meta', 'plan']);
    expect(r.properties.size).toBe(0);
  });

  it('lists performed nodes once per key: same name, where and window', () => {
    const r = refs({
      any: [
        { performed: 'login', within: '1d' },
        { performed: 'login', within: '24h', count: { gte: 5 } },
        { performed: 'login', within: '2d' },
        { performed: 'login' },
      ],
    });
    expect(r.performed.map((p) => p.within ?? null)).toEqual(['1d', '2d', null]);
    expect(new Set(r.performed.map((p) => p.key)).size).toBe(3);
  });

  it('is time-dependent with within or within_last, not with before/after', () => {
    expect(refs({ performed: 'login', within: '1d' }).timeDependent).toBe(true);
    expect(refs({ not: { property: 'contact.seen', op: 'within_last', value: '7d' } }).timeDependent).toBe(true);
    expect(refs({ property: 'contact.seen', op: 'before', value: '2024-01-01' }).timeDependent).toBe(false);
    expect(refs({ property: 'contact.seen', op: 'after', value: 1705314600 }).timeDependent).toBe(false);
    expect(refs({ performed: 'login', where: { property: 'event.at', op: 'after', value: '2024-01-01' } }).timeDependent).toBe(false);
    expect(refs({ inSegment: 'seg_a' }).timeDependent).toBe(false);
  });
});
