/**
 * The tracking plan's operations, shared by its routes, the dashboard's API and the CLI:
 * validate and store a plan (dropping this process's compiled copy), read and delete it,
 * and summarise the events a warn-mode plan flagged.
 */
import { iso } from '../http/paging.js';
import type { TrackingPlanCache } from './tracking-plan-cache.js';
import type { StoredTrackingPlan, TrackingPlanStore } from './tracking-plan-store.port.js';
import { parsePlanYielding, type Violation } from './tracking-plan.js';

/** Flagged events a summary counts (newest first): one bounded index range, whatever the workspace's volume. */
export const SUMMARY_SCAN = 10_000;
/** Example events a summary lists. */
export const SUMMARY_EXAMPLES = 20;

export interface TrackingPlanView {
  mode: 'warn' | 'block';
  allowUnplanned: boolean;
  events: StoredTrackingPlan['plan']['events'];
  version: number;
  updatedAt: string;
}

export interface ViolationsSummary {
  /** Flagged events counted (at most SUMMARY_SCAN, newest first). */
  counted: number;
  /** More flagged events exist than were counted. */
  truncated: boolean;
  /** Per (event, rule, path), most frequent first, with the newest example's messageId. */
  counts: { event: string; rule: string; path: string; count: number; lastSeen: string; exampleMessageId: string }[];
  /** The newest flagged events. */
  examples: { messageId: string; event: string; receivedAt: string; violations: Violation[] }[];
}

export function presentPlan(p: StoredTrackingPlan): TrackingPlanView {
  return { mode: p.plan.mode, allowUnplanned: p.plan.allowUnplanned, events: p.plan.events, version: p.version, updatedAt: iso(p.updatedAt) };
}

export class TrackingPlanService {
  constructor(private readonly deps: { plans: TrackingPlanStore; cache?: Pick<TrackingPlanCache, 'invalidate'> }) {}

  /** Throws InvalidPlanError (its message names the path) for a body that is not a valid plan. */
  async put(workspaceId: string, body: unknown, now: number): Promise<TrackingPlanView> {
    const plan = await parsePlanYielding(body);
    const stored = await this.deps.plans.put(workspaceId, plan, now);
    this.deps.cache?.invalidate(workspaceId);
    return presentPlan(stored);
  }

  async get(workspaceId: string): Promise<TrackingPlanView | null> {
    const p = await this.deps.plans.get(workspaceId);
    return p ? presentPlan(p) : null;
  }

  /** The plan that was deleted, or null when there was none. */
  async delete(workspaceId: string, now: number): Promise<TrackingPlanView | null> {
    const p = await this.deps.plans.get(workspaceId);
    if (!p) return null;
    const deleted = await this.deps.plans.delete(workspaceId, now);
    this.deps.cache?.invalidate(workspaceId);
    return deleted ? presentPlan(p) : null;
  }

  async violations(workspaceId: string): Promise<ViolationsSummary> {
    const flagged = await this.deps.plans.flaggedEvents(workspaceId, SUMMARY_SCAN + 1);
    const truncated = flagged.length > SUMMARY_SCAN;
    const counted = truncated ? flagged.slice(0, SUMMARY_SCAN) : flagged;
    const groups = new Map<string, ViolationsSummary['counts'][number]>();
    for (const e of counted) {
      for (const v of e.violations) {
        const key = `${e.event}\u0000${v.rule}\u0000${v.path}`;
        const g = groups.get(key);
        if (g) g.count++;
        // Newest first: the first seen is the newest example.
        else groups.set(key, { event: e.event, rule: v.rule, path: v.path, count: 1, lastSeen: iso(e.receivedAt), exampleMessageId: e.messageId });
      }
    }
    const counts = [...groups.values()].sort((a, b) => b.count - a.count || a.event.localeCompare(b.event) || a.path.localeCompare(b.path));
    const examples = counted.slice(0, SUMMARY_EXAMPLES).map((e) => ({ messageId: e.messageId, event: e.event, receivedAt: iso(e.receivedAt), violations: e.violations }));
    return { counted: counted.length, truncated, counts, examples };
  }
}
