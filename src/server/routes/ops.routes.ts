import type { FastifyInstance } from 'fastify';
import { Errors, errorBody } from '../errors.js';
import type { RouteDeps } from './route-deps.js';

export function opsRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get('/health', async (req, reply) => {
    try {
      await deps.store.ping({ timeoutMs: deps.config.healthCheckTimeoutMs });
      return { status: 'ok' };
    } catch (err) {
      req.log.warn({ err }, 'health check: store unavailable');
      const e = Errors.serviceUnavailable();
      return reply.code(503).send({ ...errorBody(e), status: 'unavailable' });
    }
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}
