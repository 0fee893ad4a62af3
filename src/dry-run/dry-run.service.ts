/**
 * Dry runs of POST /v1/events and /v1/events/batch (`?dryRun=true`, SPEC.md "Testing and
 * governance of events"): the same validation as the real call (ingest.service.ts
 * prepareSingle / prepareBatch), then what processing would do, read from the store and
 * written nowhere. No second copy of any decision: the duplicate check is a read of the dedup
 * ledger (the real append's rule: held within the window), the contact change is
 * ContactMerge.apply's own decision on a copy (core/trait-preview.ts), the workflow entry is
 * trigger-decision.ts, and segment membership is MembershipService.preview (the membership
 * stage's judgement). Reads only: no reservation, no row, no job, no activity counted.
 */
import { DEFAULT_CONTACT_STATUS } from '../core/contact.js';
import type { ContactState, PropertyClock } from '../core/merge-properties.js';
import { previewTraits, type TraitChange } from '../core/trait-preview.js';
import type { ItemCode, ValidEvent } from '../core/types.js';
import type { ContactRecord, ContactStore } from '../contacts/contact-store.port.js';
import type { AppendItem, EventLog } from '../ingest/event-log.port.js';
import { planVerdict, prepareBatch, prepareSingle, type BatchResult, type PlanChecks, type PlanVerdict } from '../ingest/ingest.service.js';
import type { SegmentMembership } from '../segments/segment-links.js';
import type { EvaluationResult, MembershipService } from '../segments/membership.service.js';
import { evaluateCondition } from '../workflows/engine-context.js';
import { decideEventTrigger, decideSegmentTrigger, type TriggerDecision, type TriggerReason } from '../workflows/trigger-decision.js';
import type { Workflow } from '../workflows/workflow-definition.js';
import type { WorkflowStore } from '../workflows/workflow-store.port.js';

/**
 * The clock sequence of the previewed event: accepted after every stored event (whose seqs are
 * event ids), so it wins ties against them as the real event would; below the contacts API's
 * API_SEQ (storage/rows.ts), which wins ties against events of the same millisecond.
 */
const PREVIEW_SEQ = Number.MAX_SAFE_INTEGER - 1;

export type DryRunWorkflowReason = TriggerReason | 'already_entered' | 'duplicate';

export interface DryRunOutcome {
  messageId: string;
  duplicate: boolean;
  contact: { exists: boolean; changes: TraitChange[] };
  workflows: { workflowId: string; outcome: 'would_start' | 'not_entered'; reason?: DryRunWorkflowReason }[];
  segments: { segmentId: string; change: 'enter' | 'exit' }[];
}

export type DryRunSingle =
  | { kind: 'not_object' }
  | { kind: 'invalid'; code: ItemCode; message: string }
  | { kind: 'previewed'; outcome: DryRunOutcome };

export type DryRunBatch =
  | { kind: 'not_object' }
  | { kind: 'invalid_batch'; message: string }
  | { kind: 'too_many' }
  | { kind: 'done'; result: Omit<BatchResult, 'events'> & { events: (BatchResult['events'][number] & { dryRun: DryRunOutcome })[] } };

export interface DryRunDeps {
  ledger: Pick<EventLog, 'firstAcceptedAt'>;
  contacts: Pick<ContactStore, 'mergeState'>;
  workflows: Pick<WorkflowStore, 'forWorkspace' | 'listRuns' | 'contactEvents'>;
  /** The segments module: its preview, and membership for `inSegment` conditions. */
  segments?: { service: Pick<MembershipService, 'preview'>; membership: SegmentMembership };
  settings: { dedupWindowMs: number; maxEventAgeMs: number };
  /** The tracking plans, checked as the real call checks them. */
  plans?: PlanChecks;
}

