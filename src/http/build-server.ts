import Fastify, { LogController, type FastifyContextConfig, type FastifyBaseLogger, type FastifyReply, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { METHODS, type IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config/load-config.js';
import type { KeyStore } from '../keys/key-store.port.js';
import { IngestOverloadedError } from '../ingest/pending-limit.js';
import { StoreUnavailableError } from '../storage/ports.js';
import { ApiError, Errors, errorBody } from './errors.js';
import { registerAccessLog } from './hooks/access-log.hook.js';
import { attachQueryCheck } from './query.js';
import { clientErrorHandler, installConnectHandler, REQUEST_ID } from './client-errors.js';
import { GracefulClose } from './graceful-close.js';
import { guard, type GuardDeps } from './hooks/auth.hook.js';
import { BodyBudget, bodyLimitsHook } from './hooks/body-limits.hook.js';
import { parseJsonBody } from './json-body.js';
import { StoreStatus } from './store-status.js';
import { KeyCache } from '../keys/key-cache.js';
import type { Metrics } from './metrics.js';
import type { Guard } from './route-deps.js';
import { MemoryRateLimiter, type RateBucket, type RateLimiter } from './rate-limit/rate-limiter.js';
import { RedisRateLimiter } from './rate-limit/redis-rate-limiter.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which 413 an over-long body gets; the `segment-*` routes answer 400 (Segment's limits, SPEC.md). */
    tooLarge?: 'event' | 'batch' | 'segment-event' | 'segment-batch';
    /** One of the 405 routes derived below (not a real route of the API). */
    methodNotAllowed?: boolean;
  }
}

/** What every module's routes get from the HTTP layer. */
export interface HttpContext {
  guard: Guard;
  clock: () => number;
  metrics: Metrics;
  /** What the guard uses, for routes that authenticate another way (Segment's Basic auth and `writeKey`). */
  guardDeps: GuardDeps;
  /** The process's rate limiter (Redis-backed when REDIS_URL is set), for limits beyond the API buckets. */
  limiter: RateLimiter;
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
  /** Shared with the modules that observe the store (ingest appends, /health); made here if absent. */
  storeStatus?: StoreStatus;
}

