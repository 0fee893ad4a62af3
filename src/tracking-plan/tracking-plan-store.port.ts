/**
 * The tracking plan port: at most one plan per workspace, with a version that grows on every
 * write (a delete included), so API processes can tell cheaply that their compiled copy is
 * stale (tracking-plan-cache.ts). Also reads the events a warn-mode plan flagged: their
 * `violations` are written by the event append itself (ingest/event-log.port.ts), this port
 * only reads them back for the counts and examples of GET /v1/tracking-plan/violations.
 */
import type { TrackingPlan, Violation } from './tracking-plan.js';

export interface StoredTrackingPlan {
  workspaceId: string;
  plan: TrackingPlan;
  version: number;
  updatedAt: number;
}

/** One accepted event a warn-mode plan flagged. */
export interface FlaggedEvent {
  messageId: string;
  event: string;
  receivedAt: number;
  violations: Violation[];
}

export interface TrackingPlanStore {
  /** The workspace's plan, or null (never set, or deleted). */
  get(workspaceId: string): Promise<StoredTrackingPlan | null>;
  /** The workspace's plan version: 0 if it never had one. One primary-key read. */
  version(workspaceId: string): Promise<number>;
  /** Replaces the plan (the version goes up by one). */
  put(workspaceId: string, plan: TrackingPlan, now: number): Promise<StoredTrackingPlan>;
  /** Removes the plan (the version still goes up); false if there was none. */
  delete(workspaceId: string, now: number): Promise<boolean>;
  /** The workspace's newest flagged events, newest first, at most `limit` (an index range of flagged events only). */
  flaggedEvents(workspaceId: string, limit: number): Promise<FlaggedEvent[]>;
}
