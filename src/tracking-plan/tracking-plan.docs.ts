/** /openapi.json entries of the tracking plan routes. */
import type { RouteContract } from '../http/route-contract.js';
import { PLAN_LIMITS } from './tracking-plan.js';

const TAGS = ['Tracking plan'];

const ENTRY_SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', description: 'An exact event name' },
    pattern: { type: 'string', description: 'A regular expression over the whole event name (nested quantifiers refused)' },
    properties: { type: 'object', description: "JSON Schema of the event's properties object (Ajv strict mode)" },
  },
};
const PLAN_SCHEMA = {
  type: 'object',
  properties: {
    mode: { type: 'string', enum: ['warn', 'block'] },
    allowUnplanned: { type: 'boolean' },
    events: { type: 'array', maxItems: PLAN_LIMITS.maxEntries, items: ENTRY_SCHEMA },
    version: { type: 'integer' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};
const one = (description: string) => ({ description, schema: { type: 'object', properties: { trackingPlan: PLAN_SCHEMA } } });

export const PUT_PLAN: RouteContract = {
  summary: "Set the workspace's tracking plan",
  description:
    'Replaces the plan. `mode`: `warn` accepts a violating event and flags it (`violations` on the read API), `block` refuses it ' +
    'with item code `TRACKING_PLAN_VIOLATION`. `allowUnplanned` (default true): false makes an event that matches no entry a violation. ' +
    'An entry matches by exact `name` (preferred) or `pattern` (first match in plan order); its `properties` is a JSON Schema of the ' +
    `properties object, checked on ingest by a precompiled validator. At most ${PLAN_LIMITS.maxEntries} entries and ` +
    `${PLAN_LIMITS.maxBodyBytes} bytes. Takes effect on this process at once, on every other within about a second.`,
  tags: TAGS,
  body: { schema: { type: 'object', properties: { mode: PLAN_SCHEMA.properties.mode, allowUnplanned: PLAN_SCHEMA.properties.allowUnplanned, events: PLAN_SCHEMA.properties.events } } },
  responses: { 200: one('The plan as stored, with its version') },
  errors: ['INVALID_TRACKING_PLAN'],
};
export const GET_PLAN: RouteContract = {
  summary: "The workspace's tracking plan",
  tags: TAGS,
  responses: { 200: one('The plan') },
  errors: ['NOT_FOUND'],
};
export const DELETE_PLAN: RouteContract = {
  summary: "Remove the workspace's tracking plan",
  tags: TAGS,
  responses: { 200: { description: 'Deleted', schema: { type: 'object', properties: { isDeleted: { type: 'boolean' }, trackingPlan: PLAN_SCHEMA } } } },
  errors: ['NOT_FOUND'],
};
export const PLAN_VIOLATIONS: RouteContract = {
  summary: 'Events the tracking plan flagged',
  description:
    'Over the newest flagged (warn-mode) events, at most 10,000: counts per event, rule and path, most frequent first, and the 20 newest ' +
    'flagged events as examples. Refused (block-mode) events are not stored; they are counted in `smashsend_tracking_plan_violations_total`.',
  tags: TAGS,
  query: {},
  responses: { 200: { description: 'The summary', schema: { type: 'object', properties: { violations: { type: 'object' } } } } },
};
