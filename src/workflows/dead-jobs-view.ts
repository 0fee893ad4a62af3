/**
 * A workspace's dead workflow jobs for the dashboard's Failed page: step and webhook-delivery
 * jobs that failed for good (the job queue's listDead, the jobs counted by
 * `smashsend_jobs_dead`). The queue is the server's, one for every workspace: a job is the
 * workspace's when the run (step job) or delivery (delivery job) it names is. Other kinds
 * (the contact merge, segments, housekeeping) are the server's and are only counted, on the
 * overview; an event whose merge failed is listed as a failed event.
 */
import { Errors } from '../http/errors.js';
import { iso, queryLimit, singleQuery } from '../http/paging.js';
import type { Job, JobQueue } from '../processing/job-queue.port.js';
import { DELIVERY_KIND, STEP_KIND, type StepPayload } from './runner.js';
import type { DeliveryStore, WorkflowStore } from './workflow-store.port.js';

/** Dead jobs looked at per kind, newest first: the page stays bounded however many there are. */
export const DEAD_JOBS_SCAN = 200;

export async function listDeadJobsView(
  deps: { jobs: Pick<JobQueue, 'listDead'>; workflows: Pick<WorkflowStore, 'getRun'>; deliveries: Pick<DeliveryStore, 'get'> },
  workspaceId: string,
  query: unknown,
) {
  const q = singleQuery(query);
  for (const k of Object.keys(q)) if (k !== 'limit') throw Errors.unknownQuery(k, ['limit']);
  const limit = q.limit === undefined ? 50 : queryLimit(q.limit, 100);
  const [steps, attempts] = await Promise.all([deps.jobs.listDead({ kind: STEP_KIND, limit: DEAD_JOBS_SCAN }), deps.jobs.listDead({ kind: DELIVERY_KIND, limit: DEAD_JOBS_SCAN })]);
  const runs = new Map<string, string | null>();
  const out: Record<string, unknown>[] = [];
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
  for (const j of steps) {
    const runId = (j.payload as Partial<StepPayload> | null)?.runId;
    if (typeof runId !== 'string') continue;
    if (!runs.has(runId)) runs.set(runId, (await deps.workflows.getRun(runId, workspaceId))?.workflowId ?? null);
    const workflowId = runs.get(runId);
    if (workflowId) out.push(present(j, { workflowId, runId }));
  }
  for (const j of attempts) {
    const deliveryId = (j.payload as { deliveryId?: unknown } | null)?.deliveryId;
    if (typeof deliveryId !== 'string') continue;
    const d = await deps.deliveries.get(deliveryId, workspaceId);
    if (d) out.push(present(j, { workflowId: d.workflowId, runId: d.runId, deliveryId: d.id }));
  }
  out.sort((a, b) => String(b.finishedAt ?? b.createdAt).localeCompare(String(a.finishedAt ?? a.createdAt)));
  return { deadJobs: { items: out.slice(0, limit), hasMore: out.length > limit } };
}