export interface BuiltServer {
  app: FastifyInstance;
  metrics: Metrics;
  keys: KeyCache;
  /** Every API route: path → methods (HEAD included); not the derived 405s nor `internal` routes. */
  routes: ReadonlyMap<string, ReadonlySet<string>>;
  storeStatus: StoreStatus;
  bodyBudget: BodyBudget;
  /**
   * Stops accepting, finishes in-flight requests, stops timers. Leaves the store open.
   * Requests still receiving their body after SHUTDOWN_DRAIN_MS are answered 503 and cut.
   */
  close(): Promise<void>;
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Every method node:http parses except CONNECT (answered in client-errors.ts): a known path
 * with any of them is a 405, an unknown path a 404. Fastify routes only the methods it knows,
 * so the rest (PROPFIND, PURGE, …) are added to it.
 */
const ALL_METHODS = METHODS.filter((m) => m !== 'CONNECT');
const METHODS_WITHOUT_BODY = new Set(['GET', 'HEAD', 'TRACE']);

/** find-my-way's limit on one path parameter (raw, percent-encoded characters). */
const MAX_PARAM_LENGTH = 2048;

function tooLargeFor(which: FastifyContextConfig['tooLarge']): ApiError {
  switch (which) {
    case 'event':
      return Errors.eventTooLarge();
    case 'batch':
      return Errors.batchTooLarge();
    case 'segment-event':
      return Errors.segmentTooLarge('Event payload exceeds 32KB limit');
    case 'segment-batch':
      return Errors.segmentTooLarge('Request payload exceeds 500KB limit');
    default:
      return Errors.bodyTooLarge();
  }
}

function toApiError(err: unknown, req: FastifyRequest): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof StoreUnavailableError) return Errors.serviceUnavailable();
  if (err instanceof IngestOverloadedError) return Errors.overloaded();
  const fe = err as FastifyError;
  switch (fe?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return tooLargeFor(req.routeOptions.config?.tooLarge);
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
  const storeStatus = deps.storeStatus ?? new StoreStatus(log);
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
    // Headers and body must have arrived within this (node:http answers 408 via clientError).
    requestTimeout: config.requestBodyTimeoutMs,
    http: {
      headersTimeout: Math.min(60_000, config.requestBodyTimeoutMs),
      // How often node:http looks for requests past their timeout (default 30 s, which made
      // a 30 s timeout anything up to 60 s). The check walks the connections receiving a request.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(config.requestBodyTimeoutMs / 4))),
      // node:http answers a missing Host with a bare 400; the onRequest hook answers it in JSON.
      requireHostHeader: false,
    },
    // Malformed requests, 431 and 408 in our body shape (client-errors.ts).
    clientErrorHandler: clientErrorHandler({ requestTimeoutMs: config.requestBodyTimeoutMs }),
    // Fastify's own 503 while closing has no `code` nor `x-request-id`: the onRequest hook answers.
    return503OnClosing: false,
    // A messageId is up to 128 code points and an email up to 254; percent-encoded they can
    // be far longer than find-my-way's default of 100, which would turn them into 404s.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // A malformed URL or an over-long path parameter fails before routing, outside the error
    // handler: same body shape here.
    frameworkErrors: (err, req, reply) => {
      const e =
        err.code === 'FST_ERR_BAD_URL'
          ? Errors.invalidUrl()
          : err.code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? Errors.pathParameterTooLong(MAX_PARAM_LENGTH)
            : Errors.invalidRequest();
      void (reply as FastifyReply).code(e.statusCode).header('x-request-id', req.id).type('application/json; charset=utf-8').send(errorBody(e));
    },
  });
  for (const m of ALL_METHODS) {
    if (!app.supportedMethods.includes(m)) app.addHttpMethod(m, { hasBody: !METHODS_WITHOUT_BODY.has(m) });
  }
  installConnectHandler(app.server);
  const closer = new GracefulClose(app.server, config.shutdownDrainMs);
  const bodyBudget = new BodyBudget({ maxPendingBytes: config.maxPendingBytes, maxConcurrentBatches: config.maxConcurrentBatches });
  app.decorateRequest('workspaceId', '');
  app.decorateRequest('apiKey', null);

  // One JSON parser (json-body.ts: strict UTF-8), no other content types (415).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (err) {
      done(err as ApiError, undefined);
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    // For answers written on the socket (408, shutdown), outside Fastify.
    (req.raw as IncomingMessage & { [REQUEST_ID]?: string })[REQUEST_ID] = req.id;
    if (closer.closing) throw Errors.shuttingDown();
    // HTTP/1.1 requires Host (RFC 9112 3.2); node:http's own check is turned off above.
    if (req.headers.host === undefined && req.raw.httpVersionMinor === 1 && req.raw.httpVersionMajor === 1) {
      throw Errors.invalidRequest('Malformed HTTP request: HTTP/1.1 requires a Host header');
    }
    // An unknown path is answered before its body is read (no key needed to send one).
    if (req.is404) throw Errors.routeNotFound(req.method, req.url);
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
    if (err instanceof StoreUnavailableError) {
      // No line per request during an outage: StoreStatus logs the changes and a summary.
      metrics.storeUnavailable.inc();
      storeStatus.answered503(err);
    } else if (api.statusCode >= 500 && api.statusCode !== 503) {
      // Other 503s are ours on purpose (backpressure, shutting down) and counted in metrics.
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
  const serverBodyLimit = app.initialConfig.bodyLimit ?? 1_048_576;
  app.addHook('onRoute', (r) => {
    const list = Array.isArray(r.method) ? r.method : [r.method];
    if (r.config?.methodNotAllowed !== true && !r.config?.internal) {
      const methods = routes.get(r.url) ?? new Set<string>();
      for (const m of list) methods.add(m);
      routes.set(r.url, methods);
    }
    // Routes that take a body get the byte budget, the batch cap and Content-Encoding.
    if (list.some((m) => !METHODS_WITHOUT_BODY.has(m)) && r.config?.methodNotAllowed !== true) {
      const hook = bodyLimitsHook(bodyBudget, {
        limit: r.bodyLimit ?? serverBodyLimit,
        batch: r.config?.tooLarge === 'batch' || r.config?.tooLarge === 'segment-batch',
        tooLarge: () => tooLargeFor(r.config?.tooLarge),
      });
      r.preParsing = r.preParsing === undefined ? [hook] : [...(Array.isArray(r.preParsing) ? r.preParsing : [r.preParsing]), hook];
    }
  });

  const guardDeps: GuardDeps = { keys, limiter, config, metrics, clock };
  const ctx: HttpContext = { guard: (b: RateBucket) => guard(guardDeps, b), clock, metrics, guardDeps, limiter };
  for (const mount of deps.modules) mount(app, ctx);
  await app.after();

  for (const [url, methods] of [...routes]) {
    const allowed = [...methods].filter((m) => m !== 'HEAD');
    const others = ALL_METHODS.filter((m) => !methods.has(m));
    if (others.length === 0) continue;
    const refuse = async (req: FastifyRequest) => {
      throw Errors.methodNotAllowed(req.method, allowed);
    };
    // Refused in onRequest, before a body is read.
    app.route({ method: others, url, config: { internal: 'method_not_allowed', methodNotAllowed: true }, onRequest: refuse, handler: refuse });
  }

  return {
    app,
    metrics,
    keys,
    routes,
    storeStatus,
    bodyBudget,
    async close() {
      // app.close() stops accepting and waits for every connection to end: GracefulClose keeps
      // closing idle ones, and answers or cuts the ones still receiving after the deadline.
      const r = await closer.run(() => app.close());
      if (r.answeredSlow > 0 || r.cut) log.warn(r, 'shutdown: answered 503 to requests still arriving after SHUTDOWN_DRAIN_MS');
      await keys.stop(); // after the last request: writes the key uses not written yet (the store is still open)
      await limiter.close();
    },
  };
}
