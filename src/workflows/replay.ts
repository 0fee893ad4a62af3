/**
 * Workflow replay (POST /v1/workflows/replay): a workflow definition run over the stored
 * events of a time range with no side effect, to check it before it is activated. Who would
 * have entered, and what each step would have done: the emails rendered, the webhook bodies
 * built, the contact updates, the branches taken. The decisions and renderers are live
 * processing's own (trigger-decision.ts, evaluateCondition, composeEmail, webhookBody); the
 * store is only read, nothing is sent, and no run, delivery, job or key is written.
 *
 * Simulation, in event time:
 * - Trigger events are taken in acceptance order (as the worker processes them), the
 *   workflow as if active: `once` and one run per messageId are counted within the replay
 *   (runs the workflow has really had are not looked at), the 72-hour backdating rule
 *   compares each event's receipt with its timestamp as live does.
 * - A run starts at its trigger event's timestamp; a wait moves its clock on by the wait's
 *   duration (no real waiting); a matching `exitWhen` event of the contact whose timestamp
 *   falls within a wait ends the run there (`exited`). Steps after a wait are shown even when
 *   the wait ends after `until` (events after `until` are not read).
 * - Conditions and templates see the contact as stored now (with this run's own
 *   update_contact steps applied), and its stored history for `performed`.
 */
import type { ContactStore } from '../contacts/contact-store.port.js';
import type { EventReader, StoredEvent } from '../events-read/event-reader.port.js';
import { presentEvent } from '../events-read/present-event.js';
import { iso } from '../http/paging.js';
import type { SegmentMembership } from '../segments/segment-links.js';
import { contactView, evaluateCondition } from './engine-context.js';
import { composeEmail, type RenderedEmail } from './steps/email.step.js';
import { webhookBody } from './steps/webhook.step.js';
import { decideEventTrigger, type TriggerReason } from './trigger-decision.js';
import type { Step, Workflow } from './workflow-definition.js';
import type { WorkflowStore } from './workflow-store.port.js';

/** Events read at most per replay (trigger and exitWhen events together): a bounded read and answer; more is a 400. */
export const REPLAY_MAX_EVENTS = 10_000;
const PAGE = 1000;

export interface ReplayDeps {
  events: Pick<EventReader, 'list'>;
  contacts: Pick<ContactStore, 'get'>;
  workflows: Pick<WorkflowStore, 'contactEvents'>;
  membership?: SegmentMembership;
  settings: { maxEventAgeMs: number; emailFrom: string };
}

export interface ReplayStep {
  id: string;
  type: Step['type'];
  status: 'completed' | 'skipped' | 'failed' | 'waiting';
  /** Simulated time the step ran (event time). */
  at: string;
  error?: string;
  branch?: 'then' | 'else';
  wakeAt?: string;
  email?: RenderedEmail;
  webhook?: { url: string; headers: Record<string, string>; body: unknown };
  properties?: Record<string, unknown>;
}

export interface ReplayRun {
  contactId: string;
  email: string;
  triggerMessageId: string;
  startedAt: string;
  status: 'completed' | 'exited' | 'failed';
  exitedAt?: string;
  steps: ReplayStep[];
}

export interface ReplayResult {
  workflowId: string | null;
  version: number | null;
  since: string;
  until: string;
  /** Events read (trigger and exitWhen events in the range). */
  events: number;
  runs: ReplayRun[];
  notEntered: { messageId: string; contactId: string | null; reason: TriggerReason | 'already_entered' | 'not_processed' }[];
}

/** More events in the range than a replay reads: the caller narrows the range (a 400). */
export class ReplayRangeTooLargeError extends Error {
  override readonly name = 'ReplayRangeTooLargeError';
  constructor(readonly max: number) {
    super(`more than ${max} events in the range: narrow "since" and "until"`);
  }
}

/** The stored events of these names in [since, until), in acceptance order; more than `max` is refused. */
async function eventsOf(deps: ReplayDeps, workspaceId: string, names: string[], since: number, until: number, max: number): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for (const name of names) {
    let after: { timestamp: number; seq: number } | undefined;
    for (;;) {
      const p = await deps.events.list({ workspaceId, event: name, since, until, limit: Math.min(PAGE, max + 1), ...(after ? { after } : {}) });
      all.push(...p.items);
      // A partial replay would report a wrong `once` (its first entries missing): all or none.
      if (all.length > max) throw new ReplayRangeTooLargeError(max);
      if (!p.next) break;
      after = p.next;
    }
  }
  return all.sort((a, b) => a.seq - b.seq);
}

