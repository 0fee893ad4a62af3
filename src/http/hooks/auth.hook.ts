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

export interface GuardDeps {
  keys: KeyCache;
  limiter: RateLimiter;
  config: Config;
  metrics: Metrics;
  clock: () => number;
}

/** The per-minute limit of a bucket. */
export function bucketLimit(config: Config, bucket: RateBucket): number {
  return bucket === 'single' ? config.rateLimits.singlePerMin : bucket === 'batch' ? config.rateLimits.batchPerMin : config.rateLimits.apiPerMin;
}

/**
 * Authenticates a key for a bucket: unknown, revoked, or publishable outside ingestion (the
 * `api` bucket) is the 401 `Invalid API key`, so a publishable key learns nothing of the rest
 * of the API. Sets the request's key and workspace.
 */
export async function authenticateKey(deps: Pick<GuardDeps, 'keys'>, req: FastifyRequest, secret: string | null, bucket: RateBucket): Promise<void> {
  const auth = secret === null ? null : await deps.keys.authenticate(secret);
  if (!auth || (auth.publishable && bucket === 'api')) throw Errors.invalidApiKey();
  req.workspaceId = auth.workspaceId;
  req.apiKey = auth;
}

/**
 * Counts `cost` requests of the workspace's bucket (a Segment batch costs the batch requests
 * our own endpoint would need for its events) and sets the X-RateLimit headers; 429 beyond.
 */
export async function chargeRateLimit(
  deps: GuardDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  bucket: RateBucket,
  cost = 1,
  limit = bucketLimit(deps.config, bucket),
): Promise<void> {
  const d = await deps.limiter.hit(`${req.workspaceId}:${bucket}`, limit, deps.clock(), cost);
  const resetSeconds = Math.max(1, Math.ceil(d.resetMs / 1000));
  reply.header('x-ratelimit-limit', String(d.limit));
  reply.header('x-ratelimit-remaining', String(d.remaining));
  reply.header('x-ratelimit-reset', String(resetSeconds));
  if (!d.allowed) {
    deps.metrics.rateLimited.inc({ bucket });
    throw Errors.rateLimited(resetSeconds);
  }
}

/**
 * onRequest hooks of every authenticated route, in SPEC.md's check order: the key (401),
 * then the workspace's rate limit (429), before the body is read (size, JSON, validation).
 */
export function guard(deps: GuardDeps, bucket: RateBucket) {
  const limit = bucketLimit(deps.config, bucket);
  return async function authAndRateLimit(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    await authenticateKey(deps, req, m ? m[1]! : null, bucket);
    await chargeRateLimit(deps, req, reply, bucket, 1, limit);
  };
}
