/**
 * Whether a workflow's trigger fires for an event or a segment transition, and if not why:
 * the one decision the trigger stage (live processing), the dry run and the replay all make.
 * The order is the entry rules' (SPEC.md "Workflows"): the trigger's event name, paused, the
 * 72-hour backdating rule, then the trigger's condition. `frequency: once` and the one run per
 * (workflow, messageId) are decided after this, by the run's unique keys when a run is
 * written (WorkflowStore.enter) and by a read when nothing is (dry run, replay).
 */
import type { Condition } from '../core/conditions/condition.js';
import type { Workflow } from './workflow-definition.js';
import type { TraceReason } from './workflow-store.port.js';

/** TraceReason, plus `trigger_mismatch`: the trigger names another event (or is a segment trigger). Not traced live. */
export type TriggerReason = Exclude<TraceReason, 'already_entered'> | 'trigger_mismatch';

export type TriggerDecision = { fires: true } | { fires: false; reason: TriggerReason };

const FIRES: TriggerDecision = Object.freeze({ fires: true });

/**
 * The decision for an event trigger. `conditionHolds` evaluates the trigger's `where` on the
 * contact as merged with this event (asked only when needed: it reads the store).
 */
export async function decideEventTrigger(
  wf: Workflow,
  e: { event: string; timestamp: number; receivedAt: number },
  maxEventAgeMs: number,
  conditionHolds: (where: Condition) => Promise<boolean>,
): Promise<TriggerDecision> {
  const trigger = wf.definition.trigger;
  if (!('event' in trigger) || trigger.event !== e.event) return { fires: false, reason: 'trigger_mismatch' };
  if (wf.status === 'paused') return { fires: false, reason: 'paused' };
  // Backfills must not mail people about last year: they update the contact, start nothing.
  if (e.receivedAt - e.timestamp > maxEventAgeMs) return { fires: false, reason: 'backdated' };
  if (trigger.where && !(await conditionHolds(trigger.where))) return { fires: false, reason: 'filtered' };
  return FIRES;
}

/** The decision for a segment trigger (`{"segment", "on"}`) on one transition. */
export function decideSegmentTrigger(wf: Workflow, t: { segmentId: string; on: 'enter' | 'exit' }): TriggerDecision {
  const trigger = wf.definition.trigger;
  if (!('segment' in trigger) || trigger.segment !== t.segmentId || trigger.on !== t.on) return { fires: false, reason: 'trigger_mismatch' };
  if (wf.status !== 'active') return { fires: false, reason: 'paused' };
  return FIRES;
}