export async function replayWorkflow(deps: ReplayDeps, input: { workspaceId: string; workflow: Workflow; stored: boolean; since: number; until: number; max?: number }): Promise<ReplayResult> {
  const { workspaceId, since, until } = input;
  // Replayed as if active: checking a paused (or not yet created) workflow is the point.
  const wf: Workflow = { ...input.workflow, status: 'active' };
  const def = wf.definition;
  const trigger = def.trigger;
  if (!('event' in trigger)) throw new Error('replay: event triggers only');
  const names = [trigger.event, ...(def.exitWhen && def.exitWhen.event !== trigger.event ? [def.exitWhen.event] : [])];
  const events = await eventsOf(deps, workspaceId, names, since, until, input.max ?? REPLAY_MAX_EVENTS);

  const views = new Map<string, Record<string, unknown> | null>();
  const viewOf = async (contactId: string) => {
    if (!views.has(contactId)) views.set(contactId, await contactView(deps.contacts, workspaceId, contactId));
    return views.get(contactId) ?? null;
  };
  const subjectOf = async (e: StoredEvent, contact?: Record<string, unknown> | null) => ({
    workspaceId,
    contactId: e.contactId,
    contact: contact === undefined ? await viewOf(e.contactId!) : contact,
    event: { name: e.event, properties: e.properties, timestamp: e.timestamp },
  });

  // exitWhen events per contact (event time), each checked against its `where` once.
  const exits = new Map<string, { at: number; messageId: string }[]>();
  if (def.exitWhen) {
    for (const e of events) {
      if (e.event !== def.exitWhen.event || e.contactId === null) continue;
      const matches = def.exitWhen.where ? await evaluateCondition(deps, def.exitWhen.where, await subjectOf(e), e.receivedAt) : true;
      if (!matches) continue;
      const l = exits.get(e.contactId) ?? [];
      l.push({ at: e.timestamp, messageId: e.messageId });
      exits.set(e.contactId, l);
    }
  }

  const runs: ReplayRun[] = [];
  const notEntered: ReplayResult['notEntered'] = [];
  const entered = new Set<string>();
  for (const e of events) {
    if (e.event !== trigger.event) continue;
    if (e.contactId === null) {
      // Queued or failed: live processing has not run its stages for it either.
      notEntered.push({ messageId: e.messageId, contactId: null, reason: 'not_processed' });
      continue;
    }
    const contactId = e.contactId;
    const d = await decideEventTrigger(wf, e, deps.settings.maxEventAgeMs, async (where) => evaluateCondition(deps, where, await subjectOf(e), e.receivedAt));
    if (!d.fires) {
      notEntered.push({ messageId: e.messageId, contactId, reason: d.reason });
      continue;
    }
    if (def.frequency === 'once' && entered.has(contactId)) {
      notEntered.push({ messageId: e.messageId, contactId, reason: 'already_entered' });
      continue;
    }
    entered.add(contactId);
    const stored = await viewOf(contactId);
    runs.push(await simulateRun(deps, wf, e, stored ? { ...stored } : null, exits.get(contactId) ?? [], `replay_${runs.length + 1}`));
  }
  return {
    workflowId: input.stored ? wf.id : null,
    version: input.stored ? wf.version : null,
    since: iso(since),
    until: iso(until),
    events: events.length,
    runs,
    notEntered,
  };
}

async function simulateRun(
  deps: ReplayDeps,
  wf: Workflow,
  e: StoredEvent,
  contact: Record<string, unknown> | null,
  exits: { at: number; messageId: string }[],
  runId: string,
): Promise<ReplayRun> {
  const triggerEvent = presentEvent(e);
  const run: ReplayRun = { contactId: e.contactId!, email: e.email, triggerMessageId: e.messageId, startedAt: iso(e.timestamp), status: 'completed', steps: [] };
  let t = e.timestamp;
  const subject = () => ({ workspaceId: wf.workspaceId, contactId: e.contactId, contact, event: { name: e.event, properties: e.properties, timestamp: e.timestamp } });

  /** A step that needs the contact, after it was erased: the step and the run fail, as live. */
  const contactGone = (step: Step, at: string): false => {
    run.steps.push({ id: step.id, type: step.type, status: 'failed', at, error: 'the contact no longer exists' });
    run.status = 'failed';
    return false;
  };

  // Depth-first through branches, as the runner's positions go; false: the run ended.
  const walk = async (steps: Step[]): Promise<boolean> => {
    for (const step of steps) {
      const at = iso(t);
      switch (step.type) {
        case 'wait': {
          const wake = t + step.durationMs;
          // The run's own trigger event never exits it (exitRuns' exceptTriggerKey).
          const exit = exits.find((x) => x.at >= t && x.at < wake && x.messageId !== e.messageId);
          if (exit) {
            run.steps.push({ id: step.id, type: step.type, status: 'waiting', at, wakeAt: iso(wake) });
            run.status = 'exited';
            run.exitedAt = iso(exit.at);
            return false;
          }
          run.steps.push({ id: step.id, type: step.type, status: 'completed', at, wakeAt: iso(wake) });
          t = wake;
          break;
        }
        case 'branch': {
          const taken = await evaluateCondition(deps, step.if, subject(), t);
          run.steps.push({ id: step.id, type: step.type, status: 'completed', at, branch: taken ? 'then' : 'else' });
          if (!(await walk(taken ? step.then : step.else ?? []))) return false;
          break;
        }
        case 'update_contact': {
          if (!contact) return contactGone(step, at);
          // Shown, not written; later steps of this run see it.
          for (const [k, v] of Object.entries(step.properties)) {
            if (v === null) delete contact[k];
            else contact[k] = v;
          }
          run.steps.push({ id: step.id, type: step.type, status: 'completed', at, properties: step.properties });
          break;
        }
        case 'webhook': {
          const body = webhookBody(wf, runId, step.id, contact, triggerEvent, t);
          run.steps.push({ id: step.id, type: step.type, status: 'completed', at, webhook: { url: step.url, headers: step.headers ?? {}, body: JSON.parse(body) } });
          break;
        }
        case 'email': {
          if (!contact) return contactGone(step, at);
          const c = await composeEmail(contact, triggerEvent, wf, step, deps.settings.emailFrom);
          if (c.status === 'ready') run.steps.push({ id: step.id, type: step.type, status: 'completed', at, email: c.message });
          else run.steps.push({ id: step.id, type: step.type, status: c.status, at, error: c.error });
          if (c.status === 'failed') {
            run.status = 'failed';
            return false;
          }
          break;
        }
      }
    }
    return true;
  };
  await walk(wf.definition.steps);
  return run;
}
