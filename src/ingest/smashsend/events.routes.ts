/** POST /v1/events and /v1/events/batch: wire ↔ IngestService, nothing else. */
import type { FastifyPluginAsync } from 'fastify';
import { LIMITS } from '../../core/limits.js';
import { Errors } from '../../http/errors.js';
import type { Guard } from '../../http/route-deps.js';
import type { DryRunService } from '../../dry-run/dry-run.service.js';
import type { FastifyReply } from 'fastify';
import type { IngestService } from '../ingest.service.js';
import { SEND_BATCH, SEND_EVENT } from './events.docs.js';
import '../../http/hooks/access-log.hook.js';

export interface IngestRoutesOptions {
  ingest: IngestService;
  guard: Guard;
  clock: () => number;
  /** DEDUP_WINDOW_SECONDS, in ms: named in the duplicate answer. */
  dedupWindowMs: number;
  /** `?dryRun=true` (dry-run/): the same validation, then what would happen, stored nowhere. */
  dryRun: Pick<DryRunService, 'single' | 'batch'>;
}

/** `?dryRun=`: true or false; anything else is refused, never taken for a real call. */
function isDryRun(query: unknown): boolean {
  const v = (query as { dryRun?: string }).dryRun;
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  throw Errors.invalidQuery('"dryRun" must be true or false');
}

/** A batch's answer: 200 when none failed, 207 when some did, 400 with the error fields when all did. */
function batchReply(reply: FastifyReply, result: { errors: unknown[]; events: unknown[]; dryRun?: true }) {
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
}

function windowText(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s % 86400 === 0) return `${s / 86400} ${s === 86400 ? 'day' : 'days'}`;
  if (s % 3600 === 0) return `${s / 3600} h`;
  return `${s} s`;
}

/**
 * A duplicate says why: when the messageId was first accepted, and how a legitimate repeat is
 * recorded (a derived messageId covers the content and the client's timestamp, so a new
 * timestamp or a messageId of its own makes it a new event).
 */
export function duplicateInfo(r: { messageIdGiven: boolean; firstAcceptedAt?: number | null }, dedupWindowMs: number): string {
  const when = typeof r.firstAcceptedAt === 'number' ? ` at ${new Date(r.firstAcceptedAt).toISOString()}` : '';
  const repeat = r.messageIdGiven
    ? 'To record a legitimate repeat, send it with a new messageId.'
    : 'Its messageId is derived from the content: to record a legitimate repeat, send it with its own messageId or a timestamp.';
  return `Duplicate event: this messageId was first accepted${when} and is not processed again within the ${windowText(dedupWindowMs)} dedup window. ${repeat}`;
}

// The single endpoint's three possible counts, shared: the access log reads them, nothing writes them.
const ACCEPTED_ONE = Object.freeze({ accepted: 1, duplicate: 0, rejected: 0 });
const DUPLICATE_ONE = Object.freeze({ accepted: 0, duplicate: 1, rejected: 0 });
const REJECTED_ONE = Object.freeze({ accepted: 0, duplicate: 0, rejected: 1 });

export const ingestRoutes: FastifyPluginAsync<IngestRoutesOptions> = async (app, { ingest, guard, clock, dedupWindowMs, dryRun }) => {
  app.post('/v1/events', { bodyLimit: LIMITS.maxEventBytes, onRequest: guard('single'), config: { tooLarge: 'event', contract: SEND_EVENT } }, async (req) => {
    if (isDryRun(req.query)) {
      const d = await dryRun.single(req.workspaceId, req.body, clock());
      if (d.kind === 'not_object') throw Errors.invalidBody();
      if (d.kind === 'invalid') throw Errors.validation(d.code, d.message);
      return { success: true, dryRun: true, ...d.outcome };
    }
    const r = await ingest.single(req.workspaceId, req.body, clock());
    req.ingestCounts = r.kind === 'stored' ? (r.duplicate ? DUPLICATE_ONE : ACCEPTED_ONE) : REJECTED_ONE;
    if (r.kind === 'not_object') throw Errors.invalidBody();
    if (r.kind === 'invalid') throw Errors.validation(r.code, r.message);
    if (r.duplicate) {
      return { success: true, messageId: r.messageId, duplicate: true, info: duplicateInfo(r, dedupWindowMs) };
    }
    return { success: true, messageId: r.messageId, info: 'Event queued for processing' };
  });

  app.post('/v1/events/batch', { bodyLimit: LIMITS.maxBatchBytes, onRequest: guard('batch'), config: { tooLarge: 'batch', contract: SEND_BATCH } }, async (req, reply) => {
    const dry = isDryRun(req.query);
    const r = dry ? await dryRun.batch(req.workspaceId, req.body, clock()) : await ingest.batch(req.workspaceId, req.body, clock());
    if (r.kind === 'not_object') throw Errors.invalidBody();
    if (r.kind === 'invalid_batch') throw Errors.invalidBatch(r.message);
    if (r.kind === 'too_many') throw Errors.batchTooManyEvents();
    if (dry) return batchReply(reply, { dryRun: true, ...r.result });
    const result = r.result;
    req.ingestCounts = { accepted: result.accepted, duplicate: result.duplicated, rejected: result.failed };
    return batchReply(reply, result);
  });
};
