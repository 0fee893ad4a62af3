import { describe, expect, it } from 'vitest';
import { parseCondition } from '../core/conditions/condition.js';
import { references } from '../core/conditions/references.js';
import { compileSegment, evaluationOrder, makesCycle, rankOf, withDependents } from './segment-rules.js';
import type { SegmentRecord } from './segment-store.port.js';

const seg = (id: string, rule: unknown): SegmentRecord => ({
  id,
  workspaceId: 'ws',
  name: id,
  rule,
  version: 1,
  status: 'ready',
  buildDone: 0,
  buildTotal: 0,
  memberCount: 0,
  createdAt: 0,
  updatedAt: 0,
});

describe('segment rules', () => {
  const a = compileSegment(seg('seg_a', { property: 'contact.plan', op: 'exists' }));
  const b = compileSegment(seg('seg_b', { inSegment: 'seg_a' }));
  const c = compileSegment(seg('seg_c', { all: [{ inSegment: 'seg_b' }, { performed: 'buy' }] }));
  const d = compileSegment(seg('seg_d', { performed: 'page' }));

  it('orders each segment after those it names', () => {
    expect(evaluationOrder([c, b, d, a]).map((s) => s.record.id)).toEqual(['seg_a', 'seg_b', 'seg_c', 'seg_d']);
  });

  it('finds dependents transitively, and only them', () => {
    expect([...withDependents([a, b, c, d], new Set(['seg_a']))].sort()).toEqual(['seg_a', 'seg_b', 'seg_c']);
    expect([...withDependents([a, b, c, d], new Set(['seg_d']))]).toEqual(['seg_d']);
  });

  it('refuses a rule that would close a cycle, direct or through others', () => {
    const refsTo = (id: string) => references(parseCondition({ inSegment: id }, { scope: 'segment', basePath: 'rule' }));
    expect(makesCycle('seg_a', refsTo('seg_c'), [b, c, d])).toBe(true);
    expect(makesCycle('seg_a', refsTo('seg_d'), [b, c, d])).toBe(false);
    expect(makesCycle('seg_x', refsTo('seg_x'), [])).toBe(true);
  });

  it('a count ≥ n node flips at its n-th newest event; other bounds at the oldest', () => {
    const node = (count?: unknown) => references(parseCondition({ performed: 'buy', ...(count ? { count } : {}), within: '1d' }, { scope: 'segment', basePath: 'rule' })).performed[0]!;
    expect(rankOf(node())).toBe('nth');
    expect(rankOf(node({ gte: 3 }))).toBe('nth');
    expect(rankOf(node({ lte: 3 }))).toBe('oldest');
    expect(rankOf(node({ eq: 2 }))).toBe('oldest');
    expect(rankOf(node({ gte: 1, lte: 3 }))).toBe('oldest');
  });
});
