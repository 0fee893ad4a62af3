/**
 * Trigger matching: a stage after the contact merge (processing/stages.ts). For each
 * processed event and each workflow of its workspace: exitWhen ends the contact's waiting
 * runs, then the trigger starts a run, or records why not (backdated, paused, filtered,
 * already_entered). The decision is trigger-decision.ts's, shared with the dry run. Starting is WorkflowStore.enter: the run's unique keys make a repeated
 * stage job (or a duplicate event) start nothing more, and the first step's job is written
 * in the same transaction.
 *
 * The definitions of a workspace are cached; the cache is checked against the workspace's
 * revision counter once per stage job (one indexed read for all the job's workspaces), so a
 * workflow created before an event was processed is always seen, and a workspace without
 * workflows costs that one read.
 */
import type { StoredEvent } from '../events-read/event-reader.port.js';
import { presentEvent } from '../events-read/present-event.js';
import type { JobContext } from '../processing/job-kind.js';
import type { EventStage } from '../processing/stages.js';
import type { SegmentTransition, SegmentTransitionListener } from '../segments/segment-links.js';
import { contactView, evaluateCondition, newId, type EngineDeps } from './engine-context.js';
import { firstJob } from './runner.js';
import { decideEventTrigger, decideSegmentTrigger } from './trigger-decision.js';
import type { Workflow } from './workflow-definition.js';
import type { Entry } from './workflow-store.port.js';

export const TRIGGER_STAGE = 'workflows.trigger';

export class WorkflowTriggers implements EventStage, SegmentTransitionListener {
  readonly name = TRIGGER_STAGE;
  private readonly cache = new Map<string, { revision: number; workflows: Workflow[] }>();

  constructor(private readonly deps: EngineDeps) {}

  private async definitions(workspaceIds: string[]): Promise<Map<string, Workflow[]>> {
    const revs = await this.deps.workflows.revisions(workspaceIds);
    const out = new Map<string, Workflow[]>();
    for (const ws of workspaceIds) {
      const rev = revs.get(ws) ?? 0;
      let c = this.cache.get(ws);
      if (!c || c.revision !== rev) {
        c = rev === 0 ? { revision: 0, workflows: [] } : await this.deps.workflows.forWorkspace(ws);
        if (this.cache.size > 10_000) this.cache.clear();
        this.cache.set(ws, c);
      }
      out.set(ws, c.workflows);
    }
    return out;
  }

  async handle(events: StoredEvent[], ctx: JobContext): Promise<void> {
    const byWs = await this.definitions([...new Set(events.map((e) => e.workspaceId))]);
    const entries: Entry[] = [];
    const now = ctx.now;
    for (const e of events) {
      const wfs = byWs.get(e.workspaceId) ?? [];
      if (wfs.length === 0 || e.contactId === null) continue;
      let contact: Record<string, unknown> | null | undefined;
      const subject = async () => {
        contact ??= await contactView(this.deps.contacts, e.workspaceId, e.contactId!);
        return { workspaceId: e.workspaceId, contactId: e.contactId!, contact, event: { name: e.event, properties: e.properties, timestamp: e.timestamp } };
      };
      for (const wf of wfs) {
        const def = wf.definition;
        if (def.exitWhen && def.exitWhen.event === e.event) {
          const matches = def.exitWhen.where ? await evaluateCondition(this.deps, def.exitWhen.where, await subject(), now) : true;
          if (matches) await this.deps.workflows.exitRuns({ workspaceId: e.workspaceId, workflowId: wf.id, contactId: e.contactId, exceptTriggerKey: e.messageId, now });
        }
        const decision = await decideEventTrigger(wf, e, this.deps.settings.maxEventAgeMs, async (where) => evaluateCondition(this.deps, where, await subject(), now));
        if (!decision.fires) {
          // Only workflows this event could have started are traced.
          if (decision.reason !== 'trigger_mismatch') {
            entries.push({ kind: 'skip', workspaceId: e.workspaceId, workflowId: wf.id, messageId: e.messageId, reason: decision.reason });
          }
          continue;
        }
        const runId = newId('run');
        entries.push({
          kind: 'start',
          runId,
          workspaceId: e.workspaceId,
          workflowId: wf.id,
          version: wf.version,
          contactId: e.contactId,
          triggerKey: e.messageId,
          triggerMessageId: e.messageId,
          once: def.frequency === 'once',
          triggerEvent: presentEvent(e),
          firstJob: firstJob(wf, runId, now),
        });
      }
    }
    if (entries.length) await this.deps.workflows.enter(entries, now);
  }

  /** `{"segment", "on"}` triggers: one run per (workflow, transition id). */
  async onTransitions(transitions: SegmentTransition[], ctx: JobContext): Promise<void> {
    const byWs = await this.definitions([...new Set(transitions.map((t) => t.workspaceId))]);
    const entries: Entry[] = [];
    for (const t of transitions) {
      for (const wf of byWs.get(t.workspaceId) ?? []) {
        if (!decideSegmentTrigger(wf, t).fires) continue;
        const runId = newId('run');
        entries.push({
          kind: 'start',
          runId,
          workspaceId: t.workspaceId,
          workflowId: wf.id,
          version: wf.version,
          contactId: t.contactId,
          triggerKey: `transition:${t.id}`,
          triggerMessageId: null,
          once: wf.definition.frequency === 'once',
          triggerEvent: null,
          firstJob: firstJob(wf, runId, ctx.now),
        });
      }
    }
    if (entries.length) await this.deps.workflows.enter(entries, ctx.now);
  }
}
