/** GET /health and GET /metrics (no key). */
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import { Errors, errorBody } from '../errors.js';
import type { RouteContract } from '../route-contract.js';

export interface OpsRoutesOptions {
  /** Resolves when the store (every connection writes need) answers. */
  ping: () => Promise<void>;
  /** What recent appends said of the store (store-status.ts). */
  status: { pingSucceeded(): void; pingFailed(err: unknown): void; writesRefused(): boolean };
  registry: Registry;
}

const HEALTH: RouteContract = {
  summary: 'Liveness: the store answers',
  tags: ['Operations'],
  auth: false,
  responses: { 200: { description: 'The store answers', schema: { type: 'object', properties: { status: { type: 'string', const: 'ok' } } } } },
};
const METRICS: RouteContract = {
  summary: 'Prometheus metrics (text exposition format)',
  tags: ['Operations'],
  auth: false,
  responses: { 200: { description: 'Prometheus text', schema: { type: 'string' } } },
};

/**
 * /health is the probe for a load balancer: 200 `ok` only when this process can take events.
 * 503 `unavailable` when the store does not answer; 503 `degraded` when it answers but
 * refused recent appends (disk full, read-only), which `SELECT 1` alone would not show.
 */
export const opsRoutes: FastifyPluginAsync<OpsRoutesOptions> = async (app, { ping, status, registry }) => {
  app.get('/health', { config: { contract: HEALTH } }, async (_req, reply) => {
    try {
      await ping();
    } catch (err) {
      // Logged once per outage (a load balancer probes every few seconds), not per probe.
      status.pingFailed(err);
      const e = Errors.serviceUnavailable();
      for (const [k, v] of Object.entries(e.headers)) reply.header(k, v);
      return reply.code(503).send({ ...errorBody(e), status: 'unavailable' });
    }
    status.pingSucceeded();
    if (status.writesRefused()) {
      const e = Errors.storeRefusesWrites();
      for (const [k, v] of Object.entries(e.headers)) reply.header(k, v);
      return reply.code(503).send({ ...errorBody(e), status: 'degraded' });
    }
    return { status: 'ok' };
  });

  app.get('/metrics', { config: { contract: METRICS } }, async (_req, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
};
