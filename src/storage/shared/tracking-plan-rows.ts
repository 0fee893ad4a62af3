/** tracking_plans and events.violations rows, shared by both adapters (migrations 0016 sqlite / 0015 postgres). */
import type { FlaggedEvent, StoredTrackingPlan } from '../../tracking-plan/tracking-plan-store.port.js';
import type { TrackingPlan, Violation } from '../../tracking-plan/tracking-plan.js';

export interface TrackingPlanRow {
  workspace_id: string;
  version: number | string;
  plan: string | null;
  updated_at: number | string;
}

export interface FlaggedRow {
  message_id: string;
  event: string;
  received_at: number | string;
  violations: string;
}

export function toStoredPlan(r: TrackingPlanRow): StoredTrackingPlan | null {
  if (r.plan === null) return null;
  return { workspaceId: r.workspace_id, plan: JSON.parse(r.plan) as TrackingPlan, version: Number(r.version), updatedAt: Number(r.updated_at) };
}

export function parseViolations(text: string | null): Violation[] | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as Violation[];
  } catch {
    return null;
  }
}

export function toFlaggedEvent(r: FlaggedRow): FlaggedEvent {
  return { messageId: r.message_id, event: r.event, receivedAt: Number(r.received_at), violations: parseViolations(r.violations) ?? [] };
}
