/** GET /health and GET /metrics (no key). */
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import { Errors, errorBody } from '../errors.js';
import type { RouteContract } from '../route-contract.js';

export interface OpsRoutesOptions {
  /** Resolves when the store (every connection writes need) answers. */
  ping: () => Promise<void>;
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

export const opsRoutes: FastifyPluginAsync<OpsRoutesOptions> = async (app, { ping, registry }) => {
  app.get('/health', { config: { contract: HEALTH } }, async (req, reply) => {
    try {
      await ping();
      return { status: 'ok' };
    } catch (err) {
      req.log.warn({ err }, 'health check: store unavailable');
      const e = Errors.serviceUnavailable();
      return reply.code(503).send({ ...errorBody(e), status: 'unavailable' });
    }
  });

  app.get('/metrics', { config: { contract: METRICS } }, async (_req, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
};
