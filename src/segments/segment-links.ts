/**
 * What the segments module offers other modules, and what it asks of them. The workflows
 * module listens to transitions (a `{"segment", "on"}` trigger) and reads membership
 * (`inSegment` in branch conditions); the segments module asks who references a segment
 * before deleting it (409 SEGMENT_IN_USE). Composition (src/cli/compose.ts) wires them, so
 * neither module imports the other's service.
 */
import type { JobContext } from '../processing/job-kind.js';

/** A contact entering or leaving a segment, recorded once with a stable id. */
export interface SegmentTransition {
  /** Stable: the same transition delivered twice has the same id (listeners dedup on it). */
  id: string;
  workspaceId: string;
  segmentId: string;
  contactId: string;
  on: 'enter' | 'exit';
  /** Unix ms of the transition. */
  at: number;
}

/** Gets every recorded transition at least once, in the order recorded per contact. */
export interface SegmentTransitionListener {
  readonly name: string;
  onTransitions(transitions: SegmentTransition[], ctx: JobContext): Promise<void>;
}

export interface SegmentMembership {
  /** Whether the segment exists in this workspace (a workflow trigger or condition naming another is a 400). */
  exists(workspaceId: string, segmentId: string): Promise<boolean>;
  isMember(workspaceId: string, segmentId: string, contactId: string): Promise<boolean>;
}

/** Asked before a segment is deleted: ids of what references it (workflows, other segments). */
export interface SegmentReferrer {
  referencing(workspaceId: string, segmentId: string): Promise<string[]>;
}
