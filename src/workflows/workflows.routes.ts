/** The workflows API (SPEC.md, "Workflows"): definitions, runs, webhook deliveries. */
import type { FastifyPluginAsync } from 'fastify';
import { decodeContactCursor } from '../core/cursor.js';
import { ApiError, Errors } from '../http/errors.js';
import { iso, pageFromRows, queryLimit, singleQuery } from '../http/paging.js';
import type { Guard } from '../http/route-deps.js';
import type { RouteContract } from '../http/route-contract.js';
import type { SegmentMembership } from '../segments/segment-links.js';
import { newId } from './engine-context.js';
import { DELIVERY_KIND } from './runner.js';
import { attemptJob } from './steps/webhook.step.js';
import type { EgressPolicy } from './transports/egress.js';
import { InvalidWorkflowError, allSteps, parseWorkflowBody, segmentsOf, type Workflow, type WorkflowDefinition, type WorkflowStatus } from './workflow-definition.js';
import type { Delivery, DeliveryStatus, DeliveryStore, Run, RunStatus, WorkflowStore } from './workflow-store.port.js';
import * as Docs from './workflows.docs.js';

const BODY_LIMIT = 1024 * 1024;
const RUN_STATUSES: RunStatus[] = ['waiting', 'running', 'completed', 'exited', 'failed'];
const DELIVERY_STATUSES: DeliveryStatus[] = ['pending', 'succeeded', 'failed'];

export const workflowNotFound = () => new ApiError(404, 'NOT_FOUND', 'Workflow not found');
const runNotFound = () => new ApiError(404, 'NOT_FOUND', 'Run not found');
const deliveryNotFound = () => new ApiError(404, 'NOT_FOUND', 'Webhook delivery not found');

export function presentWorkflow(w: Workflow): Record<string, unknown> {
  return { id: w.id, version: w.version, ...w.definition.source, status: w.status, createdAt: iso(w.createdAt), updatedAt: iso(w.updatedAt) };
}

/** A run with its steps in definition order (steps not reached: `pending`). */
export function presentRun(r: Run, def: WorkflowDefinition | null): Record<string, unknown> {
  const ids = def ? allSteps(def.steps).map((s) => s.id) : Object.keys(r.steps);
  const steps = ids.map((id) => {
    const s = r.steps[id];
    if (!s) return { id, status: 'pending', attempts: 0, startedAt: null, finishedAt: null };
    const out: Record<string, unknown> = { id, status: s.status, attempts: s.attempts, startedAt: s.startedAt === null ? null : iso(s.startedAt), finishedAt: s.finishedAt === null ? null : iso(s.finishedAt) };
    if (s.error !== undefined) out.error = s.error;
    return out;
  });
  const out: Record<string, unknown> = {
    id: r.id,
    workflowId: r.workflowId,
    version: r.version,
    contactId: r.contactId,
    triggerMessageId: r.triggerMessageId,
    status: r.status,
    steps,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
  if (r.wakeAt !== null && r.status === 'waiting') out.wakeAt = iso(r.wakeAt);
  return out;
}

export function presentDelivery(d: Delivery): Record<string, unknown> {
  return {
    id: d.id,
    workflowId: d.workflowId,
    runId: d.runId,
    stepId: d.stepId,
    url: d.url,
    status: d.status,
    attempts: d.attempts.map((a) => ({
      at: iso(a.at),
      statusCode: a.status,
      latencyMs: a.latencyMs,
      response: a.response,
      ...(a.error !== undefined ? { error: a.error } : {}),
      // Test mode: the signed request as sent (or, to a destination not marked test, only recorded).
      ...(a.request !== undefined ? { request: a.request, sent: a.sent === true } : {}),
    })),
    nextAttemptAt: d.nextAttemptAt === null || d.status !== 'pending' ? null : iso(d.nextAttemptAt),
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
  };
}

export interface WorkflowsRoutesOptions {
  workflows: WorkflowStore;
  deliveries: DeliveryStore;
  guard: Guard;
  clock: () => number;
  egress: EgressPolicy;
  /** Absent: a workflow naming a segment is refused (400, segments are not available). */
  membership?: SegmentMembership;
}

function cursorOf(raw: string | undefined): [number, string] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const c = decodeContactCursor(raw);
  if (!c) throw Errors.invalidCursor();
  return [c.createdAt, c.id];
}

/**
 * What the public routes answer, as functions over the ports: the dashboard's API
 * (src/dashboard/dashboard-api.routes.ts) calls the same ones for the session's workspace.
 */
export async function listWorkflowsPage(workflows: WorkflowStore, workspaceId: string, query: unknown) {
  const q = singleQuery(query);
  const limit = q.limit === undefined ? 50 : queryLimit(q.limit, 100);
  const after = cursorOf(q.cursor);
  const rows = await workflows.list({ workspaceId, limit: limit + 1, ...(after ? { after } : {}) });
  const p = pageFromRows(rows, limit, (last) => [last.createdAt, last.id]);
  return { workflows: { ...p, items: p.items.map(presentWorkflow) } };
}

