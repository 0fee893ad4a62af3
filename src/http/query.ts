/**
 * Query strings, the same on every endpoint.
 *
 * - Parsing is Fastify's (fast-querystring), with WHATWG / Node `querystring` semantics: a `+`
 *   is a space and percent-escapes are decoded, so `email=a+b@x.com` is "a b@x.com" and
 *   `email=a%2Bb@x.com` is "a+b@x.com" (URLSearchParams, and so the official SDK, encode a
 *   `+` as %2B). Path parameters are not query strings: a `+` there is a `+`.
 * - A parameter the route does not declare in `config.contract.query` is a 400 INVALID_QUERY
 *   naming it: `?emial=` must not silently list the whole workspace, and `?dryRun=true` on a
 *   server without dry runs must not store (SPEC.md, Robustness decisions). POST routes too.
 * - A parameter given twice is a 400 naming it.
 *
 * The check is attached per route by an onRoute hook, as a preHandler: after authentication,
 * rate limit and body parsing (SPEC.md's check order puts validation last), and with the
 * allowed names resolved once per route rather than per request.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import { normalizeEmail } from '../core/email.js';
import { Errors } from './errors.js';
import './route-contract.js';

type QueryCheck = (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

export function queryCheck(allowed: readonly string[]): QueryCheck {
  const names = new Set(allowed);
  return function checkQuery(req, _reply, done) {
    const q = req.query as Record<string, unknown>;
    for (const k in q) {
      if (!names.has(k)) return done(Errors.unknownQuery(k, allowed));
      if (typeof q[k] !== 'string') return done(Errors.invalidQuery(`"${k.slice(0, 100)}" must be given once`));
    }
    done();
  };
}

/** onRoute hook: every API route refuses query parameters its contract does not declare. */
export function attachQueryCheck(route: RouteOptions): void {
  if (route.config?.internal) return;
  const check = queryCheck(Object.keys(route.config?.contract?.query ?? {}));
  const existing = route.preHandler;
  route.preHandler = existing === undefined ? [check] : [check, ...(Array.isArray(existing) ? existing : [existing])];
}

/**
 * An email given in a query string (GET /v1/events?email=, /v1/contacts/search?email=):
 * normalised, or a 400. A space in it most likely was a `+` sent unencoded; say so.
 */
export function queryEmail(raw: string, name = 'email'): string {
  const email = normalizeEmail(raw);
  if (email !== null) return email;
  const hint = raw.trim().includes(' ') ? ' (a "+" in a query string means a space: send "+" as %2B)' : '';
  throw Errors.invalidQuery(`"${name}" must be a valid email${hint}`);
}
