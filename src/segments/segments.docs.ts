/** Contracts of the segments API (see http/route-contract.ts): accepted query parameters and /openapi.json. */
import type { JsonSchema, RouteContract } from '../http/route-contract.js';

const TAGS = ['Segments'];

const SEGMENT_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    rule: { type: 'object', description: 'A condition (docs/conditions.md).' },
    status: { type: 'string', enum: ['building', 'ready'] },
    memberCount: { type: 'integer' },
    build: { type: 'object', properties: { processed: { type: 'integer' }, total: { type: 'integer' } } },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

const one = (description: string) => ({ description, schema: { type: 'object', properties: { segment: SEGMENT_SCHEMA } } });
const body = {
  schema: { type: 'object', required: ['name', 'rule'], properties: { name: { type: 'string' }, rule: { type: 'object' } } },
};
const paging = {
  limit: { description: 'Page size, 1 to 100 (default 50).', schema: { type: 'integer', minimum: 1, maximum: 100 } },
  cursor: { description: 'The `cursor` of the previous page.' },
};

export const CREATE_SEGMENT: RouteContract = {
  summary: 'Create a segment',
  description: 'Built over existing contacts in the background (`status: building`, then `ready`).',
  tags: TAGS,
  body,
  responses: { 201: one('Created') },
  errors: ['INVALID_CONDITION'],
};
export const LIST_SEGMENTS: RouteContract = {
  summary: 'List segments',
  tags: TAGS,
  query: paging,
  responses: { 200: { description: 'One page', schema: { type: 'object', properties: { segments: { type: 'object' } } } } },
  errors: ['INVALID_CURSOR'],
};
export const GET_SEGMENT: RouteContract = { summary: 'Get a segment', tags: TAGS, responses: { 200: one('The segment') }, errors: ['NOT_FOUND'] };
export const UPDATE_SEGMENT: RouteContract = {
  summary: 'Update a segment',
  description: 'A new rule is built again in the background; reads meanwhile return what is known.',
  tags: TAGS,
  body: { schema: { type: 'object', properties: { name: { type: 'string' }, rule: { type: 'object' } } } },
  responses: { 200: one('Updated') },
  errors: ['NOT_FOUND', 'INVALID_CONDITION'],
};
export const DELETE_SEGMENT: RouteContract = {
  summary: 'Delete a segment',
  tags: TAGS,
  responses: { 200: { description: 'Deleted', schema: { type: 'object', properties: { isDeleted: { type: 'boolean' }, segment: SEGMENT_SCHEMA } } } },
  errors: ['NOT_FOUND', 'SEGMENT_IN_USE'],
};
export const SEGMENT_MEMBERS: RouteContract = {
  summary: "A segment's members",
  description: 'Contacts, by contact id (a stable cursor).',
  tags: TAGS,
  query: paging,
  responses: { 200: { description: 'One page', schema: { type: 'object', properties: { contacts: { type: 'object' } } } } },
  errors: ['NOT_FOUND', 'INVALID_CURSOR'],
};
export const SEGMENT_TRANSITIONS: RouteContract = {
  summary: "A segment's transitions",
  description: 'Every recorded enter and exit of the segment, newest first: `{transitions: {items: [{contact: {id, email}, on, at}], cursor, hasMore}}`.',
  tags: TAGS,
  query: paging,
  responses: { 200: { description: 'One page', schema: { type: 'object', properties: { transitions: { type: 'object' } } } } },
  errors: ['NOT_FOUND', 'INVALID_CURSOR'],
};
export const CONTACT_SEGMENTS: RouteContract = {
  summary: "A contact's segments",
  tags: TAGS,
  responses: { 200: { description: 'Current segments', schema: { type: 'object', properties: { segments: { type: 'array' } } } } },
  errors: ['NOT_FOUND'],
};
