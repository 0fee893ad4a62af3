/**
 * Configuration is read from the environment once, here, strictly: a bad value is an
 * error naming the variable, never a silent default. Only config/ and cli/ read process.env.
 */
import { isIP } from 'node:net';
import { parseRetrySchedule } from '../workflows/transports/retry-schedule.js';

export interface Config {
  host: string;
  port: number;
  databaseUrl: string;
  redisUrl: string | null;
  rateLimits: { singlePerMin: number; batchPerMin: number; apiPerMin: number };
  dedupWindowMs: number;
  /** Segment-compatible ingestion: how long an event with no resolvable email is held for a link (UNIDENTIFIED_RETENTION_DAYS). */
  unidentifiedRetentionMs: number;
  /** Backpressure: events accepted but not yet committed, beyond which ingest answers 503. */
  maxPendingEvents: number;
  /** A request whose headers and body have not fully arrived within this is answered 408 and dropped. */
  requestBodyTimeoutMs: number;
  /** Bytes of request bodies in flight (declared by Content-Length, or received so far), beyond which 503. */
  maxPendingBytes: number;
  /** Batch requests received and processed at once, beyond which 503. */
  maxConcurrentBatches: number;
  /** SIGTERM: how long in-flight requests may take before the slow ones are answered 503 and cut. */
  shutdownDrainMs: number;
  /** Benchmarks only: an artificial delay before every append, to show backpressure. */
  debugAppendDelayMs: number;
  /** PostgreSQL: connections per process. */
  databasePoolMax: number;
  /** PostgreSQL: longest a statement may run before the request answers 503 (0: no limit). */
  databaseStatementTimeoutMs: number;
  /** PostgreSQL: longest wait for a connection (new, or free from a full pool) before a 503. */
  databaseConnectTimeoutMs: number;
  /** GET /health answers 503 when the store's probe has not answered within this. */
  healthCheckTimeoutMs: number;
  /** SQLite: how long a write waits for another process's lock before answering 503. */
  sqliteBusyTimeoutMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `auto`: human-readable (pino-pretty) when stdout is a TTY, JSON lines otherwise. */
  logFormat: 'auto' | 'json' | 'pretty';
  /** The `info` traffic summary's period while there is traffic; 0 turns it off. */
  logSummaryIntervalMs: number;
  /** How often the authentication cache reloads keys (revocation reaches every process within this). */
  keyRefreshMs: number;
  /** WORKFLOW_MAX_EVENT_AGE_HOURS in ms: an event older than this at receipt starts no workflow run. */
  workflowMaxEventAgeMs: number;
  /** Workflow webhook steps (SPEC.md, "Webhook step", "Egress safety"). */
  webhook: {
    /** One attempt, connect to last byte read, is bounded by this. */
    timeoutMs: number;
    /** Delay before each retry, in ms; its length is the number of retries. */
    retryScheduleMs: number[];
    /** Deliver to loopback, private, link-local and other non-public addresses too. */
    allowPrivate: boolean;
    /** Hosts (names or IPs, lower-case) exempt from the egress filter. */
    allowedHosts: string[];
  };
  /** Workflow email steps. */
  email: {
    /** smtp:// or smtps:// with user and password; null: write .eml files to outboxDir. */
    smtpUrl: string | null;
    /** The From of every message unless a step sets its own. */
    from: string;
    outboxDir: string;
  };
  /** Where this server is reached from outside (unsubscribe links), without a trailing slash. */
  publicUrl: string;
  worker: {
    batchSize: number;
    pollMs: number;
    leaseMs: number;
    maxAttempts: number;
    retryBaseMs: number;
    /** `smashsend worker`: where it serves /health and /metrics (0: any free port). */
    port: number;
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

/** Every environment variable the product reads, for `--help`. */
export const ENV_HELP: [string, string][] = [
  ['PORT', 'listen port (default 3000)'],
  ['HOST', 'listen address (default 127.0.0.1)'],
  ['DATABASE_URL', 'sqlite:PATH (default sqlite:./data/smashsend.db) or postgres://…'],
  ['REDIS_URL', 'optional; rate-limit counters shared by every API process'],
  ['RATE_LIMIT_SINGLE_PER_MIN', 'POST /v1/events per workspace per minute (default 1000)'],
  ['RATE_LIMIT_BATCH_PER_MIN', 'POST /v1/events/batch per workspace per minute (default 50)'],
  ['RATE_LIMIT_API_PER_MIN', 'read and contacts endpoints per workspace per minute (default 6000)'],
  ['DEDUP_WINDOW_SECONDS', 'how long a messageId stays reserved (default 86400)'],
  ['UNIDENTIFIED_RETENTION_DAYS', 'Segment-compatible paths: how long an event with no resolvable email waits for an identify or alias (default 30)'],
  ['MAX_PENDING_EVENTS', 'events awaiting commit before ingest answers 503 + Retry-After (default 100000)'],
  ['REQUEST_BODY_TIMEOUT_MS', 'a request not fully received within this is answered 408 and its connection closed (default 30000)'],
  ['MAX_PENDING_BYTES', 'bytes of request bodies in flight before requests are answered 503 + Retry-After (default 25165824, 24 MiB)'],
  ['MAX_CONCURRENT_BATCHES', 'batch requests in flight at once before batches are answered 503 + Retry-After (default 16)'],
  ['SHUTDOWN_DRAIN_MS', 'SIGTERM: time in-flight requests get before slow ones are answered 503 and cut (default 5000)'],
  ['DEBUG_APPEND_DELAY_MS', 'benchmarks only: slow every append down by this much (default 0)'],
  ['DATABASE_POOL_MAX', 'PostgreSQL connections per process (default 10)'],
  ['DATABASE_STATEMENT_TIMEOUT_MS', 'PostgreSQL: a statement running longer fails the request with 503 (default 5000; 0: no limit)'],
  ['DATABASE_CONNECT_TIMEOUT_MS', 'PostgreSQL: wait for a connection before a 503 (default 5000)'],
  ['HEALTH_CHECK_TIMEOUT_MS', 'GET /health answers 503 when the store does not answer within this (default 2000)'],
  ['SQLITE_BUSY_TIMEOUT_MS', 'SQLite: wait for another process\'s write lock before a 503 (default 5000)'],
  ['LOG_LEVEL', 'fatal|error|warn|info|debug|trace|silent (default info; debug adds a line per successful request)'],
  ['LOG_FORMAT', 'auto|json|pretty (default auto: pretty on a TTY, JSON lines otherwise)'],
  ['LOG_SUMMARY_INTERVAL_MS', 'period of the info traffic summary while there is traffic (default 60000; 0 = off)'],
  ['WORKFLOW_MAX_EVENT_AGE_HOURS', 'an event more than this many hours older than its receipt starts no workflow run (default 72)'],
  ['KEY_REFRESH_MS', 'key cache reload interval (default 2000; revocation delay)'],
  ['WORKER_BATCH_SIZE', 'events a worker claims at once (default 100 on SQLite, 500 on PostgreSQL)'],
  ['WORKER_POLL_MS', 'idle poll interval of a worker (default 100)'],
  ['WORKER_LEASE_MS', 'how long a claimed event stays leased (default 30000)'],
  ['PROCESSING_MAX_ATTEMPTS', 'attempts before an event is marked failed (default 5)'],
  ['PROCESSING_RETRY_BASE_MS', 'first retry delay, doubled per attempt, with jitter (default 1000)'],
  ['WORKER_PORT', '`smashsend worker` serves /health and /metrics here, on HOST (default 3001; 0: any free port)'],
  ['WEBHOOK_TIMEOUT_MS', 'workflow webhooks: one attempt (connect to response) may take this long (default 15000)'],
  ['WEBHOOK_RETRY_SCHEDULE', 'workflow webhooks: seconds before each retry (default 5,300,1800,7200,18000,36000,36000)'],
  ['WEBHOOK_ALLOW_PRIVATE', 'true: webhooks may reach loopback, private and other non-public addresses (default false)'],
  ['WEBHOOK_ALLOWED_HOSTS', 'comma-separated hosts webhooks may reach whatever their address (default none)'],
  ['SMTP_URL', 'smtp://user:password@host:port or smtps://…; unset: emails are written to OUTBOX_DIR'],
  ['EMAIL_FROM', 'From of workflow emails (default "SMASHSEND <no-reply@localhost>")'],
  ['OUTBOX_DIR', 'where emails are written as .eml files without SMTP_URL (default ./data/outbox)'],
  ['PUBLIC_URL', 'this server as the outside reaches it, for unsubscribe links (default http://HOST:PORT)'],
];

const DEFAULT_RETRY_SCHEDULE = '5,300,1800,7200,18000,36000,36000';

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return def;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(env[name])}`);
}

function allowedHosts(env: Env): string[] {
  const raw = env.WEBHOOK_ALLOWED_HOSTS ?? '';
  const hosts = raw.split(',').map((h) => h.trim().toLowerCase().replace(/^\[|\]$/g, '')).filter(Boolean);
  for (const h of hosts) {
    if (isIP(h) === 0 && !/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/.test(h)) {
      throw new ConfigError(`WEBHOOK_ALLOWED_HOSTS must list host names or IP addresses (no scheme, port or path), got ${JSON.stringify(h)}`);
    }
  }
  return hosts.map((h) => h.replace(/\.$/, ''));
}

function smtpUrl(env: Env): string | null {
  const raw = env.SMTP_URL?.trim();
  if (!raw) return null;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError('SMTP_URL must be smtp://user:password@host:port or smtps://…, got a value that is not a URL');
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') throw new ConfigError(`SMTP_URL must start with smtp:// or smtps://, got ${u.protocol}//`);
  if (!u.hostname) throw new ConfigError('SMTP_URL needs a host');
  return raw;
}

