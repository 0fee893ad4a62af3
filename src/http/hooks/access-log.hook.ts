/**
 * The access log: one line per request, at `info` for errors (status ≥ 400) and at `debug`
 * for successes, with method, route, status, latency, request id, workspace, the error code,
 * and for ingest the accepted/duplicate/rejected counts.
 *
 * Fastify's own request logging stays off (two lines per request, ~10% of throughput, see
 * build-server.ts). This hook costs a status compare per request, plus `isLevelEnabled` for
 * a success: a debug line that is not emitted builds nothing. The route is logged as its
 * pattern (`/v1/contacts/by-email/:email`), not the URL, so emails and other query or path
 * values stay out of the log; an unmatched path (404) is logged without its query string.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Logger } from 'pino';

/** What an ingest route did with the request's events (set by the route, read here). */
export interface IngestCounts {
  accepted: number;
  duplicate: number;
  rejected: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    ingestCounts: IngestCounts | null;
    /** The error catalogue code of an error answer (set by the error handler). */
    errorCode: string | null;
  }
}

function line(req: FastifyRequest, reply: FastifyReply): [Record<string, unknown>, string] {
  const route = req.routeOptions.url;
  const status = reply.statusCode;
  const ms = Math.round(reply.elapsedTime * 100) / 100;
  const fields: Record<string, unknown> = { reqId: req.id, method: req.method, route: route ?? null, status, ms };
  if (route === undefined) fields.path = req.url.split('?', 1)[0]!.slice(0, 200);
  if (req.workspaceId) fields.workspace = req.workspaceId;
  if (req.errorCode) fields.code = req.errorCode;
  if (req.ingestCounts) Object.assign(fields, req.ingestCounts);
  return [fields, `${req.method} ${route ?? fields.path} ${status} ${ms} ms`];
}

export function registerAccessLog(app: FastifyInstance, log: Logger): void {
  app.decorateRequest('ingestCounts', null);
  app.decorateRequest('errorCode', null);
  app.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    if (reply.statusCode >= 400) {
      const [fields, msg] = line(req, reply);
      log.info(fields, msg);
    } else if (log.isLevelEnabled('debug')) {
      const [fields, msg] = line(req, reply);
      log.debug(fields, msg);
    }
    done();
  });
}
