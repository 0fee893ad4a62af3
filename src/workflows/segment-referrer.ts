/**
 * The workflows module's side of src/segments/segment-links.ts: which workflows reference a
 * segment (its trigger, or `inSegment` in a trigger, exit or branch condition), asked before
 * the segment is deleted (409 SEGMENT_IN_USE). Transitions are handled by WorkflowTriggers
 * (trigger.stage.ts), which is also the SegmentTransitionListener.
 */
import type { SegmentReferrer } from '../segments/segment-links.js';
import { segmentsOf } from './workflow-definition.js';
import type { WorkflowStore } from './workflow-store.port.js';

export function workflowSegmentReferrer(workflows: Pick<WorkflowStore, 'forWorkspace'>): SegmentReferrer {
  return {
    async referencing(workspaceId, segmentId) {
      const { workflows: all } = await workflows.forWorkspace(workspaceId);
      return all.filter((w) => segmentsOf(w.definition).has(segmentId)).map((w) => w.id);
    },
  };
}