function emailFrom(env: Env): string {
  const raw = env.EMAIL_FROM?.trim() || 'SMASHSEND <no-reply@localhost>';
  if (!/^(?:[^<>@\r\n]*<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+)$/.test(raw)) {
    throw new ConfigError(`EMAIL_FROM must be an address or "Name <address>", got ${JSON.stringify(raw)}`);
  }
  return raw;
}

function publicUrl(env: Env, host: string, port: number): string {
  const raw = env.PUBLIC_URL?.trim();
  if (!raw) return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.search || u.hash || u.username) {
    throw new ConfigError(`PUBLIC_URL must be an http:// or https:// URL without query, fragment or credentials, got ${JSON.stringify(raw)}`);
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

export function loadConfig(env: Env): Config {
  const level = env.LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
  const format = env.LOG_FORMAT || 'auto';
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new ConfigError(`LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  }
  const databaseUrl = env.DATABASE_URL || 'sqlite:./data/smashsend.db';
  if (!databaseUrl.startsWith('sqlite:') && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`DATABASE_URL must be sqlite:PATH or postgres://…, got ${JSON.stringify(databaseUrl)}`);
  }
  if (databaseUrl === 'sqlite:') throw new ConfigError('DATABASE_URL sqlite: needs a path, e.g. sqlite:./data/smashsend.db');
  const redisUrl = env.REDIS_URL || null;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError(`REDIS_URL must be redis://…, got ${JSON.stringify(redisUrl)}`);
  }
  const host = env.HOST || '127.0.0.1';
  const port = int(env, 'PORT', 3000, 0, 65535);
  let retryScheduleMs: number[];
  try {
    retryScheduleMs = parseRetrySchedule(env.WEBHOOK_RETRY_SCHEDULE?.trim() || DEFAULT_RETRY_SCHEDULE);
  } catch (err) {
    throw new ConfigError(`WEBHOOK_RETRY_SCHEDULE must be comma-separated seconds (e.g. ${DEFAULT_RETRY_SCHEDULE}): ${(err as Error).message}`);
  }
  return {
    host,
    port,
    databaseUrl,
    redisUrl,
    rateLimits: {
      singlePerMin: int(env, 'RATE_LIMIT_SINGLE_PER_MIN', 1000, 1, 1e9),
      batchPerMin: int(env, 'RATE_LIMIT_BATCH_PER_MIN', 50, 1, 1e9),
      apiPerMin: int(env, 'RATE_LIMIT_API_PER_MIN', 6000, 1, 1e9),
    },
    dedupWindowMs: int(env, 'DEDUP_WINDOW_SECONDS', 86400, 1, 10 * 365 * 86400) * 1000,
    unidentifiedRetentionMs: int(env, 'UNIDENTIFIED_RETENTION_DAYS', 30, 1, 3650) * 86_400_000,
    maxPendingEvents: int(env, 'MAX_PENDING_EVENTS', 100_000, 1, 1e9),
    requestBodyTimeoutMs: int(env, 'REQUEST_BODY_TIMEOUT_MS', 30_000, 100, 3_600_000),
    // 24 MiB: 3-4 full 6.4 MB batches in flight. Under 80 connections of 6.4 MB batches the
    // SQLite server peaked at 380-490 MB RSS with it, ~500 MB at 32 MiB, 630 MB at 64 MiB,
    // 930 MB uncapped; throughput was the same (the writer thread is the bound).
    maxPendingBytes: int(env, 'MAX_PENDING_BYTES', 24 * 2 ** 20, 1, 2 ** 40),
    maxConcurrentBatches: int(env, 'MAX_CONCURRENT_BATCHES', 16, 1, 100_000),
    shutdownDrainMs: int(env, 'SHUTDOWN_DRAIN_MS', 5000, 0, 600_000),
    debugAppendDelayMs: int(env, 'DEBUG_APPEND_DELAY_MS', 0, 0, 60_000),
    databasePoolMax: int(env, 'DATABASE_POOL_MAX', 10, 1, 1000),
    databaseStatementTimeoutMs: int(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 5000, 0, 3_600_000),
    databaseConnectTimeoutMs: int(env, 'DATABASE_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
    healthCheckTimeoutMs: int(env, 'HEALTH_CHECK_TIMEOUT_MS', 2000, 50, 60_000),
    sqliteBusyTimeoutMs: int(env, 'SQLITE_BUSY_TIMEOUT_MS', 5000, 0, 600000),
    logLevel: level as Config['logLevel'],
    logFormat: format as Config['logFormat'],
    logSummaryIntervalMs: int(env, 'LOG_SUMMARY_INTERVAL_MS', 60_000, 0, 86_400_000),
    keyRefreshMs: int(env, 'KEY_REFRESH_MS', 2000, 50, 5000),
    workflowMaxEventAgeMs: int(env, 'WORKFLOW_MAX_EVENT_AGE_HOURS', 72, 0, 24 * 365 * 10) * 3_600_000,
    webhook: {
      timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 15_000, 100, 600_000),
      retryScheduleMs,
      allowPrivate: bool(env, 'WEBHOOK_ALLOW_PRIVATE', false),
      allowedHosts: allowedHosts(env),
    },
    email: {
      smtpUrl: smtpUrl(env),
      from: emailFrom(env),
      outboxDir: env.OUTBOX_DIR?.trim() || './data/outbox',
    },
    publicUrl: publicUrl(env, host, port),
    worker: {
      // SQLite: one batch holds the writer thread, so it bounds ingest latency; PostgreSQL
      // workers run beside ingest and gain from fewer, larger claims.
      batchSize: int(env, 'WORKER_BATCH_SIZE', databaseUrl.startsWith('sqlite:') ? 100 : 500, 1, 10000),
      pollMs: int(env, 'WORKER_POLL_MS', 100, 1, 60000),
      leaseMs: int(env, 'WORKER_LEASE_MS', 30000, 100, 3600000),
      maxAttempts: int(env, 'PROCESSING_MAX_ATTEMPTS', 5, 1, 100),
      retryBaseMs: int(env, 'PROCESSING_RETRY_BASE_MS', 1000, 1, 3600000),
      port: int(env, 'WORKER_PORT', 3001, 0, 65535),
    },
  };
}
