/** Contracts of the read API over events (see http/route-contract.ts): accepted query parameters and /openapi.json. */
import { EVENT_STATUSES } from '../core/types.js';
import type { JsonSchema, RouteContract } from '../http/route-contract.js';

export const STORED_EVENT_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    messageId: { type: 'string' },
    event: { type: 'string' },
    email: { type: 'string' },
    contactId: { type: ['string', 'null'] },
    properties: { type: 'object' },
    traits: { type: 'object' },
    timestamp: { type: 'string', format: 'date-time', description: 'Event time' },
    receivedAt: { type: 'string', format: 'date-time' },
    status: { type: 'string', enum: [...EVENT_STATUSES] },
    error: { type: 'string', description: 'Present when processing failed' },
    violations: {
      type: 'array',
      description: "Present when the workspace's tracking plan (warn mode) flagged the event: its first problem",
      items: { type: 'object', properties: { rule: { type: 'string' }, path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

export const GET_EVENT: RouteContract = {
  summary: 'One event, with its processing status',
  description: 'The newest event with this messageId in the key\'s workspace.',
  tags: ['Events'],
  responses: {
    200: {
      description: 'The event, and what each workflow did with it (SPEC.md: the event trace)',
      schema: {
        type: 'object',
        properties: {
          event: STORED_EVENT_SCHEMA,
          workflows: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                workflowId: { type: 'string' },
                runId: { type: 'string' },
                outcome: { type: 'string', enum: ['started', 'not_entered'] },
                reason: { type: 'string', enum: ['backdated', 'already_entered', 'filtered', 'paused'] },
              },
            },
          },
        },
      },
    },
  },
  errors: ['NOT_FOUND'],
};

export const LIST_EVENTS: RouteContract = {
  summary: 'List events, newest event time first',
  description:
    'Keyset-paged: following `cursor` never repeats or skips an event, even among identical timestamps. Every read is an index seek bounded by its limit: a filter no index serves (`event` beside `email`, most `status` filters, on SQLite filters behind a deep processing queue) is tested on at most 1,000 events per request, so a page may hold fewer than `limit` items, even none, with `hasMore: true`; page while `hasMore`.',
  tags: ['Events'],
  query: {
    email: { description: 'Only events of this contact email (trimmed, case-insensitive). Send a "+" as %2B.' },
    event: { description: 'Only events with this exact name.' },
    status: { description: 'Only events with this processing status.', schema: { type: 'string', enum: [...EVENT_STATUSES] } },
    since: { description: 'Event time at or after this: ISO 8601, or Unix seconds / milliseconds.' },
    until: { description: 'Event time before this: ISO 8601, or Unix seconds / milliseconds.' },
    limit: { description: 'Page size, 1 to 1,000 (default 50).', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
    cursor: { description: 'The `cursor` of the previous page.' },
  },
  responses: {
    200: {
      description: 'One page',
      schema: {
        type: 'object',
        properties: {
          events: {
            type: 'object',
            properties: { items: { type: 'array', items: STORED_EVENT_SCHEMA }, cursor: { type: ['string', 'null'] }, hasMore: { type: 'boolean' } },
          },
        },
      },
    },
  },
};
