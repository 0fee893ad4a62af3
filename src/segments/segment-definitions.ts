/**
 * Saving a segment definition, shared by the API and `smashsend segments apply`: the rule is
 * parsed and checked against the workspace's other segments (unknown `inSegment` ids, cycles),
 * stored, and its backfill over existing contacts enqueued.
 */
import { randomBytes } from 'node:crypto';
import { conditionToJson, InvalidConditionError, parseCondition } from '../core/conditions/condition.js';
import { references } from '../core/conditions/references.js';
import type { JobQueue } from '../processing/job-queue.port.js';
import { backfillJob } from './segment-jobs.js';
import { compileSegment, makesCycle } from './segment-rules.js';
import type { SegmentRecord, SegmentStore } from './segment-store.port.js';

export const MAX_SEGMENT_NAME = 200;

export function newSegmentId(): string {
  return `seg_${randomBytes(12).toString('base64url')}`;
}

/** The rule as stored (conditionToJson), or InvalidConditionError naming the path. */
export async function checkRule(segments: SegmentStore, workspaceId: string, id: string, raw: unknown): Promise<unknown> {
  if (raw === undefined) throw new InvalidConditionError('rule', 'is required');
  const rule = parseCondition(raw, { scope: 'segment', basePath: 'rule' });
  const refs = references(rule);
  if (refs.segments.size) {
    const others = (await segments.listSegments(workspaceId)).filter((s) => s.id !== id);
    const known = new Set(others.map((s) => s.id));
    for (const ref of refs.segments) {
      if (ref === id) throw new InvalidConditionError('rule', `inSegment "${ref}" is this segment: a segment cannot contain itself`);
      if (!known.has(ref)) throw new InvalidConditionError('rule', `inSegment "${ref}" is not a segment of this workspace`);
    }
    const compiled = others.flatMap((s) => {
      try {
        return [compileSegment(s)];
      } catch {
        return [];
      }
    });
    if (makesCycle(id, refs, compiled)) throw new InvalidConditionError('rule', 'inSegment references make a cycle back to this segment');
  }
  return conditionToJson(rule);
}

/** Creates a segment with a checked rule and starts its build. */
export async function createSegment(deps: { segments: SegmentStore; jobs: Pick<JobQueue, 'enqueue'> }, workspaceId: string, input: { name: string; rule: unknown }, now: number): Promise<SegmentRecord> {
  const { segments } = deps;
  const id = newSegmentId();
  const rule = await checkRule(segments, workspaceId, id, input.rule);
  const total = await segments.countContacts(workspaceId);
  await segments.createSegment({ id, workspaceId, name: input.name, rule, version: 1, status: total === 0 ? 'ready' : 'building', buildDone: 0, buildTotal: total, createdAt: now, updatedAt: now });
  if (total > 0) await deps.jobs.enqueue([backfillJob(workspaceId, id, 1, null, now)], now);
  return (await segments.getSegment(workspaceId, id))!;
}

/** A new name and/or rule (a new rule builds again in the background). Null when absent. */
export async function updateSegment(deps: { segments: SegmentStore; jobs: Pick<JobQueue, 'enqueue'> }, workspaceId: string, id: string, input: { name?: string; rule?: unknown }, now: number): Promise<SegmentRecord | null> {
  const { segments } = deps;
  const rule = input.rule === undefined ? undefined : await checkRule(segments, workspaceId, id, input.rule);
  const total = rule === undefined ? undefined : await segments.countContacts(workspaceId);
  const s = await segments.updateSegment(workspaceId, id, { ...(input.name !== undefined ? { name: input.name } : {}), ...(rule !== undefined ? { rule, buildTotal: total } : {}), now });
  if (s && rule !== undefined) await deps.jobs.enqueue([backfillJob(workspaceId, s.id, s.version, null, now)], now);
  return s;
}