export async function getWorkflowView(workflows: WorkflowStore, workspaceId: string, id: string) {
  const wf = await workflows.get(workspaceId, id);
  if (!wf) throw workflowNotFound();
  return { workflow: presentWorkflow(wf) };
}

/** The newest versions of a workflow the dashboard lists (each one a primary-key read of workflow_versions). */
export const WORKFLOW_VERSIONS_SHOWN = 50;

/**
 * A workflow's versions, newest first: the store keeps every version (runs finish on the one
 * they started on), numbered 1 to the current one; at most WORKFLOW_VERSIONS_SHOWN of them.
 */
export async function listWorkflowVersions(workflows: WorkflowStore, workspaceId: string, id: string) {
  const current = await workflows.get(workspaceId, id);
  if (!current) throw workflowNotFound();
  const versions = [];
  for (let v = current.version; v >= 1 && v > current.version - WORKFLOW_VERSIONS_SHOWN; v--) {
    // Read by version even for the current one: its updatedAt is then when the version was saved (not a later pause).
    const w = await workflows.get(workspaceId, id, v);
    if (w) versions.push({ version: w.version, savedAt: iso(w.updatedAt), current: v === current.version, definition: w.definition.source });
  }
  return { versions, total: current.version };
}

export async function setWorkflowStatus(workflows: WorkflowStore, workspaceId: string, id: string, status: WorkflowStatus, now: number) {
  const wf = await workflows.setStatus(workspaceId, id, status, now);
  if (!wf) throw workflowNotFound();
  return { workflow: presentWorkflow(wf) };
}

export async function listRunsPage(workflows: WorkflowStore, workspaceId: string, workflowId: string, query: unknown) {
  const q = singleQuery(query);
  const wf = await workflows.get(workspaceId, workflowId);
  if (!wf) throw workflowNotFound();
  const limit = q.limit === undefined ? 50 : queryLimit(q.limit, 100);
  if (q.status !== undefined && !(RUN_STATUSES as string[]).includes(q.status)) throw Errors.invalidQuery(`"status" must be one of ${RUN_STATUSES.join(', ')}`);
  const after = cursorOf(q.cursor);
  const rows = await workflows.listRuns({
    workspaceId,
    workflowId: wf.id,
    limit: limit + 1,
    ...(q.contactId ? { contactId: q.contactId } : {}),
    ...(q.status ? { status: q.status as RunStatus } : {}),
    ...(after ? { after } : {}),
  });
  const p = pageFromRows(rows, limit, (last) => [last.createdAt, last.id]);
  const versions = new Map<number, WorkflowDefinition | null>();
  const items = [];
  for (const r of p.items) {
    if (!versions.has(r.version)) versions.set(r.version, (await workflows.get(workspaceId, wf.id, r.version))?.definition ?? null);
    items.push(presentRun(r, versions.get(r.version)!));
  }
  return { runs: { ...p, items } };
}

export async function getRunView(workflows: WorkflowStore, workspaceId: string, id: string) {
  const r = await workflows.getRun(id, workspaceId);
  if (!r) throw runNotFound();
  const wf = await workflows.get(workspaceId, r.workflowId, r.version);
  return { run: presentRun(r, wf?.definition ?? null) };
}

export async function listDeliveriesPage(deliveries: DeliveryStore, workspaceId: string, query: unknown) {
  const q = singleQuery(query);
  const limit = q.limit === undefined ? 50 : queryLimit(q.limit, 100);
  if (q.status !== undefined && !(DELIVERY_STATUSES as string[]).includes(q.status)) throw Errors.invalidQuery(`"status" must be one of ${DELIVERY_STATUSES.join(', ')}`);
  const after = cursorOf(q.cursor);
  const rows = await deliveries.list({
    workspaceId,
    limit: limit + 1,
    ...(q.status ? { status: q.status as DeliveryStatus } : {}),
    ...(q.workflowId ? { workflowId: q.workflowId } : {}),
    ...(after ? { after } : {}),
  });
  const p = pageFromRows(rows, limit, (last) => [last.createdAt, last.id]);
  return { deliveries: { ...p, items: p.items.map(presentDelivery) } };
}

export async function getDeliveryView(deliveries: DeliveryStore, workspaceId: string, id: string) {
  const d = await deliveries.get(id, workspaceId);
  if (!d) throw deliveryNotFound();
  return { delivery: presentDelivery(d) };
}

