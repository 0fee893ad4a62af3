/**
 * A route's public contract, declared beside the route as `config.contract`: the query
 * parameters it takes (anything else is refused with INVALID_QUERY, see query.ts) and what
 * /openapi.json says about it. It is plain data that Fastify never compiles: validation stays
 * with our own validators in src/core, whose messages SPEC.md fixes.
 */
import type { ErrorCode } from './errors.js';

export type JsonSchema = Record<string, unknown>;

export interface QueryParamDoc {
  description: string;
  schema?: JsonSchema;
  required?: boolean;
}

export interface ResponseDoc {
  description: string;
  /** Documentation only: never used to serialise the response. */
  schema?: JsonSchema;
}

export interface RouteContract {
  summary: string;
  description?: string;
  tags: string[];
  /** Needs `Authorization: Bearer <key>` (default true); such routes can also answer 401, 429 and 503. */
  auth?: boolean;
  /** The query parameters the route takes, by name; the only ones it accepts. */
  query?: Record<string, QueryParamDoc>;
  /** A JSON body (documentation only); such routes can also answer 400 INVALID_JSON/INVALID_BODY, 413 and 415. */
  body?: { description?: string; schema: JsonSchema };
  /** Successful answers, by status. */
  responses: Record<number, ResponseDoc>;
  /** Catalogue codes this route answers beyond the ones every route (or its auth and body) implies. */
  errors?: ErrorCode[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    contract?: RouteContract;
    /**
     * Routes that are not part of the API: derived 405s and the official SDK's calls we do
     * not implement (404 NOT_IMPLEMENTED). They get no 405s of their own, no query check and
     * no place in /openapi.json. `dashboard`: the dashboard's pages and its session-authenticated
     * JSON API (src/dashboard), not part of the public API.
     */
    internal?: 'method_not_allowed' | 'not_implemented' | 'dashboard';
  }
}
