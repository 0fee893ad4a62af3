/**
 * The webhook step (Standard Webhooks): the step job creates the run step's delivery (a
 * stable id: the `webhook-id` of every attempt) with its first attempt's job; each attempt
 * is then its own job, so a destination that hangs for WEBHOOK_TIMEOUT_MS holds one job
 * slot and delays no other delivery. An attempt: 2xx succeeds; 410, a refused address or a
 * retry schedule run out fail the step; anything else (5xx, redirect, timeout, reset) is
 * retried after WEBHOOK_RETRY_SCHEDULE's next delay, or Retry-After when that is longer.
 *
 * Test mode (the run's workspace is a test sibling): every attempt records its signed request
 * exactly as built (`request`), and it is sent only when the step is marked `"test": true`;
 * otherwise the attempt is recorded with `sent: false` and the step completes, no network
 * call made (test events must never reach a production endpoint).
 */
import type { JobInput } from '../../processing/job-queue.port.js';
import type { JobKind } from '../../processing/job-kind.js';
import { iso } from '../../http/paging.js';
import { deliveryIdFor, contactView, type EngineDeps } from '../engine-context.js';
import { nextRetryDelayMs } from '../transports/retry-schedule.js';
import type { Step, Workflow } from '../workflow-definition.js';
import type { DeliveryAttempt, Run } from '../workflow-store.port.js';
import { buildWebhookRequest } from '../transports/webhook-sender.js';

type WebhookStep = Extract<Step, { type: 'webhook' }>;

/** The webhook step of this id in a list of steps (branches searched too), or null. */
function findWebhookStep(steps: Step[], id: string): WebhookStep | null {
  for (const s of steps) {
    if (s.id === id) return s.type === 'webhook' ? s : null;
    if (s.type === 'branch') {
      const found = findWebhookStep(s.then, id) ?? (s.else ? findWebhookStep(s.else, id) : null);
      if (found) return found;
    }
  }
  return null;
}

/**
 * Whether the run's version marks this step `"test": true` (a test endpoint). Read from the
 * definition at attempt time, in test mode only: the delivery row stays as it was.
 */
async function isTestEndpoint(deps: EngineDeps, run: Run, stepId: string): Promise<boolean> {
  const wf = await deps.workflows.get(run.workspaceId, run.workflowId, run.version);
  return wf !== null && findWebhookStep(wf.definition.steps, stepId)?.test === true;
}

/** One attempt's job: keyed by (delivery, attempt number) so a retry is scheduled once. */
export function attemptJob(kind: string, deliveryId: string, attempt: number | string, runAt: number): JobInput {
  // Attempts are counted by the delivery itself; the job only carries the id. Not retried by
  // the job queue beyond a crash or a store failure: the schedule is the delivery's.
  return { kind, key: `${deliveryId}#${attempt}`, payload: { deliveryId }, runAt, maxAttempts: 5 };
}

/** The body a webhook step posts (SPEC.md "Webhook step"); the replay (replay.ts) shows the same. */
export function webhookBody(wf: Workflow, runId: string, stepId: string, contact: Record<string, unknown> | null, event: Record<string, unknown> | null, now: number): string {
  return JSON.stringify({
    type: 'workflow.webhook',
    timestamp: iso(now),
    data: { workflowId: wf.id, version: wf.version, runId, stepId, contact, event },
  });
}

export async function startWebhook(deps: EngineDeps, run: Run, wf: Workflow, step: WebhookStep, kind: string, now: number): Promise<void> {
  const contact = await contactView(deps.contacts, run.workspaceId, run.contactId);
  const body = webhookBody(wf, run.id, step.id, contact, run.triggerEvent, now);
  await deps.deliveries.create(
    { id: deliveryIdFor(run.id, step.id), workspaceId: run.workspaceId, workflowId: wf.id, runId: run.id, stepId: step.id, url: step.url, headers: step.headers ?? {}, body },
    (id) => attemptJob(kind, id, 1, now),
    now,
  );
}

