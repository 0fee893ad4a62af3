import Fastify, { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config/load-config.js';
import type { KeyStore } from '../keys/key-store.port.js';
import { IngestOverloadedError } from '../ingest/pending-limit.js';
import { StoreUnavailableError } from '../storage/ports.js';
import { ApiError, Errors, errorBody } from './errors.js';
import { registerAccessLog } from './hooks/access-log.hook.js';
import { guard } from './hooks/auth.hook.js';
import { attachQueryCheck } from './query.js';
import { KeyCache } from '../keys/key-cache.js';
import type { Metrics } from './metrics.js';
import type { Guard } from './route-deps.js';
import { MemoryRateLimiter, type RateBucket, type RateLimiter } from './rate-limit/rate-limiter.js';
import { RedisRateLimiter } from './rate-limit/redis-rate-limiter.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    tooLarge?: 'event' | 'batch';
  }
}

/** What every module's routes get from the HTTP layer. */
export interface HttpContext {
  guard: Guard;
  clock: () => number;
  metrics: Metrics;
}

/** Registers one module's route plugin (e.g. `app.register(contactsRoutes, {...})`). */
export type ModuleMount = (app: FastifyInstance, ctx: HttpContext) => void;

export interface ServerDeps {
  config: Config;
  log: Logger;
  keys: KeyStore;
  metrics: Metrics;
  /** The modules' route plugins, composed by cli/compose.ts. */
  modules: ModuleMount[];
  clock?: () => number;
}

export interface BuiltServer {
  app: FastifyInstance;
  metrics: Metrics;
  keys: KeyCache;
  /** Every API route: path → methods (HEAD included); not the derived 405s nor `internal` routes. */
  routes: ReadonlyMap<string, ReadonlySet<string>>;
  /** Stops accepting, finishes in-flight requests, stops timers. Leaves the store open. */
  close(): Promise<void>;
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

function toApiError(err: unknown, req: FastifyRequest): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof StoreUnavailableError) return Errors.serviceUnavailable();
  if (err instanceof IngestOverloadedError) return Errors.overloaded();
  const fe = err as FastifyError;
  switch (fe?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const which = req.routeOptions.config?.tooLarge;
      return which === 'event' ? Errors.eventTooLarge() : which === 'batch' ? Errors.batchTooLarge() : Errors.bodyTooLarge();
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return Errors.unsupportedMediaType();
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return Errors.invalidJson();
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return Errors.invalidBody('Content-Length does not match the body');
  }
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return Errors.invalidBody('Malformed request');
  }
  return Errors.internal();
}

export async function buildServer(deps: ServerDeps): Promise<BuiltServer> {
  const { config, log, metrics } = deps;
  const clock = deps.clock ?? Date.now;
  const keys = new KeyCache(deps.keys, config.keyRefreshMs, log);
  await keys.start();
  let limiter: RateLimiter;
  if (config.redisUrl) {
    const redis = new RedisRateLimiter(config.redisUrl, log, () => metrics.rateLimitBackendErrors.inc());
    await redis.ready(2000);
    limiter = redis;
  } else {
    limiter = new MemoryRateLimiter();
  }

  const app: FastifyInstance = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    // Per-request info logs cost ~10% of throughput; errors are logged by our handler.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Keep-alive clients (autocannon, SDKs) must not be cut mid-stream by a short default.
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
    // A messageId is up to 128 code points and an email up to 254; percent-encoded they can
    // be far longer than find-my-way's default of 100, which would turn them into 404s.
    routerOptions: { maxParamLength: 2048 },
    // A malformed URL fails before routing, outside the error handler: same body shape here.
    frameworkErrors: (_err, req, reply) => {
      const e = Errors.invalidUrl();
      void (reply as FastifyReply).code(e.statusCode).header('x-request-id', req.id).type('application/json; charset=utf-8').send(errorBody(e));
    },
  });
  app.decorateRequest('workspaceId', '');
  app.decorateRequest('apiKey', null);

  // One JSON parser, no other content types (415). JSON.parse is iterative in V8, so a body
  // nested thousands of levels deep parses without recursion; our validators stop at depth 4.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    // An empty body is no body (the official SDK sends a JSON content type on DELETE too).
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Errors.invalidJson(), undefined);
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  registerAccessLog(app, log);
  app.addHook('onResponse', async (req, reply) => {
    metrics.requestDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler((err, req, reply) => {
    const api = toApiError(err, req);
    req.errorCode = api.code;
    if (api.statusCode >= 500) {
      if (api.statusCode === 503) metrics.storeUnavailable.inc();
      req.log.error({ err, reqId: req.id }, 'request failed');
    }
    for (const [k, v] of Object.entries(api.headers)) reply.header(k, v);
    return reply.code(api.statusCode).type('application/json; charset=utf-8').send(errorBody(api));
  });
  app.setNotFoundHandler(async (req) => {
    throw Errors.routeNotFound(req.method, req.url);
  });

  // Every registered path, with its methods: the same path with another method is a 405.
  const routes = new Map<string, Set<string>>();
  app.addHook('onRoute', attachQueryCheck);
  app.addHook('onRoute', (r) => {
    if (r.config?.internal) return;
    const methods = routes.get(r.url) ?? new Set<string>();
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) methods.add(m);
    routes.set(r.url, methods);
  });

  const guardDeps = { keys, limiter, config, metrics, clock };
  const ctx: HttpContext = { guard: (b: RateBucket) => guard(guardDeps, b), clock, metrics };
  for (const mount of deps.modules) mount(app, ctx);
  await app.after();

  for (const [url, methods] of [...routes]) {
    const allowed = [...methods].filter((m) => m !== 'HEAD');
    const others = ALL_METHODS.filter((m) => !methods.has(m));
    if (others.length === 0) continue;
    app.route({
      method: others,
      url,
      config: { internal: 'method_not_allowed' },
      handler: async (req) => {
        throw Errors.methodNotAllowed(req.method, allowed);
      },
    });
  }

  return {
    app,
    metrics,
    keys,
    routes,
    async close() {
      // app.close() stops accepting and waits for every connection to end; a keep-alive
      // connection whose request finishes after close began would idle until its timeout,
      // so keep closing idle connections until the server is done.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
        await keys.stop(); // after the last request: writes the key uses not written yet (the store is still open)
      }
      await limiter.close();
    },
  };
}
