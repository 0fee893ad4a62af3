/**
 * Runs workflow runs as jobs. Each step of a run is one job of kind STEP_KIND, keyed by
 * (run, step position): the step's result and the run's next job are written in one
 * transaction (WorkflowStore.advance), so a step is scheduled once, and a wait is a job due
 * at its wake time, keyed the same way, so a timer survives restarts and never fires twice.
 * A webhook step hands its call to a delivery (its own job per attempt, DELIVERY_KIND), so a
 * destination that hangs holds only that job's slot. Network calls (webhooks, SMTP) are made
 * between store calls, never inside a transaction or on the SQLite writer thread.
 *
 * A worker killed mid-step repeats that step's job (the lease expires): a step whose state
 * is already final is not executed again, only advanced; a step whose call was in flight
 * repeats that call, with the same webhook-id or Message-ID.
 */
import type { JobInput } from '../processing/job-queue.port.js';
import { PermanentJobError, type JobContext, type JobKind } from '../processing/job-kind.js';
import { contactView, evaluateCondition, type EngineDeps } from './engine-context.js';
import { nextPos, posKey, stepAt, type Step, type StepPos, type Workflow } from './workflow-definition.js';
import type { Run, StepState } from './workflow-store.port.js';
import { executeEmail } from './steps/email.step.js';
import { deliveryKind, startWebhook } from './steps/webhook.step.js';

export const STEP_KIND = 'workflows.step';
export const DELIVERY_KIND = 'workflows.webhook_delivery';
/** How often a step of a paused workflow looks again (its run resumes within this of reactivation). */
export const PAUSED_RECHECK_MS = 5000;
/** Attempts of a step job: with a 2 s backoff base (doubling, capped at 1 h) about 4-7 hours of retries, e.g. while SMTP is down. */
const STEP_MAX_ATTEMPTS = 16;

export interface StepPayload {
  runId: string;
  pos: StepPos;
  /** A wait's timer (the wait step is done when it fires). */
  wake?: true;
}

export function stepJob(runId: string, pos: StepPos, runAt: number, opts: { wake?: boolean; suffix?: string } = {}): JobInput {
  const payload: StepPayload = { runId, pos, ...(opts.wake ? { wake: true as const } : {}) };
  return { kind: STEP_KIND, key: `${runId}@${posKey(pos)}${opts.wake ? ':wake' : ''}${opts.suffix ?? ''}`, payload, runAt, maxAttempts: STEP_MAX_ATTEMPTS };
}

/** The first step's job of a new run, or null for a workflow with no steps. */
export function firstJob(wf: Workflow, runId: string, now: number): JobInput | null {
  return wf.definition.steps.length ? stepJob(runId, [0], now) : null;
}

function state(prev: StepState | undefined, status: StepState['status'], now: number, error?: string): StepState {
  const s: StepState = { status, attempts: (prev?.attempts ?? 0) + (status === 'running' || status === 'waiting' ? 0 : 1), startedAt: prev?.startedAt ?? now, finishedAt: null };
  if (status !== 'running' && status !== 'waiting') s.finishedAt = now;
  if (error !== undefined) s.error = error.slice(0, 1000);
  return s;
}

const FINAL = new Set(['completed', 'skipped', 'failed']);

export class WorkflowRunner {
  constructor(private readonly deps: EngineDeps) {}

  kinds(): JobKind[] {
    return [
      { kind: STEP_KIND, retryBaseMs: 2000, run: (job, ctx) => this.runStep(job.payload as StepPayload, ctx, job.attempts + 1 >= job.maxAttempts) },
      deliveryKind(this.deps, DELIVERY_KIND, (run, stepId, outcome, now) => this.afterDelivery(run, stepId, outcome, now)),
    ];
  }

  /** Completes `stepId` of `run` at `pos` with `status`, scheduling what comes after it. */
  private async finishStep(run: Run, wf: Workflow, pos: StepPos, step: Step, status: 'completed' | 'skipped' | 'failed', now: number, error?: string, next?: StepPos | null): Promise<void> {
    const after = status === 'failed' ? null : next === undefined ? nextPos(wf.definition.steps, pos) : next;
    await this.deps.workflows.advance(
      run.id,
      {
        stepId: step.id,
        state: state(run.steps[step.id], status, now, error),
        runStatus: status === 'failed' ? 'failed' : after ? 'running' : 'completed',
        wakeAt: null,
        next: after ? stepJob(run.id, after, now) : null,
      },
      now,
    );
  }

