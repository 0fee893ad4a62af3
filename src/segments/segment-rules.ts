/**
 * A segment's rule, parsed once and analysed: what it reads (so only the segments an event or
 * a contact write can change are evaluated), its `performed` nodes (one counter per key), and
 * its place among the workspace's segments (`inSegment` makes an order: a segment is
 * evaluated after those it names; cycles are refused when a rule is saved). Pure.
 */
import { parseCondition, type Condition, type PerformedCondition } from '../core/conditions/condition.js';
import { references, type ConditionReferences } from '../core/conditions/references.js';
import type { SegmentRecord } from './segment-store.port.js';

export interface CompiledSegment {
  record: SegmentRecord;
  rule: Condition;
  refs: ConditionReferences;
}

const cache = new Map<string, { rule: Condition; refs: ConditionReferences }>();

export function compileSegment(record: SegmentRecord): CompiledSegment {
  const k = `${record.id}:${record.version}`;
  let c = cache.get(k);
  if (!c) {
    const rule = parseCondition(record.rule, { scope: 'segment', basePath: 'rule' });
    c = { rule, refs: references(rule) };
    if (cache.size > 10_000) cache.clear();
    cache.set(k, c);
  }
  return { record, ...c };
}

/** Segments ordered so that every segment comes after those its rule names (unknown names ignored). */
export function evaluationOrder(segments: CompiledSegment[]): CompiledSegment[] {
  const byId = new Map(segments.map((s) => [s.record.id, s]));
  const out: CompiledSegment[] = [];
  const state = new Map<string, 1 | 2>();
  const visit = (s: CompiledSegment): void => {
    const st = state.get(s.record.id);
    if (st === 2 || st === 1) return; // done, or a cycle (refused at save; tolerated here)
    state.set(s.record.id, 1);
    for (const d of s.refs.segments) {
      const dep = byId.get(d);
      if (dep) visit(dep);
    }
    state.set(s.record.id, 2);
    out.push(s);
  };
  segments.forEach(visit);
  return out;
}

/**
 * Whether saving `id` with rule references `refs` would make a cycle of `inSegment`
 * references among `segments` (the other segments of the workspace, as stored).
 */
export function makesCycle(id: string, refs: ConditionReferences, segments: CompiledSegment[]): boolean {
  const byId = new Map(segments.map((s) => [s.record.id, s]));
  const seen = new Set<string>();
  const stack = [...refs.segments];
  while (stack.length) {
    const cur = stack.pop()!;
    if (cur === id) return true;
    if (seen.has(cur)) continue;
    seen.add(cur);
    const s = byId.get(cur);
    if (s) stack.push(...s.refs.segments);
  }
  return false;
}

/** The segments that read any of these, plus every segment that names one of them, transitively. */
export function withDependents(all: CompiledSegment[], picked: Set<string>): Set<string> {
  const out = new Set(picked);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of all) {
      if (out.has(s.record.id)) continue;
      for (const d of s.refs.segments) {
        if (out.has(d)) {
          out.add(s.record.id);
          grew = true;
          break;
        }
      }
    }
  }
  return out;
}

/** How many newest hits matter for a node: `count.gte` alone (n-th newest leaving flips it), else every one. */
export function rankOf(node: PerformedCondition): 'nth' | 'oldest' {
  const c = node.count;
  return c === undefined || (c.gte !== undefined && c.lte === undefined && c.eq === undefined) ? 'nth' : 'oldest';
}
