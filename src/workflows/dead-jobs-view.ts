/**
 * A workspace's dead workflow jobs for the dashboard's Failed page: step and webhook-delivery
 * jobs that failed for good (the job queue's listDead, the jobs counted by
 * `smashsend_jobs_dead`). The queue is the server's, one for every workspace: a job is the
 * workspace's when the run (step job) or delivery (delivery job) it names is. Other kinds
 * (the contact merge, segments, housekeeping) are the server's and are only counted, on the
 * overview; an event whose merge failed is listed as a failed event.
 */
import { ApiError, Errors } from '../http/errors.js';
import { iso, queryLimit, singleQuery } from '../http/paging.js';
import type { Job, JobQueue } from '../processing/job-queue.port.js';
import { DELIVERY_KIND, STEP_KIND, type StepPayload } from './runner.js';
import type { DeliveryStore, WorkflowStore } from './workflow-store.port.js';

/** Dead jobs looked at per kind, newest first: the page stays bounded however many there are. */
export const DEAD_JOBS_SCAN = 200;

type DeadJobDeps = { workflows: Pick<WorkflowStore, 'getRun'>; deliveries: Pick<DeliveryStore, 'get'> };

const present = (j: Job, extra: Record<string, unknown>) => ({
  id: j.id,
  kind: j.kind,
  attempts: j.attempts,
  maxAttempts: j.maxAttempts,
  lastError: j.lastError,
  createdAt: iso(j.createdAt),
  finishedAt: j.finishedAt === null ? null : iso(j.finishedAt),
  ...extra,
});

/** What names the job as the workspace's (its workflow, run, delivery), or null: not this workspace's. */
async function attribution(deps: DeadJobDeps, j: Job, workspaceId: string, runs = new Map<string, string | null>()): Promise<Record<string, unknown> | null> {
  if (j.kind === STEP_KIND) {
    const runId = (j.payload as Partial<StepPayload> | null)?.runId;
    if (typeof runId !== 'string') return null;
    if (!runs.has(runId)) runs.set(runId, (await deps.workflows.getRun(runId, workspaceId))?.workflowId ?? null);
    const workflowId = runs.get(runId);
    return workflowId ? { workflowId, runId } : null;
  }
  if (j.kind === DELIVERY_KIND) {
    const deliveryId = (j.payload as { deliveryId?: unknown } | null)?.deliveryId;
    if (typeof deliveryId !== 'string') return null;
    const d = await deps.deliveries.get(deliveryId, workspaceId);
    return d ? { workflowId: d.workflowId, runId: d.runId, deliveryId: d.id } : null;
  }
  return null;
}

export async function listDeadJobsView(deps: DeadJobDeps & { jobs: Pick<JobQueue, 'listDead'> }, workspaceId: string, query: unknown) {
  const q = singleQuery(query);
  for (const k of Object.keys(q)) if (k !== 'limit') throw Errors.unknownQuery(k, ['limit']);
  const limit = q.limit === undefined ? 50 : queryLimit(q.limit, 100);
  const [steps, attempts] = await Promise.all([deps.jobs.listDead({ kind: STEP_KIND, limit: DEAD_JOBS_SCAN }), deps.jobs.listDead({ kind: DELIVERY_KIND, limit: DEAD_JOBS_SCAN })]);
  const runs = new Map<string, string | null>();
  const out: Record<string, unknown>[] = [];
  for (const j of [...steps, ...attempts]) {
    const extra = await attribution(deps, j, workspaceId, runs);
    if (extra) out.push(present(j, extra));
  }
  out.sort((a, b) => String(b.finishedAt ?? b.createdAt).localeCompare(String(a.finishedAt ?? a.createdAt)));
  return { deadJobs: { items: out.slice(0, limit), hasMore: out.length > limit } };
}

const jobNotFound = () => new ApiError(404, 'NOT_FOUND', 'Job not found');

/**
 * The Failed page's Retry of a dead job: queued again, due now, attempts reset (the job
 * queue's retry). A job no run or delivery of the workspace names is not found, as one of
 * another workspace must be.
 */
export async function retryDeadJob(deps: DeadJobDeps & { jobs: Pick<JobQueue, 'get' | 'retry'> }, workspaceId: string, rawId: string, now: number) {
  const id = /^[1-9]\d{0,15}$/.test(rawId) ? Number(rawId) : null;
  const j = id === null ? null : await deps.jobs.get(id);
  const extra = j ? await attribution(deps, j, workspaceId) : null;
  if (!j || !extra) throw jobNotFound();
  if (j.status !== 'dead' || !(await deps.jobs.retry(j.id, now))) throw new ApiError(409, 'CONFLICT', `Job is ${j.status}: only a dead job can be retried`);
  return { job: { ...present((await deps.jobs.get(j.id)) ?? j, extra), status: 'queued' } };
}