/** What earlier events of one batch would have done, so a later one is previewed after them. */
interface BatchMemory {
  /** By email: the stored contact (null: none yet) and its state after the batch's earlier events; `created` by one of them. */
  contacts: Map<string, { contact: ContactRecord | null; state: ContactState; jsonChars: number | undefined; created?: boolean }>;
  /** The workspace's workflows, read once per call. */
  workflows?: Workflow[];
  messageIds: Set<string>;
  /** `${workflowId}\0${email}` of runs a `once` workflow would start. */
  entered: Set<string>;
}

export class DryRunService {
  constructor(private readonly deps: DryRunDeps) {}

  async single(workspaceId: string, body: unknown, now: number): Promise<DryRunSingle> {
    const p = prepareSingle(workspaceId, body, now, await this.planVerdict(workspaceId));
    if (p.kind !== 'valid') return p;
    return { kind: 'previewed', outcome: await this.preview(workspaceId, p.item, p.event, now, newMemory()) };
  }

  async batch(workspaceId: string, body: unknown, now: number): Promise<DryRunBatch> {
    const p = prepareBatch(workspaceId, body, now, await this.planVerdict(workspaceId));
    if (p.kind !== 'prepared') return p;
    const memory = newMemory();
    const events: (BatchResult['events'][number] & { dryRun: DryRunOutcome })[] = [];
    let duplicated = 0;
    // In order: a later event of the batch is previewed after the earlier ones (its contact
    // as they leave it, a repeated messageId a duplicate), as the real append and merge go.
    for (let k = 0; k < p.items.length; k++) {
      const outcome = await this.preview(workspaceId, p.items[k]!, p.valid[k]!, now, memory);
      if (outcome.duplicate) duplicated++;
      events.push({ index: p.indexes[k]!, messageId: outcome.messageId, status: outcome.duplicate ? 'duplicate' : 'accepted', dryRun: outcome });
    }
    return { kind: 'done', result: { accepted: events.length - duplicated, failed: p.errors.length, duplicated, events, errors: p.errors } };
  }

  /** The workspace's tracking plan as the real call applies it (a `block` violation is the same error), counting nothing. */
  private async planVerdict(workspaceId: string): Promise<((v: ValidEvent) => PlanVerdict) | null> {
    const plan = this.deps.plans ? await this.deps.plans.current(workspaceId) : null;
    return plan === null ? null : (v) => planVerdict(plan, v);
  }

  /** The real append's rule without its reservation: a messageId held within the window is a duplicate. */
  private async isDuplicate(workspaceId: string, messageId: string, now: number, memory: BatchMemory): Promise<boolean> {
    if (memory.messageIds.has(messageId)) return true;
    memory.messageIds.add(messageId);
    const at = await this.deps.ledger.firstAcceptedAt(workspaceId, messageId);
    return at !== null && at > now - this.deps.settings.dedupWindowMs;
  }

