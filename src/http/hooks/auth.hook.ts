import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/load-config.js';
import { Errors } from '../errors.js';
import type { AuthenticatedKey, KeyCache } from '../../keys/key-cache.js';
import type { Metrics } from '../metrics.js';
import type { RateBucket, RateLimiter } from '../rate-limit/rate-limiter.js';

declare module 'fastify' {
  interface FastifyRequest {
    workspaceId: string;
    /** The authenticated key (null before the guard ran, and on routes without one). */
    apiKey: Readonly<AuthenticatedKey> | null;
  }
}

/**
 * onRequest hooks of every authenticated route, in SPEC.md's check order: the key (401),
 * then the workspace's rate limit (429), before the body is read (size, JSON, validation).
 */
export function guard(deps: { keys: KeyCache; limiter: RateLimiter; config: Config; metrics: Metrics; clock: () => number }, bucket: RateBucket) {
  const limit =
    bucket === 'single' ? deps.config.rateLimits.singlePerMin : bucket === 'batch' ? deps.config.rateLimits.batchPerMin : deps.config.rateLimits.apiPerMin;

  return async function authAndRateLimit(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const auth = m ? await deps.keys.authenticate(m[1]!) : null;
    if (!auth) throw Errors.invalidApiKey();
    req.workspaceId = auth.workspaceId;
    req.apiKey = auth;

    const d = await deps.limiter.hit(`${auth.workspaceId}:${bucket}`, limit, deps.clock());
    const resetSeconds = Math.max(1, Math.ceil(d.resetMs / 1000));
    reply.header('x-ratelimit-limit', String(d.limit));
    reply.header('x-ratelimit-remaining', String(d.remaining));
    reply.header('x-ratelimit-reset', String(resetSeconds));
    if (!d.allowed) {
      deps.metrics.rateLimited.inc({ bucket });
      throw Errors.rateLimited(resetSeconds);
    }
  };
}
