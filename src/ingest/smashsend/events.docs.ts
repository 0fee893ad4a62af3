/**
 * Contracts of POST /v1/events and /v1/events/batch (see http/route-contract.ts): the
 * `dryRun` query parameter only, and what /openapi.json shows. Documentation only: validation is core/'s.
 */
import type { JsonSchema, RouteContract } from '../../http/route-contract.js';

const propertyBag: JsonSchema = {
  type: 'object',
  description: 'At most 3 levels deep, 100 leaf keys, strings of at most 1,000 characters, arrays of at most 100 primitives. `null` is the same as absent.',
  additionalProperties: true,
};

export const EVENT_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['event', 'identify'],
  properties: {
    event: { type: 'string', minLength: 1, maxLength: 60, pattern: '^[A-Za-z0-9_.:-]+$', description: 'Event name, case-sensitive.' },
    identify: {
      type: 'object',
      required: ['email'],
      properties: {
        email: { type: 'string', maxLength: 254, description: 'The contact: trimmed and lower-cased.' },
        traits: { ...propertyBag, description: 'Merged into the contact by event time (`null` clears a property).' },
      },
    },
    properties: propertyBag,
    timestamp: {
      description: 'ISO 8601, or Unix seconds (below 100,000,000,000) or milliseconds; within ±30 years. Default: time of receipt.',
      oneOf: [{ type: 'string' }, { type: 'number' }],
    },
    messageId: { type: 'string', minLength: 1, maxLength: 128, description: 'Dedup key. Default: derived from the content (and the timestamp, when given).' },
  },
};

const itemError: JsonSchema = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' } },
};

const batchResult = (description: string): { description: string; schema: JsonSchema } => ({
  description,
  schema: batchSchema,
});

const batchSchema: JsonSchema = {
  type: 'object',
  properties: {
    accepted: { type: 'integer' },
    failed: { type: 'integer' },
    duplicated: { type: 'integer' },
    events: {
      type: 'array',
      items: {
        type: 'object',
        properties: { index: { type: 'integer' }, messageId: { type: 'string' }, status: { type: 'string', enum: ['accepted', 'duplicate'] } },
      },
    },
    errors: { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, errors: { type: 'array', items: itemError } } } },
  },
};

const DRY_RUN = {
  dryRun: {
    description:
      '`true`: validate exactly as the real call, store nothing, reserve no messageId, and answer with what would happen (the contact changes, the workflows that would start or not and why, the segments entered or left).',
    schema: { type: 'string', enum: ['true', 'false'] },
  },
};

export const SEND_EVENT: RouteContract = {
  summary: 'Track one event',
  query: DRY_RUN,
  description:
    'Stored durably before the answer; processed into the contact in the background. A resent messageId (or identical content) within the dedup window is a successful duplicate.',
  tags: ['Events'],
  body: { schema: EVENT_SCHEMA },
  responses: {
    200: {
      description: 'Accepted, or a duplicate (`duplicate: true`, `info` says when it was first accepted)',
      schema: {
        type: 'object',
        properties: {
          success: { type: 'boolean', const: true },
          messageId: { type: 'string' },
          duplicate: { type: 'boolean', const: true },
          info: { type: 'string' },
        },
      },
    },
  },
  errors: [
    'MISSING_EVENT_NAME', 'INVALID_EVENT_NAME', 'EVENT_NAME_TOO_LONG', 'MISSING_IDENTIFY', 'MISSING_EMAIL', 'INVALID_EMAIL', 'INVALID_PROPERTIES',
    'PROPERTIES_TOO_DEEP', 'TOO_MANY_PROPERTIES', 'STRING_TOO_LONG', 'ARRAY_TOO_LONG', 'INVALID_ARRAY_ITEM', 'INVALID_TRAITS', 'INVALID_TIMESTAMP',
    'TIMESTAMP_OUT_OF_RANGE', 'INVALID_MESSAGE_ID', 'MESSAGE_ID_TOO_LONG',
  ],
};

export const SEND_BATCH: RouteContract = {
  summary: 'Track up to 200 events',
  query: DRY_RUN,
  description: 'Each event is validated alone. 200 when none failed, 207 when some did, 400 `ALL_EVENTS_FAILED` (with the same fields) when all did.',
  tags: ['Events'],
  body: { schema: { type: 'object', required: ['events'], properties: { events: { type: 'array', minItems: 1, maxItems: 200, items: EVENT_SCHEMA } } } },
  responses: {
    200: batchResult('Every event accepted or a duplicate'),
    207: batchResult('Some events failed (listed in `errors`), the others were accepted or duplicates'),
  },
  errors: ['INVALID_BATCH', 'BATCH_TOO_LARGE', 'ALL_EVENTS_FAILED'],
};