  private async preview(workspaceId: string, item: AppendItem, v: ValidEvent, now: number, memory: BatchMemory): Promise<DryRunOutcome> {
    const duplicate = await this.isDuplicate(workspaceId, item.messageId, now, memory);
    let known = memory.contacts.get(v.email);
    if (!known) {
      const stored = await this.deps.contacts.mergeState(workspaceId, v.email);
      known = stored
        ? { contact: stored.contact, state: stored.state, jsonChars: stored.jsonChars }
        : { contact: null, state: { properties: { email: v.email, status: DEFAULT_CONTACT_STATUS }, clocks: {} }, jsonChars: undefined };
    }
    const contactId = known.contact?.id ?? null;
    const exists = known.contact !== null || known.created === true;
    const workflows = (memory.workflows ??= (await this.deps.workflows.forWorkspace(workspaceId)).workflows);
    if (duplicate) {
      // Not stored, not processed again: nothing would change.
      return {
        messageId: item.messageId,
        duplicate,
        contact: { exists, changes: [] },
        workflows: workflows.map((wf) => ({ workflowId: wf.id, outcome: 'not_entered', reason: 'duplicate' })),
        segments: [],
      };
    }
    const clock: PropertyClock = [v.timestamp, PREVIEW_SEQ];
    const { changes, after } = previewTraits(known.state, known.jsonChars, v.traits, clock);
    // The contact as processing would leave it; also for the next event of a batch.
    const afterRecord: ContactRecord = {
      id: contactId ?? '',
      workspaceId,
      email: v.email,
      properties: after.properties,
      createdAt: known.contact?.createdAt ?? now,
      updatedAt: now,
    };
    memory.contacts.set(v.email, { contact: known.contact, state: after, jsonChars: undefined, created: true });

    const transitions = this.deps.segments
      ? await this.deps.segments.service.preview({ workspaceId, contactId, after: afterRecord, event: { event: v.event, properties: v.properties, traits: v.traits, timestamp: v.timestamp }, now })
      : { enter: [], exit: [] };
    const segments = [
      ...transitions.enter.map((segmentId) => ({ segmentId, change: 'enter' as const })),
      ...transitions.exit.map((segmentId) => ({ segmentId, change: 'exit' as const })),
    ];
    // Workflow conditions run after the membership stage live: they see the memberships this event makes.
    const memberships = new Map<string, boolean>([...transitions.enter.map((id) => [id, true] as const), ...transitions.exit.map((id) => [id, false] as const)]);
    const subject = {
      workspaceId,
      contactId,
      contact: { ...after.properties, id: contactId },
      event: { name: v.event, properties: v.properties, timestamp: v.timestamp },
      overlay: { events: [{ name: v.event, properties: v.properties, timestamp: v.timestamp }], memberships },
    };
    const conditionDeps = { workflows: this.deps.workflows, ...(this.deps.segments ? { membership: this.deps.segments.membership } : {}) };

    const out: DryRunOutcome['workflows'] = [];
    for (const wf of workflows) {
      let d: TriggerDecision;
      if ('event' in wf.definition.trigger) {
        d = await decideEventTrigger(wf, { event: v.event, timestamp: v.timestamp, receivedAt: now }, this.deps.settings.maxEventAgeMs, (where) =>
          evaluateCondition(conditionDeps, where, subject, now),
        );
      } else {
        d = segmentDecision(wf, transitions);
      }
      if (!d.fires) {
        out.push({ workflowId: wf.id, outcome: 'not_entered', reason: d.reason });
        continue;
      }
      if (wf.definition.frequency === 'once' && (await this.enteredBefore(workspaceId, wf, contactId, v.email, memory))) {
        out.push({ workflowId: wf.id, outcome: 'not_entered', reason: 'already_entered' });
        continue;
      }
      out.push({ workflowId: wf.id, outcome: 'would_start' });
    }
    return { messageId: item.messageId, duplicate, contact: { exists, changes }, workflows: out, segments };
  }

  /** `frequency: once`: a run of this workflow for the contact, ever (the run's once key), or one earlier in this batch. */
  private async enteredBefore(workspaceId: string, wf: Workflow, contactId: string | null, email: string, memory: BatchMemory): Promise<boolean> {
    const key = `${wf.id}\u0000${email}`;
    if (memory.entered.has(key)) return true;
    memory.entered.add(key);
    if (contactId === null) return false;
    return (await this.deps.workflows.listRuns({ workspaceId, workflowId: wf.id, contactId, limit: 1 })).length > 0;
  }
}

function newMemory(): BatchMemory {
  return { contacts: new Map(), messageIds: new Set(), entered: new Set() };
}

/** A segment trigger fires when one of the previewed transitions is its own (paused says so). */
function segmentDecision(wf: Workflow, t: EvaluationResult): TriggerDecision {
  const all = [...t.enter.map((segmentId) => ({ segmentId, on: 'enter' as const })), ...t.exit.map((segmentId) => ({ segmentId, on: 'exit' as const }))];
  let paused = false;
  for (const x of all) {
    const d = decideSegmentTrigger(wf, x);
    if (d.fires) return d;
    if (d.reason === 'paused') paused = true;
  }
  return { fires: false, reason: paused ? 'paused' : 'trigger_mismatch' };
}