/** POST /v1/webhook-deliveries/:id/retry: a failed delivery gets a new attempt job (409 otherwise). */
export async function retryDelivery(deliveries: DeliveryStore, workspaceId: string, id: string, now: number) {
  const d = await deliveries.get(id, workspaceId);
  if (!d) throw deliveryNotFound();
  if (!(await deliveries.retry({ id: d.id, workspaceId, job: attemptJob(DELIVERY_KIND, d.id, `r${now}`, now), now }))) {
    throw new ApiError(409, 'CONFLICT', `Delivery is ${d.status}: only a failed delivery can be retried`);
  }
  return { delivery: presentDelivery((await deliveries.get(d.id))!) };
}

/** A workflow body as POST/PUT (and the replay's `definition`) take it: parsed, its segments checked, or the 400. */
export async function parseWorkflowRequest(
  body: unknown,
  workspaceId: string,
  o: { egress: EgressPolicy; membership?: SegmentMembership },
): Promise<{ definition: WorkflowDefinition; status: WorkflowStatus }> {
  let parsed: { definition: WorkflowDefinition; status: WorkflowStatus };
  try {
    parsed = parseWorkflowBody(body, { egress: o.egress });
  } catch (err) {
    if (err instanceof InvalidWorkflowError) throw err.code === 'INVALID_CONDITION' ? Errors.invalidCondition(err.message) : Errors.invalidBody(err.message);
    throw err;
  }
  for (const seg of segmentsOf(parsed.definition)) {
    if (!o.membership) throw Errors.invalidBody('segments are not available on this server');
    if (!(await o.membership.exists(workspaceId, seg))) throw Errors.invalidBody(`segment ${seg} does not exist`);
  }
  return parsed;
}

export const workflowsRoutes: FastifyPluginAsync<WorkflowsRoutesOptions> = async (app, o) => {
  const { workflows, deliveries, guard, clock } = o;
  const opts = (contract: RouteContract) => ({ onRequest: guard('api'), bodyLimit: BODY_LIMIT, config: { contract } });

  const parse = (workspaceId: string, body: unknown) => parseWorkflowRequest(body, workspaceId, o);

  app.post('/v1/workflows', opts(Docs.CREATE_WORKFLOW), async (req, reply) => {
    const { definition, status } = await parse(req.workspaceId, req.body);
    const wf = await workflows.save({ id: newId('wf'), workspaceId: req.workspaceId, definition, status, now: clock(), create: true });
    return reply.code(201).send({ workflow: presentWorkflow(wf!) });
  });

  app.get('/v1/workflows', opts(Docs.LIST_WORKFLOWS), async (req) => listWorkflowsPage(workflows, req.workspaceId, req.query));

  app.get<{ Params: { id: string } }>('/v1/workflows/:id', opts(Docs.GET_WORKFLOW), async (req) => getWorkflowView(workflows, req.workspaceId, req.params.id));

  app.put<{ Params: { id: string } }>('/v1/workflows/:id', opts(Docs.UPDATE_WORKFLOW), async (req) => {
    if (!(await workflows.get(req.workspaceId, req.params.id))) throw workflowNotFound();
    const { definition, status } = await parse(req.workspaceId, req.body);
    const wf = await workflows.save({ id: req.params.id, workspaceId: req.workspaceId, definition, status, now: clock(), create: false });
    if (!wf) throw workflowNotFound();
    return { workflow: presentWorkflow(wf) };
  });

  app.delete<{ Params: { id: string } }>('/v1/workflows/:id', opts(Docs.DELETE_WORKFLOW), async (req) => {
    if (!(await workflows.delete(req.workspaceId, req.params.id, clock()))) throw workflowNotFound();
    return { isDeleted: true, id: req.params.id };
  });

  for (const [action, status, contract] of [
    ['pause', 'paused', Docs.PAUSE_WORKFLOW],
    ['activate', 'active', Docs.ACTIVATE_WORKFLOW],
  ] as const) {
    app.post<{ Params: { id: string } }>(`/v1/workflows/:id/${action}`, opts(contract), async (req) => setWorkflowStatus(workflows, req.workspaceId, req.params.id, status, clock()));
  }

  app.get<{ Params: { id: string } }>('/v1/workflows/:id/runs', opts(Docs.LIST_RUNS), async (req) => listRunsPage(workflows, req.workspaceId, req.params.id, req.query));

  app.get<{ Params: { id: string } }>('/v1/runs/:id', opts(Docs.GET_RUN), async (req) => getRunView(workflows, req.workspaceId, req.params.id));

  app.get('/v1/webhook-deliveries', opts(Docs.LIST_DELIVERIES), async (req) => listDeliveriesPage(deliveries, req.workspaceId, req.query));

  app.post<{ Params: { id: string } }>('/v1/webhook-deliveries/:id/retry', opts(Docs.RETRY_DELIVERY), async (req) => retryDelivery(deliveries, req.workspaceId, req.params.id, clock()));
};
