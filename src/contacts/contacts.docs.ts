/** Contracts of the contacts API (see http/route-contract.ts): accepted query parameters and /openapi.json. */
import { CONTACT_STATUSES } from '../core/types.js';
import type { JsonSchema, RouteContract } from '../http/route-contract.js';

const CONTACT_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    workspaceId: { type: 'string' },
    properties: {
      type: 'object',
      properties: { email: { type: 'string' }, status: { type: 'string', enum: [...CONTACT_STATUSES] } },
      additionalProperties: true,
    },
  },
};

const one = (description: string): { description: string; schema: JsonSchema } => ({
  description,
  schema: { type: 'object', properties: { contact: CONTACT_SCHEMA } },
});

const deleted = { description: 'Erased, with its events', schema: { type: 'object', properties: { isDeleted: { type: 'boolean', const: true }, contact: CONTACT_SCHEMA } } };

const propertiesBody = (emailRequired: boolean): { schema: JsonSchema } => ({
  schema: {
    type: 'object',
    required: ['properties'],
    properties: {
      properties: {
        type: 'object',
        ...(emailRequired ? { required: ['email'] } : {}),
        description:
          'Standard (email, firstName, lastName, avatarUrl, birthday, city, countryCode, language, phone, status) and custom properties; the same limits as traits; `null` clears one.',
        additionalProperties: true,
      },
    },
  },
});

const TAGS = ['Contacts'];
const PROPERTY_ERRORS = [
  'INVALID_PROPERTIES', 'MISSING_EMAIL', 'INVALID_EMAIL', 'PROPERTIES_TOO_DEEP', 'TOO_MANY_PROPERTIES', 'STRING_TOO_LONG', 'ARRAY_TOO_LONG', 'INVALID_ARRAY_ITEM',
] as const;

export const UPSERT_CONTACT: RouteContract = {
  summary: 'Create or update a contact by email',
  tags: TAGS,
  body: propertiesBody(true),
  responses: { 200: one('Updated'), 201: one('Created') },
  errors: [...PROPERTY_ERRORS],
};

export const SEARCH_CONTACT: RouteContract = {
  summary: 'Find a contact by email',
  tags: TAGS,
  query: { email: { description: 'The contact email (trimmed, case-insensitive). Send a "+" as %2B.', required: true } },
  responses: { 200: { description: 'The contact, or `{"contact": null}`', schema: { type: 'object', properties: { contact: { oneOf: [CONTACT_SCHEMA, { type: 'null' }] } } } } },
};

export const LIST_PROPERTIES: RouteContract = {
  summary: 'Custom contact properties of the workspace',
  tags: TAGS,
  query: {
    // The official SDK's contacts.listProperties() sends type=CUSTOM&limit=50.
    type: { description: 'Accepted for the official SDK: only `CUSTOM` (every listed property is custom).', schema: { type: 'string', enum: ['CUSTOM'] } },
    limit: { description: 'Accepted for the official SDK and ignored: the first 1,000 custom properties by name are listed.', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
  },
  responses: {
    200: {
      description: 'Names and types',
      schema: { type: 'object', properties: { properties: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string' } } } } } },
    },
  },
};

export const GET_CONTACT: RouteContract = { summary: 'One contact', tags: TAGS, responses: { 200: one('The contact') }, errors: ['NOT_FOUND'] };

export const UPDATE_CONTACT: RouteContract = {
  summary: 'Merge properties into a contact',
  description: 'A new `email` moves the contact (409 if another contact has it); `null` clears a property.',
  tags: TAGS,
  body: propertiesBody(false),
  responses: { 200: one('Updated') },
  errors: ['NOT_FOUND', 'CONFLICT', ...PROPERTY_ERRORS],
};

export const DELETE_CONTACT: RouteContract = { summary: 'Erase a contact and its events', tags: TAGS, responses: { 200: deleted }, errors: ['NOT_FOUND'] };

export const DELETE_CONTACT_BY_EMAIL: RouteContract = {
  summary: 'Erase a contact, found by email, and its events',
  description: 'A path parameter: a `+` in it is a `+` (percent-encode the address as usual).',
  tags: TAGS,
  responses: { 200: deleted },
  errors: ['NOT_FOUND'],
};

export const LIST_CONTACTS: RouteContract = {
  summary: 'List contacts',
  description:
    'Keyset-paged. A `search` is tested on at most 1,000 contacts per request: a page may hold fewer than `limit` items, even none, with `hasMore: true`; page while `hasMore`.',
  tags: TAGS,
  query: {
    limit: { description: 'Page size, 1 to 100 (default 50).', schema: { type: 'integer', minimum: 1, maximum: 100 } },
    cursor: { description: 'The `cursor` of the previous page.' },
    sort: { description: 'Creation order (default createdAt.desc).', schema: { type: 'string', enum: ['createdAt.desc', 'createdAt.asc'] } },
    search: { description: 'Case-insensitive substring of email, firstName or lastName.' },
    status: { description: 'Only contacts with this status.', schema: { type: 'string', enum: [...CONTACT_STATUSES] } },
  },
  responses: {
    200: {
      description: 'One page',
      schema: {
        type: 'object',
        properties: {
          contacts: {
            type: 'object',
            properties: { items: { type: 'array', items: CONTACT_SCHEMA }, cursor: { type: ['string', 'null'] }, hasMore: { type: 'boolean' } },
          },
        },
      },
    },
  },
};