export function deliveryKind(
  deps: EngineDeps,
  kind: string,
  done: (run: Run, stepId: string, outcome: { ok: boolean; error?: string }, now: number) => Promise<void>,
): JobKind {
  return {
    kind,
    retryBaseMs: 1000,
    async run(job, ctx) {
      const { deliveryId } = job.payload as { deliveryId: string };
      const d = await deps.deliveries.get(deliveryId);
      if (!d) return;
      const run = await deps.workflows.getRun(d.runId);
      if (!run) return;
      if (d.status === 'succeeded' || d.status === 'failed') {
        // Recorded before a crash: the run's step may not have been advanced yet (idempotent).
        const stepState = run.steps[d.stepId];
        if (stepState?.status === 'running') await done(run, d.stepId, d.status === 'succeeded' ? { ok: true } : { ok: false, error: d.attempts.at(-1)?.error ?? 'delivery failed' }, ctx.now);
        return;
      }
      if (run.status === 'exited') {
        await deps.deliveries.recordAttempt({ id: d.id, attempt: { at: ctx.now, status: null, latencyMs: 0, response: '', error: 'run exited' }, status: 'failed', nextAttemptAt: null, next: null, now: ctx.now });
        return;
      }
      const secrets = await deps.secrets.signingSecrets(d.workspaceId, ctx.now);
      const started = Date.now();
      const req = { url: d.url, headers: d.headers, deliveryId: d.id, body: d.body, secrets, timestampSec: Math.floor(started / 1000) };
      const test = await deps.modes.isTest(d.workspaceId);
      const built = buildWebhookRequest(req);
      if (test && !(await isTestEndpoint(deps, run, d.stepId))) {
        const attempt: DeliveryAttempt = { at: started, status: null, latencyMs: 0, response: '', request: built, sent: false };
        await deps.deliveries.recordAttempt({ id: d.id, attempt, status: 'succeeded', nextAttemptAt: null, next: null, now: started });
        await done(run, d.stepId, { ok: true }, started);
        return;
      }
      const outcome = await deps.sender.send(req, built);
      const now = Date.now();
      const attemptNo = d.attempts.length + 1;
      const attempt: DeliveryAttempt = {
        at: started,
        status: 'status' in outcome ? outcome.status : null,
        latencyMs: outcome.latencyMs,
        response: 'response' in outcome ? outcome.response : '',
        ...('error' in outcome && outcome.error !== undefined ? { error: outcome.error } : {}),
        ...(test ? { request: built, sent: outcome.kind !== 'refused' } : {}),
      };
      if (outcome.kind === 'success') {
        await deps.deliveries.recordAttempt({ id: d.id, attempt, status: 'succeeded', nextAttemptAt: null, next: null, now });
        await done(run, d.stepId, { ok: true }, now);
        return;
      }
      let error: string;
      if (outcome.kind === 'retry') {
        const delay = nextRetryDelayMs(attemptNo, deps.settings.retryScheduleMs, outcome.retryAfterMs);
        if (delay !== null) {
          const at = now + delay;
          await deps.deliveries.recordAttempt({ id: d.id, attempt, status: 'pending', nextAttemptAt: at, next: attemptJob(kind, d.id, attemptNo + 1, at), now });
          return;
        }
        error = `no success after ${attemptNo} attempts (last: ${outcome.status ?? outcome.error ?? 'error'})`;
      } else if (outcome.kind === 'gone') {
        error = 'the destination answered 410 Gone';
      } else {
        error = `refused: ${outcome.error}`;
      }
      await deps.deliveries.recordAttempt({ id: d.id, attempt: { ...attempt, error: attempt.error ?? error }, status: 'failed', nextAttemptAt: null, next: null, now });
      await done(run, d.stepId, { ok: false, error }, now);
    },
  };
}
