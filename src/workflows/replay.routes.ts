/** POST /v1/workflows/replay: a workflow over stored events, without side effects (replay.ts). */
import type { FastifyPluginAsync } from 'fastify';
import { parseInstant } from '../core/timestamp.js';
import { isPlainObject } from '../core/validate-properties.js';
import { Errors } from '../http/errors.js';
import type { Guard } from '../http/route-deps.js';
import type { EgressPolicy } from './transports/egress.js';
import { ReplayRangeTooLargeError, replayWorkflow, type ReplayDeps } from './replay.js';
import type { Workflow } from './workflow-definition.js';
import type { WorkflowStore } from './workflow-store.port.js';
import { parseWorkflowRequest, workflowNotFound } from './workflows.routes.js';
import { REPLAY_WORKFLOW } from './workflows.docs.js';

export interface ReplayRoutesOptions {
  replay: ReplayDeps;
  workflows: Pick<WorkflowStore, 'get'>;
  guard: Guard;
  clock: () => number;
  egress: EgressPolicy;
}

const FIELDS = new Set(['workflowId', 'definition', 'since', 'until']);

function instant(body: Record<string, unknown>, name: 'since' | 'until'): number {
  const v = body[name];
  if (v === undefined || v === null) throw Errors.invalidBody(`"${name}" is required: an ISO 8601 date or a Unix timestamp`);
  const t = parseInstant(v);
  if (t === null) throw Errors.invalidBody(`"${name}" must be an ISO 8601 date or a Unix timestamp`);
  return t;
}

export const replayRoutes: FastifyPluginAsync<ReplayRoutesOptions> = async (app, o) => {
  app.post('/v1/workflows/replay', { onRequest: o.guard('api'), bodyLimit: 1024 * 1024, config: { contract: REPLAY_WORKFLOW } }, async (req) => {
    const body = req.body;
    if (!isPlainObject(body)) throw Errors.invalidBody('Request body must be a JSON object');
    for (const k of Object.keys(body)) if (!FIELDS.has(k)) throw Errors.invalidBody(`unknown field "${k.slice(0, 100)}"`);
    if ((body.workflowId === undefined) === (body.definition === undefined)) throw Errors.invalidBody('give exactly one of "workflowId" and "definition"');
    const since = instant(body, 'since');
    const until = instant(body, 'until');
    if (until <= since) throw Errors.invalidBody('"until" must be after "since"');
    const now = o.clock();
    let workflow: Workflow;
    if (body.workflowId !== undefined) {
      if (typeof body.workflowId !== 'string') throw Errors.invalidBody('"workflowId" must be a string');
      const wf = await o.workflows.get(req.workspaceId, body.workflowId);
      if (!wf) throw workflowNotFound();
      workflow = wf;
    } else {
      const { definition, status } = await parseWorkflowRequest(body.definition, req.workspaceId, { egress: o.egress, ...(o.replay.membership ? { membership: o.replay.membership } : {}) });
      workflow = { id: 'wf_replay', workspaceId: req.workspaceId, version: 0, status, definition, createdAt: now, updatedAt: now };
    }
    // Segment transitions are not stored as a replayable history of events.
    if (!('event' in workflow.definition.trigger)) throw Errors.invalidBody('replay takes workflows with an event trigger');
    try {
      return { replay: await replayWorkflow(o.replay, { workspaceId: req.workspaceId, workflow, stored: body.workflowId !== undefined, since, until }) };
    } catch (err) {
      if (err instanceof ReplayRangeTooLargeError) throw Errors.invalidBody(err.message);
      throw err;
    }
  });
};
