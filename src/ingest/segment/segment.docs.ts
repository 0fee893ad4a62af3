/**
 * Contracts of the Segment-compatible paths (see http/route-contract.ts): no query
 * parameters, and what /openapi.json shows. Documentation only: validation is core/'s.
 */
import type { JsonSchema, RouteContract } from '../../http/route-contract.js';

const answer: JsonSchema = {
  type: 'object',
  properties: {
    success: { type: 'boolean', const: true },
    rejected: {
      type: 'array',
      description: 'Present when a call could not be taken: its index in the request, an item code and a message.',
      items: { type: 'object', properties: { index: { type: 'integer' }, code: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

const AUTH =
  'HTTP Basic with the key (secret `sk_live_…` or publishable `pk_live_…`) as user name and an empty password, `Bearer <key>`, or `writeKey` in the body.';

export function segmentCallContract(type: string, path: string): RouteContract {
  return {
    summary: `Segment-compatible ${type} (${path})`,
    description: `${AUTH} Body \`application/json\` or \`text/plain\` holding JSON, at most 32 KB. Mapped to our event as README "Coming from Segment" says.`,
    tags: ['Segment'],
    body: { schema: { type: 'object', additionalProperties: true } },
    responses: { 200: { description: 'Taken (or listed in `rejected`)', schema: answer } },
    errors: ['REQUEST_TOO_LARGE'],
  };
}

export function segmentBatchContract(path: string): RouteContract {
  return {
    summary: `Segment-compatible batch (${path})`,
    description: `${AUTH} Body \`{batch: [...], context?, sentAt?, writeKey?}\`, at most 500 KB and 2,500 calls, each at most 32 KB (a larger one is listed in \`rejected\`, the rest are taken).`,
    tags: ['Segment'],
    body: { schema: { type: 'object', required: ['batch'], additionalProperties: true } },
    responses: { 200: { description: 'Taken (or listed in `rejected`)', schema: answer } },
    errors: ['REQUEST_TOO_LARGE', 'BATCH_TOO_LARGE', 'INVALID_BATCH'],
  };
}

export function corsPreflightContract(path: string): RouteContract {
  return {
    summary: `CORS preflight of ${path}`,
    description: 'Answers 204 with the Access-Control-Allow-* headers, so browsers may send events from any origin.',
    tags: ['Segment'],
    auth: false,
    responses: { 204: { description: 'Allowed' } },
  };
}
