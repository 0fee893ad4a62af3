/** Contracts of the workflows API (see http/route-contract.ts): accepted query parameters and /openapi.json. */
import type { JsonSchema, RouteContract } from '../http/route-contract.js';

const WORKFLOW: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    version: { type: 'integer' },
    name: { type: 'string' },
    trigger: { type: 'object' },
    frequency: { type: 'string', enum: ['once', 'every'] },
    exitWhen: { type: 'object' },
    steps: { type: 'array', items: { type: 'object' } },
    status: { type: 'string', enum: ['active', 'paused'] },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};
const one = { type: 'object', properties: { workflow: WORKFLOW } };
const RUN: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    workflowId: { type: 'string' },
    version: { type: 'integer' },
    contactId: { type: 'string' },
    triggerMessageId: { type: ['string', 'null'] },
    status: { type: 'string', enum: ['waiting', 'running', 'completed', 'exited', 'failed'] },
    steps: { type: 'array', items: { type: 'object' } },
    wakeAt: { type: 'string', format: 'date-time' },
  },
};
const DELIVERY: JsonSchema = { type: 'object', properties: { id: { type: 'string' }, status: { type: 'string' }, attempts: { type: 'array' } } };
const paged = (name: string, item: JsonSchema) => ({
  type: 'object',
  properties: { [name]: { type: 'object', properties: { items: { type: 'array', items: item }, cursor: { type: ['string', 'null'] }, hasMore: { type: 'boolean' } } } },
});
const body = { schema: WORKFLOW };
const tags = ['Workflows'];
const limitCursor = { limit: { description: '1-100 (default 50)' }, cursor: { description: 'From the previous page' } };

export const CREATE_WORKFLOW: RouteContract = { summary: 'Create a workflow', tags, body, responses: { 201: { description: 'Created', schema: one } }, errors: ['INVALID_CONDITION'] };
export const LIST_WORKFLOWS: RouteContract = { summary: 'List workflows, oldest first', tags, query: limitCursor, responses: { 200: { description: 'A page', schema: paged('workflows', WORKFLOW) } }, errors: ['INVALID_CURSOR'] };
export const GET_WORKFLOW: RouteContract = { summary: 'One workflow (current version)', tags, responses: { 200: { description: 'The workflow', schema: one } }, errors: ['NOT_FOUND'] };
export const UPDATE_WORKFLOW: RouteContract = { summary: 'Replace a workflow: a new version (runs in flight finish on theirs)', tags, body, responses: { 200: { description: 'The new version', schema: one } }, errors: ['NOT_FOUND', 'INVALID_CONDITION'] };
export const DELETE_WORKFLOW: RouteContract = { summary: 'Delete a workflow (its runs stop at their next step)', tags, responses: { 200: { description: 'Deleted' } }, errors: ['NOT_FOUND'] };
export const PAUSE_WORKFLOW: RouteContract = { summary: 'Pause: starts nothing; waiting runs hold', tags, responses: { 200: { description: 'Paused', schema: one } }, errors: ['NOT_FOUND'] };
export const ACTIVATE_WORKFLOW: RouteContract = { summary: 'Activate: starts runs again; held runs resume', tags, responses: { 200: { description: 'Active', schema: one } }, errors: ['NOT_FOUND'] };
export const LIST_RUNS: RouteContract = {
  summary: "A workflow's runs, newest first",
  tags,
  query: { ...limitCursor, contactId: { description: 'Only this contact' }, status: { description: 'waiting, running, completed, exited or failed' } },
  responses: { 200: { description: 'A page', schema: paged('runs', RUN) } },
  errors: ['NOT_FOUND', 'INVALID_CURSOR'],
};
export const GET_RUN: RouteContract = { summary: 'One run with per-step status', tags, responses: { 200: { description: 'The run', schema: { type: 'object', properties: { run: RUN } } } }, errors: ['NOT_FOUND'] };
export const LIST_DELIVERIES: RouteContract = {
  summary: 'Webhook deliveries, newest first, with every attempt',
  tags,
  query: { ...limitCursor, status: { description: 'pending, succeeded or failed' }, workflowId: { description: 'Only this workflow' } },
  responses: { 200: { description: 'A page', schema: paged('deliveries', DELIVERY) } },
  errors: ['INVALID_CURSOR'],
};
export const RETRY_DELIVERY: RouteContract = { summary: 'Retry a failed delivery now (same webhook-id)', tags, responses: { 200: { description: 'Queued', schema: { type: 'object', properties: { delivery: DELIVERY } } } }, errors: ['NOT_FOUND', 'CONFLICT'] };
export const REPLAY_WORKFLOW: RouteContract = {
  summary: 'Replay a workflow over stored events, with no side effect',
  description:
    'Runs a stored workflow (`workflowId`) or a definition (`definition`, as POST /v1/workflows takes it) over the stored events of [since, until), as if active: who would have entered (or why not), and what each step would have done (emails rendered, webhook bodies built, contact updates, branches). Waits are simulated in event time. Nothing is sent or stored.',
  tags,
  body: {
    schema: {
      type: 'object',
      required: ['since', 'until'],
      properties: {
        workflowId: { type: 'string' },
        definition: WORKFLOW,
        since: { description: 'Inclusive: ISO 8601 or Unix seconds/ms', oneOf: [{ type: 'string' }, { type: 'number' }] },
        until: { description: 'Exclusive: ISO 8601 or Unix seconds/ms', oneOf: [{ type: 'string' }, { type: 'number' }] },
      },
    },
  },
  responses: { 200: { description: 'The replay', schema: { type: 'object', properties: { replay: { type: 'object' } } } } },
  errors: ['NOT_FOUND', 'INVALID_CONDITION'],
};
