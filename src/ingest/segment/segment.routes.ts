/**
 * The Segment-compatible paths (SPEC.md "Segment-compatible ingestion"): wire ↔ SegmentIngest.
 *
 * - Paths: /v1/track … /v1/batch and the browser library's short forms /v1/t … /v1/b.
 * - Bodies: JSON, whatever the content type (`application/json`; `text/plain`, which
 *   analytics.js sends to avoid a CORS preflight; RudderStack's form default); gzip/deflate
 *   through the server's body hook. The parser is registered in this plugin only, so our own
 *   endpoints still answer 415 to anything but JSON.
 * - Auth: Basic with the key as user name, `Bearer`, or `writeKey` in the body (read after
 *   parsing: so on these paths, over-size and invalid JSON are answered before a 401 when
 *   the key is in the body). Publishable keys are welcome here.
 * - Rate limits: a single call costs 1 in the `single` bucket; a batch of N calls costs
 *   ceil(N / 200) in the `batch` bucket (what our own batch endpoint would need to carry
 *   them), charged once the body is parsed, before anything is stored.
 * - Limits are 400s (Segment's): a call over 32 KB, a request over 500 KB, over 2,500 calls.
 * - CORS: any origin, for these paths only; OPTIONS answers the preflight.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { LIMITS } from '../../core/limits.js';
import { SEGMENT_LIMITS, type SegmentCallType } from '../../core/segment/map-call.js';
import { isPlainObject } from '../../core/validate-properties.js';
import { Errors } from '../../http/errors.js';
import { authenticateKey, chargeRateLimit, type GuardDeps } from '../../http/hooks/auth.hook.js';
import { parseJsonBody } from '../../http/json-body.js';
import type { SegmentIngest, SegmentResult } from './segment-ingest.service.js';
import { corsPreflightContract, segmentBatchContract, segmentCallContract } from './segment.docs.js';
import '../../http/hooks/access-log.hook.js';

export interface SegmentRoutesOptions {
  segment: SegmentIngest;
  guardDeps: GuardDeps;
  clock: () => number;
}

const CALLS: readonly { type: SegmentCallType; paths: string[] }[] = [
  { type: 'track', paths: ['/v1/track', '/v1/t'] },
  { type: 'identify', paths: ['/v1/identify', '/v1/i'] },
  { type: 'page', paths: ['/v1/page', '/v1/p'] },
  { type: 'screen', paths: ['/v1/screen', '/v1/s'] },
  { type: 'group', paths: ['/v1/group', '/v1/g'] },
  { type: 'alias', paths: ['/v1/alias', '/v1/a'] },
];
const BATCH_PATHS = ['/v1/batch', '/v1/b'];

/** The key of `Authorization: Basic base64(key:)` or `Bearer key`; null without the header; '' when malformed. */
export function keyFromAuthorization(header: string | undefined): string | null {
  if (header === undefined) return null;
  const basic = /^Basic\s+([A-Za-z0-9+/=_-]{1,400})\s*$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? decoded : decoded.slice(0, colon);
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return bearer ? bearer[1]! : '';
}

function cors(req: FastifyRequest, reply: FastifyReply): void {
  const origin = req.headers.origin;
  reply.header('access-control-allow-origin', typeof origin === 'string' && origin !== '' ? origin : '*');
  reply.header('vary', 'Origin');
  reply.header('access-control-expose-headers', 'x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, retry-after');
}

function answer(r: SegmentResult) {
  return r.rejected.length > 0 ? { success: true, rejected: r.rejected } : { success: true };
}

export const segmentRoutes: FastifyPluginAsync<SegmentRoutesOptions> = async (app, { segment, guardDeps, clock }) => {
  // JSON whatever the content type says: analytics.js sends text/plain, RudderStack's node
  // library posts its gzip Buffer as application/x-www-form-urlencoded (axios's default).
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  // The key from the header, before the body is read (a bad one is a 401 at once); without a
  // header, from the body's writeKey once it is parsed.
  const authHeader = async (req: FastifyRequest, reply: FastifyReply) => {
    cors(req, reply);
    const key = keyFromAuthorization(req.headers.authorization);
    if (key !== null) await authenticateKey(guardDeps, req, key, 'single');
  };
  const authBody = (req: FastifyRequest) => {
    if (req.apiKey) return;
    const body = req.body;
    const key = isPlainObject(body) && typeof body.writeKey === 'string' ? body.writeKey : null;
    return authenticateKey(guardDeps, req, key, 'single');
  };

  for (const { type, paths } of CALLS) {
    for (const path of paths) {
      app.post(
        path,
        { bodyLimit: SEGMENT_LIMITS.maxEventBytes, onRequest: authHeader, config: { tooLarge: 'segment-event', contract: segmentCallContract(type, path) } },
        async (req, reply) => {
          const body = req.body;
          if (!isPlainObject(body)) throw Errors.invalidBody();
          await authBody(req);
          await chargeRateLimit(guardDeps, req, reply, 'single');
          const r = await segment.take({ workspaceId: req.workspaceId, calls: [body], type, now: clock() });
          req.ingestCounts = { accepted: r.accepted + r.held, duplicate: r.duplicate, rejected: r.rejected.length };
          return answer(r);
        },
      );
    }
  }

  for (const path of BATCH_PATHS) {
    app.post(
      path,
      { bodyLimit: SEGMENT_LIMITS.maxRequestBytes, onRequest: authHeader, config: { tooLarge: 'segment-batch', contract: segmentBatchContract(path) } },
      async (req, reply) => {
        const body = req.body;
        if (!isPlainObject(body)) throw Errors.invalidBody();
        const list = body.batch;
        if (!Array.isArray(list)) throw Errors.invalidBatch('"batch" must be an array');
        if (list.length > SEGMENT_LIMITS.maxBatchEvents) throw Errors.segmentBatchTooManyEvents();
        await authBody(req);
        await chargeRateLimit(guardDeps, req, reply, 'batch', Math.max(1, Math.ceil(list.length / LIMITS.maxBatchEvents)));
        const r = await segment.take({ workspaceId: req.workspaceId, calls: list, type: null, sentAt: body.sentAt, context: body.context, now: clock() });
        req.ingestCounts = { accepted: r.accepted + r.held, duplicate: r.duplicate, rejected: r.rejected.length };
        return answer(r);
      },
    );
  }

  for (const path of [...CALLS.flatMap((c) => c.paths), ...BATCH_PATHS]) {
    app.options(path, { config: { contract: corsPreflightContract(path) } }, async (req, reply) => {
      cors(req, reply);
      const asked = req.headers['access-control-request-headers'];
      reply.header('access-control-allow-methods', 'POST, OPTIONS');
      reply.header('access-control-allow-headers', typeof asked === 'string' && asked.length <= 1000 ? asked : 'Content-Type, Authorization, Content-Encoding');
      reply.header('access-control-max-age', '86400');
      return reply.code(204).send();
    });
  }
};
