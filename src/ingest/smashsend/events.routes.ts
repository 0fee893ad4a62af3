/** POST /v1/events and /v1/events/batch: wire ↔ IngestService, nothing else. */
import type { FastifyPluginAsync } from 'fastify';
import { LIMITS } from '../../core/limits.js';
import { Errors } from '../../http/errors.js';
import type { Guard } from '../../http/route-deps.js';
import type { IngestService } from '../ingest.service.js';

export interface IngestRoutesOptions {
  ingest: IngestService;
  guard: Guard;
  clock: () => number;
}

export const ingestRoutes: FastifyPluginAsync<IngestRoutesOptions> = async (app, { ingest, guard, clock }) => {
  app.post('/v1/events', { bodyLimit: LIMITS.maxEventBytes, onRequest: guard('single'), config: { tooLarge: 'event', contract: {} } }, async (req) => {
    const r = await ingest.single(req.workspaceId, req.body, clock());
    if (r.kind === 'not_object') throw Errors.invalidBody();
    if (r.kind === 'invalid') throw Errors.validation(r.code, r.message);
    if (r.duplicate) {
      return { success: true, messageId: r.messageId, duplicate: true, info: 'Duplicate event: already accepted, not processed again' };
    }
    return { success: true, messageId: r.messageId, info: 'Event queued for processing' };
  });

  app.post('/v1/events/batch', { bodyLimit: LIMITS.maxBatchBytes, onRequest: guard('batch'), config: { tooLarge: 'batch', contract: {} } }, async (req, reply) => {
    const r = await ingest.batch(req.workspaceId, req.body, clock());
    if (r.kind === 'not_object') throw Errors.invalidBody();
    if (r.kind === 'invalid_batch') throw Errors.invalidBatch(r.message);
    if (r.kind === 'too_many') throw Errors.batchTooManyEvents();
    const result = r.result;
    if (result.errors.length === 0) return result;
    if (result.events.length > 0) return reply.code(207).send(result);
    // All failed: the same body, plus the error fields so SDKs show a useful message.
    return reply.code(400).send({
      statusCode: 400,
      error: 'Bad Request',
      message: `All ${result.errors.length} events in the batch failed validation`,
      code: 'ALL_EVENTS_FAILED',
      ...result,
    });
  });
};
