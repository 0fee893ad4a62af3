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

/** One environment variable the product reads. */
export interface EnvVar {
  name: string;
  /** The value used when it is unset; null: unset means off, or a value derived from others (`shown`). */
  default: number | string | boolean | null;
  /** How the default is written where String(default) would not say it (derived, per backend, in MiB). */
  shown?: string;
  /** Whole numbers: the accepted range, inclusive. */
  min?: number;
  max?: number;
  /** The `--help` line; `{default}` stands for the default as shown. */
  help: string;
}

/** WORKER_BATCH_SIZE's default on PostgreSQL (the table's `default` is SQLite's). */
const WORKER_BATCH_SIZE_POSTGRES = 500;

/**
 * Every environment variable, in `--help` order: the one place its default and range are
 * written. loadConfig parses by it, ENV_HELP renders it, and a test checks the README's
 * configuration table against it (test/config-docs.test.ts).
 */
export const ENV_VARS: readonly EnvVar[] = [
  { name: 'PORT', default: 3000, min: 0, max: 65535, help: 'listen port (default {default})' },
  { name: 'HOST', default: '127.0.0.1', help: 'listen address (default {default})' },
  { name: 'DATABASE_URL', default: 'sqlite:./data/smashsend.db', help: 'sqlite:PATH (default {default}) or postgres://…' },
  { name: 'REDIS_URL', default: null, help: 'optional; rate-limit counters shared by every API process' },
  { name: 'RATE_LIMIT_SINGLE_PER_MIN', default: 1000, min: 1, max: 1e9, help: 'POST /v1/events per workspace per minute (default {default})' },
  { name: 'RATE_LIMIT_BATCH_PER_MIN', default: 50, min: 1, max: 1e9, help: 'POST /v1/events/batch per workspace per minute (default {default})' },
  { name: 'RATE_LIMIT_API_PER_MIN', default: 6000, min: 1, max: 1e9, help: 'read and contacts endpoints per workspace per minute (default {default})' },
  { name: 'DEDUP_WINDOW_SECONDS', default: 86400, min: 1, max: 10 * 365 * 86400, help: 'how long a messageId stays reserved (default {default})' },
  {
    name: 'UNIDENTIFIED_RETENTION_DAYS',
    default: 30,
    min: 1,
    max: 3650,
    help: 'Segment-compatible paths: how long an event with no resolvable email waits for an identify or alias (default {default})',
  },
  { name: 'MAX_PENDING_EVENTS', default: 100_000, min: 1, max: 1e9, help: 'events awaiting commit before ingest answers 503 + Retry-After (default {default})' },
  {
    name: 'REQUEST_BODY_TIMEOUT_MS',
    default: 30_000,
    min: 100,
    max: 3_600_000,
    help: 'a request not fully received within this is answered 408 and its connection closed (default {default})',
  },
  // 16 MiB: two full 6.4 MB batches in flight (or 32 of the SDKs' 500 KB). Under the
  // benchmark's memory attack (80 connections of 6.4 MB batches + 200 stalled 6 MB bodies)
  // the SQLite server's peak RSS was 461-480 MB with it (4 runs, 2026-12-03), 503-606 MB at
  // 24 MiB, ~630 MB at 64 MiB, 930 MB uncapped; accepted throughput was the same (the writer
  // thread is the bound). Most of the peak is other threads' heaps and allocator arenas, not
  // the bodies themselves, so the cap is set with margin under the documented 512 MB.
  {
    name: 'MAX_PENDING_BYTES',
    default: 16 * 2 ** 20,
    shown: '16777216, 16 MiB',
    min: 1,
    max: 2 ** 40,
    help: 'bytes of request bodies in flight before requests are answered 503 + Retry-After (default {default})',
  },
  {
    name: 'MAX_CONCURRENT_BATCHES',
    default: 16,
    min: 1,
    max: 100_000,
    help: 'batch requests in flight at once before batches are answered 503 + Retry-After (default {default})',
  },
  {
    name: 'SHUTDOWN_DRAIN_MS',
    default: 5000,
    min: 0,
    max: 600_000,
    help: 'SIGTERM: time in-flight requests get before slow ones are answered 503 and cut (default {default})',
  },
  { name: 'DEBUG_APPEND_DELAY_MS', default: 0, min: 0, max: 60_000, help: 'benchmarks only: slow every append down by this much (default {default})' },
  { name: 'DATABASE_POOL_MAX', default: 10, min: 1, max: 1000, help: 'PostgreSQL connections per process (default {default})' },
  {
    name: 'DATABASE_STATEMENT_TIMEOUT_MS',
    default: 5000,
    min: 0,
    max: 3_600_000,
    help: 'PostgreSQL: a statement running longer fails the request with 503 (default {default}; 0: no limit)',
  },
  { name: 'DATABASE_CONNECT_TIMEOUT_MS', default: 5000, min: 100, max: 600_000, help: 'PostgreSQL: wait for a connection before a 503 (default {default})' },
  {
    name: 'HEALTH_CHECK_TIMEOUT_MS',
    default: 2000,
    min: 50,
    max: 60_000,
    help: 'GET /health answers 503 when the store does not answer within this (default {default})',
  },
  { name: 'SQLITE_BUSY_TIMEOUT_MS', default: 5000, min: 0, max: 600000, help: "SQLite: wait for another process's write lock before a 503 (default {default})" },
  { name: 'LOG_LEVEL', default: 'info', help: 'fatal|error|warn|info|debug|trace|silent (default {default}; debug adds a line per successful request)' },
  { name: 'LOG_FORMAT', default: 'auto', help: 'auto|json|pretty (default {default}: pretty on a TTY, JSON lines otherwise)' },
  {
    name: 'LOG_SUMMARY_INTERVAL_MS',
    default: 60_000,
    min: 0,
    max: 86_400_000,
    help: 'period of the info traffic summary while there is traffic (default {default}; 0 = off)',
  },
  {
    name: 'WORKFLOW_MAX_EVENT_AGE_HOURS',
    default: 72,
    min: 0,
    max: 24 * 365 * 10,
    help: 'an event more than this many hours older than its receipt starts no workflow run (default {default})',
  },
  { name: 'KEY_REFRESH_MS', default: 2000, min: 50, max: 5000, help: 'key cache reload interval (default {default}; revocation delay)' },
  // SQLite: one batch holds the writer thread, so it bounds ingest latency; PostgreSQL
  // workers run beside ingest and gain from fewer, larger claims (loadConfig picks by backend).
  {
    name: 'WORKER_BATCH_SIZE',
    default: 100,
    shown: `100 on SQLite, ${WORKER_BATCH_SIZE_POSTGRES} on PostgreSQL`,
    min: 1,
    max: 10000,
    help: 'events a worker claims at once (default {default})',
  },
  { name: 'WORKER_POLL_MS', default: 100, min: 1, max: 60000, help: 'idle poll interval of a worker (default {default})' },
  { name: 'WORKER_LEASE_MS', default: 30000, min: 100, max: 3600000, help: 'how long a claimed event stays leased (default {default})' },
  { name: 'PROCESSING_MAX_ATTEMPTS', default: 5, min: 1, max: 100, help: 'attempts before an event is marked failed (default {default})' },
  { name: 'PROCESSING_RETRY_BASE_MS', default: 1000, min: 1, max: 3600000, help: 'first retry delay, doubled per attempt, with jitter (default {default})' },
  {
    name: 'WORKER_PORT',
    default: 3001,
    min: 0,
    max: 65535,
    help: '`smashsend worker` serves /health and /metrics here, on HOST (default {default}; 0: any free port)',
  },
  {
    name: 'WEBHOOK_TIMEOUT_MS',
    default: 15_000,
    min: 100,
    max: 600_000,
    help: 'workflow webhooks: one attempt (connect to response) may take this long (default {default})',
  },
  { name: 'WEBHOOK_RETRY_SCHEDULE', default: '5,300,1800,7200,18000,36000,36000', help: 'workflow webhooks: seconds before each retry (default {default})' },
  {
    name: 'WEBHOOK_ALLOW_PRIVATE',
    default: false,
    help: 'true: webhooks may reach loopback, private and other non-public addresses (default {default})',
  },
  { name: 'WEBHOOK_ALLOWED_HOSTS', default: null, shown: 'none', help: 'comma-separated hosts webhooks may reach whatever their address (default {default})' },
  { name: 'SMTP_URL', default: null, help: 'smtp://user:password@host:port or smtps://…; unset: emails are written to OUTBOX_DIR' },
  { name: 'EMAIL_FROM', default: 'SMASHSEND <no-reply@localhost>', help: 'From of workflow emails (default "{default}")' },
  { name: 'OUTBOX_DIR', default: './data/outbox', help: 'where emails are written as .eml files without SMTP_URL (default {default})' },
  {
    name: 'PUBLIC_URL',
    default: null,
    shown: 'http://HOST:PORT',
    help: 'this server as the outside reaches it, for unsubscribe links (default {default})',
  },
];

