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
}

export interface RouteContract {
  /** The query parameters the route takes, by name; the only ones it accepts. */
  query?: Record<string, QueryParamDoc>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    contract?: RouteContract;
    /**
     * Routes that are not part of the API: derived 405s and the official SDK's calls we do
     * not implement (404 NOT_IMPLEMENTED). They get no 405s of their own, no query check and
     * no place in /openapi.json.
     */
    internal?: 'method_not_allowed' | 'not_implemented';
  }
}