  private async runStep(p: StepPayload, ctx: JobContext, lastAttempt: boolean): Promise<void> {
    const { workflows } = this.deps;
    const now = ctx.now;
    const run = await workflows.getRun(p.runId);
    if (!run || run.status === 'completed' || run.status === 'exited' || run.status === 'failed') return;
    const wf = await workflows.get(run.workspaceId, run.workflowId, run.version);
    if (!wf) throw new PermanentJobError(`run ${run.id}: version ${run.version} of ${run.workflowId} is gone`);
    const current = await workflows.get(run.workspaceId, run.workflowId);
    if (current?.status === 'paused') {
      // Paused: the run waits; this step looks again shortly (a new job: the key carries the time).
      await ctx.enqueue([stepJob(run.id, p.pos, now + PAUSED_RECHECK_MS, { ...(p.wake ? { wake: true } : {}), suffix: `~${now}` })]);
      return;
    }
    const step = stepAt(wf.definition.steps, p.pos);
    if (!step) throw new PermanentJobError(`run ${run.id}: no step at ${posKey(p.pos)}`);
    const prev = run.steps[step.id];
    if (prev && FINAL.has(prev.status)) {
      // Done before a crash: only the scheduling of what follows may be missing (idempotent).
      if (prev.status === 'failed') return;
      await this.finishStep(run, wf, p.pos, step, prev.status as 'completed' | 'skipped', now, undefined, this.nextOf(wf, run, p.pos, step));
      return;
    }
    switch (step.type) {
      case 'wait': {
        if (p.wake) return this.finishStep(run, wf, p.pos, step, 'completed', now);
        const wakeAt = now + step.durationMs;
        await workflows.advance(
          run.id,
          { stepId: step.id, state: state(prev, 'waiting', now), runStatus: 'waiting', wakeAt, next: stepJob(run.id, p.pos, wakeAt, { wake: true }) },
          now,
        );
        return;
      }
      case 'branch': {
        const contact = await contactView(this.deps.contacts, run.workspaceId, run.contactId);
        const taken = await evaluateCondition(this.deps, step.if, { workspaceId: run.workspaceId, contactId: run.contactId, contact, event: triggerEventOf(run) }, now);
        const list = taken ? step.then : step.else ?? [];
        const next = list.length ? [...p.pos, taken ? 'then' : 'else', 0] as StepPos : nextPos(wf.definition.steps, p.pos);
        // The choice is stored with the step: a repeated job follows the same list.
        const s: StepState = { ...state(prev, 'completed', now), branch: taken ? 'then' : 'else' };
        await workflows.advance(run.id, { stepId: step.id, state: s, runStatus: next ? 'running' : 'completed', wakeAt: null, next: next ? stepJob(run.id, next, now) : null }, now);
        return;
      }
      case 'update_contact': {
        const m = await this.deps.contacts.update(run.workspaceId, run.contactId, step.properties, now);
        if (m.kind === 'not_found') return this.finishStep(run, wf, p.pos, step, 'failed', now, 'the contact no longer exists');
        if (m.kind !== 'ok') return this.finishStep(run, wf, p.pos, step, 'failed', now, 'message' in m ? String(m.message) : m.kind);
        return this.finishStep(run, wf, p.pos, step, 'completed', now);
      }
      case 'webhook': {
        await workflows.advance(run.id, { stepId: step.id, state: state(prev, 'running', now), runStatus: 'running', wakeAt: null, next: null }, now);
        await startWebhook(this.deps, run, wf, step, DELIVERY_KIND, now);
        return;
      }
      case 'email': {
        let r: { status: 'completed' | 'skipped' | 'failed'; error?: string };
        try {
          r = await executeEmail(this.deps, run, wf, step, now);
        } catch (err) {
          // SMTP down or the outbox unwritable: retried with backoff; the last attempt fails the step.
          if (!lastAttempt) throw err;
          r = { status: 'failed', error: `sending failed ${STEP_MAX_ATTEMPTS} times: ${err instanceof Error ? err.message : String(err)}` };
        }
        return this.finishStep(run, wf, p.pos, step, r.status, now, r.error);
      }
    }
  }

  /** After a final branch state: the list it chose, else the next position. */
  private nextOf(wf: Workflow, run: Run, pos: StepPos, step: Step): StepPos | null {
    if (step.type !== 'branch') return nextPos(wf.definition.steps, pos);
    const chosen = run.steps[step.id]?.branch ?? 'else';
    const list = chosen === 'then' ? step.then : step.else ?? [];
    return list.length ? [...pos, chosen, 0] : nextPos(wf.definition.steps, pos);
  }

  /** A delivery reached its end: the webhook step completes (and the run goes on) or fails. */
  private async afterDelivery(run: Run, stepId: string, outcome: { ok: boolean; error?: string }, now: number): Promise<void> {
    const wf = await this.deps.workflows.get(run.workspaceId, run.workflowId, run.version);
    if (!wf) return;
    const pos = findPos(wf.definition.steps, stepId);
    const step = pos ? stepAt(wf.definition.steps, pos) : null;
    if (!pos || !step) return;
    await this.finishStep(run, wf, pos, step, outcome.ok ? 'completed' : 'failed', now, outcome.error);
  }
}

export function triggerEventOf(run: Run): { name: string; properties: Record<string, unknown> | null; timestamp: number } | null {
  const e = run.triggerEvent;
  if (!e) return null;
  return { name: String(e.event), properties: (e.properties as Record<string, unknown>) ?? null, timestamp: Date.parse(String(e.timestamp)) };
}

/** The position of a step id in the tree. */
export function findPos(steps: Step[], id: string, prefix: StepPos = []): StepPos | null {
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    if (s.id === id) return [...prefix, i];
    if (s.type === 'branch') {
      const t = findPos(s.then, id, [...prefix, i, 'then']);
      if (t) return t;
      if (s.else) {
        const e = findPos(s.else, id, [...prefix, i, 'else']);
        if (e) return e;
      }
    }
  }
  return null;
}