const BY_NAME = new Map(ENV_VARS.map((v) => [v.name, v]));

function envVar(name: string): EnvVar {
  const v = BY_NAME.get(name);
  if (!v) throw new Error(`${name} is not in ENV_VARS`);
  return v;
}

/** The default of a variable as `--help` and the README write it. */
export function shownDefault(v: EnvVar): string {
  return v.shown ?? (v.default === null ? 'unset' : String(v.default));
}

/** Every environment variable the product reads, for `--help`. */
export const ENV_HELP: [string, string][] = ENV_VARS.map((v) => [v.name, v.help.replace('{default}', shownDefault(v))]);

/** The string default of a variable of the table. */
function stringDefault(name: string): string {
  return String(envVar(name).default);
}

/** A whole number within the variable's range; `def` overrides the table's default (a default that depends on the backend). */
function int(env: Env, name: string, def?: number): number {
  const v = envVar(name);
  const min = v.min ?? 0;
  const max = v.max ?? Number.MAX_SAFE_INTEGER;
  const raw = env[name];
  if (raw === undefined || raw === '') return def ?? (v.default as number);
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

const DEFAULT_RETRY_SCHEDULE = stringDefault('WEBHOOK_RETRY_SCHEDULE');

function bool(env: Env, name: string): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return envVar(name).default === true;
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
  const raw = env.EMAIL_FROM?.trim() || stringDefault('EMAIL_FROM');
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
  const level = env.LOG_LEVEL ?? stringDefault('LOG_LEVEL');
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
  const format = env.LOG_FORMAT || stringDefault('LOG_FORMAT');
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new ConfigError(`LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  }
  const databaseUrl = env.DATABASE_URL || stringDefault('DATABASE_URL');
  if (!databaseUrl.startsWith('sqlite:') && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`DATABASE_URL must be sqlite:PATH or postgres://…, got ${JSON.stringify(databaseUrl)}`);
  }
  if (databaseUrl === 'sqlite:') throw new ConfigError('DATABASE_URL sqlite: needs a path, e.g. sqlite:./data/smashsend.db');
  const redisUrl = env.REDIS_URL || null;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError(`REDIS_URL must be redis://…, got ${JSON.stringify(redisUrl)}`);
  }
  const host = env.HOST || stringDefault('HOST');
  const port = int(env, 'PORT');
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
      singlePerMin: int(env, 'RATE_LIMIT_SINGLE_PER_MIN'),
      batchPerMin: int(env, 'RATE_LIMIT_BATCH_PER_MIN'),
      apiPerMin: int(env, 'RATE_LIMIT_API_PER_MIN'),
    },
    dedupWindowMs: int(env, 'DEDUP_WINDOW_SECONDS') * 1000,
    unidentifiedRetentionMs: int(env, 'UNIDENTIFIED_RETENTION_DAYS') * 86_400_000,
    maxPendingEvents: int(env, 'MAX_PENDING_EVENTS'),
    requestBodyTimeoutMs: int(env, 'REQUEST_BODY_TIMEOUT_MS'),
    maxPendingBytes: int(env, 'MAX_PENDING_BYTES'),
    maxConcurrentBatches: int(env, 'MAX_CONCURRENT_BATCHES'),
    shutdownDrainMs: int(env, 'SHUTDOWN_DRAIN_MS'),
    debugAppendDelayMs: int(env, 'DEBUG_APPEND_DELAY_MS'),
    databasePoolMax: int(env, 'DATABASE_POOL_MAX'),
    databaseStatementTimeoutMs: int(env, 'DATABASE_STATEMENT_TIMEOUT_MS'),
    databaseConnectTimeoutMs: int(env, 'DATABASE_CONNECT_TIMEOUT_MS'),
    healthCheckTimeoutMs: int(env, 'HEALTH_CHECK_TIMEOUT_MS'),
    sqliteBusyTimeoutMs: int(env, 'SQLITE_BUSY_TIMEOUT_MS'),
    logLevel: level as Config['logLevel'],
    logFormat: format as Config['logFormat'],
    logSummaryIntervalMs: int(env, 'LOG_SUMMARY_INTERVAL_MS'),
    keyRefreshMs: int(env, 'KEY_REFRESH_MS'),
    workflowMaxEventAgeMs: int(env, 'WORKFLOW_MAX_EVENT_AGE_HOURS') * 3_600_000,
    webhook: {
      timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS'),
      retryScheduleMs,
      allowPrivate: bool(env, 'WEBHOOK_ALLOW_PRIVATE'),
      allowedHosts: allowedHosts(env),
    },
    email: {
      smtpUrl: smtpUrl(env),
      from: emailFrom(env),
      outboxDir: env.OUTBOX_DIR?.trim() || stringDefault('OUTBOX_DIR'),
    },
    publicUrl: publicUrl(env, host, port),
    worker: {
      batchSize: int(env, 'WORKER_BATCH_SIZE', databaseUrl.startsWith('sqlite:') ? undefined : WORKER_BATCH_SIZE_POSTGRES),
      pollMs: int(env, 'WORKER_POLL_MS'),
      leaseMs: int(env, 'WORKER_LEASE_MS'),
      maxAttempts: int(env, 'PROCESSING_MAX_ATTEMPTS'),
      retryBaseMs: int(env, 'PROCESSING_RETRY_BASE_MS'),
      port: int(env, 'WORKER_PORT'),
    },
  };
}
