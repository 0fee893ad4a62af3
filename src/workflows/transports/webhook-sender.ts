/**
 * Webhook deliveries over HTTP (SPEC.md, "Webhook step"): one POST per attempt, signed with
 * Standard Webhooks headers, classified into what the engine does next. The sender holds no
 * state about deliveries; the engine owns ids, attempts and the schedule.
 *
 * - **Isolation.** One undici Agent keeps a pool per origin with no cap on its connections,
 *   so a destination that hangs holds only its own sockets: sends to others never queue
 *   behind it. Every attempt is bounded by `timeoutMs` as a whole (connect, headers and
 *   body), so a hanging destination costs each of its attempts at most that long.
 * - **Egress.** egress.ts: the lookup undici's connector uses refuses non-public addresses
 *   (the address connected to is the one checked); literal IPs are checked here first.
 * - **Redirects** are not followed (undici's `request` never does): a 3xx is a failure.
 * - **Response** bodies are read up to 1 KB, then the socket is destroyed rather than
 *   drained: a receiver streaming gigabytes costs us 1 KB and one connection.
 */
import { Agent, errors as undiciErrors } from 'undici';
import { EgressRefusedError, egressLookup, refuseLiteralHost, type EgressPolicy } from './egress.js';
import { parseRetryAfter } from './retry-schedule.js';
import { signatureHeader } from './webhook-signing.js';

export { nextRetryDelayMs, parseRetrySchedule, parseRetryAfter } from './retry-schedule.js';

export interface WebhookRequest {
  url: string;
  headers?: Record<string, string>;
  /** `webhook-id`: the delivery id, the same on every retry. */
  deliveryId: string;
  body: string;
  /** Signing secrets, current first (signingSecrets of the workspace). */
  secrets: string[];
  /** `webhook-timestamp`: Unix seconds of this attempt. */
  timestampSec: number;
}

export type WebhookOutcome =
  | { kind: 'success'; status: number; latencyMs: number; response: string }
  | { kind: 'retry'; status: number | null; latencyMs: number; response: string; error?: string; retryAfterMs?: number }
  | { kind: 'gone'; status: 410; latencyMs: number; response: string }
  | { kind: 'refused'; latencyMs: number; error: string };

export interface WebhookSenderOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  allowedHosts: string[];
}

/** Bytes of a response body kept (and read) per attempt. */
export const RESPONSE_LIMIT = 1024;

/** Headers the sender sets and a step may not override, compared lower-case. */
const RESERVED_HEADERS = new Set(['webhook-id', 'webhook-timestamp', 'webhook-signature', 'host', 'content-length', 'content-type']);
/** Hop-by-hop headers undici refuses (or that would change the framing): dropped, never sent. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'expect', 'proxy-connection']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * For workflow validation: why a step's `headers` cannot be sent as given, or null. The
 * sender itself drops reserved and hop-by-hop names rather than fail a delivery over them.
 */
export function checkWebhookHeaders(headers: Record<string, unknown>): string | null {
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) return `header name ${JSON.stringify(name)} is not valid`;
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower) || HOP_BY_HOP.has(lower)) return `header ${JSON.stringify(name)} is set by the server and cannot be given`;
    if (typeof value !== 'string') return `header ${JSON.stringify(name)} must be a string`;
    // eslint-disable-next-line no-control-regex
    if (/[\r\n\0]/.test(value) || value.length > 8192) return `header ${JSON.stringify(name)} has an invalid value`;
  }
  return null;
}

/** For workflow validation: why a URL cannot be a webhook destination (scheme, syntax, literal non-public IP), or null. */
export function checkWebhookUrl(url: string, policy: EgressPolicy): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a valid URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `scheme ${u.protocol.replace(/:$/, '')} is not allowed (http or https)`;
  if (u.username || u.password) return 'credentials in the URL are not allowed (use headers)';
  return refuseLiteralHost(policy, u.hostname);
}

function errorText(err: unknown): string {
  const e = err as { name?: string; message?: string; code?: string; cause?: unknown };
  const cause = e?.cause as { code?: string; message?: string } | undefined;
  const code = e?.code ?? cause?.code;
  const msg = e?.message || cause?.message || String(err);
  return (code && !msg.includes(code) ? `${msg} (${code})` : msg).slice(0, 500).replace(/\u0000/g, '\ufffd');
}

function findEgressError(err: unknown): EgressRefusedError | null {
  for (let e = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    if (e instanceof EgressRefusedError || (e as { code?: string }).code === 'ERR_EGRESS_REFUSED') return e as EgressRefusedError;
  }
  return null;
}

/** One attempt's HTTP request exactly as it goes on the wire (POST): what test mode records. */
export interface BuiltWebhookRequest {
  url: string;
  /** Lower-case names: the step's own headers (reserved and hop-by-hop ones dropped), then ours. */
  headers: Record<string, string>;
  body: string;
}

/** The signed request of an attempt (Standard Webhooks headers), with no I/O. */
export function buildWebhookRequest(req: WebhookRequest): BuiltWebhookRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower) || HOP_BY_HOP.has(lower) || !TOKEN.test(name)) continue;
    headers[lower] = value;
  }
  headers['content-type'] = 'application/json';
  headers['webhook-id'] = req.deliveryId;
  headers['webhook-timestamp'] = String(req.timestampSec);
  headers['webhook-signature'] = signatureHeader(req.secrets, req.deliveryId, req.timestampSec, req.body);
  headers['user-agent'] ??= 'smashsend-webhooks/1';
  return { url: req.url, headers, body: req.body };
}

export class WebhookSender {
  private readonly agent: Agent;
  private readonly policy: EgressPolicy;

  constructor(private readonly o: WebhookSenderOptions) {
    this.policy = { allowPrivate: o.allowPrivate, allowedHosts: o.allowedHosts.map((h) => h.trim().toLowerCase()).filter(Boolean) };
    this.agent = new Agent({
      connect: { lookup: egressLookup(this.policy), timeout: o.timeoutMs },
      // Backstops: the AbortSignal of each request bounds the attempt as a whole.
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      // No cap per origin (undici's default `connections: null`): isolation needs none.
      keepAliveTimeout: 4000,
    });
  }

  /**
   * Sends one attempt. `built` is the request as buildWebhookRequest made it (test mode records
   * it on the attempt, then sends exactly that); by default it is built here.
   */
  async send(req: WebhookRequest, built: BuiltWebhookRequest = buildWebhookRequest(req)): Promise<WebhookOutcome> {
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    const bad = checkWebhookUrl(built.url, this.policy);
    if (bad) return { kind: 'refused', latencyMs: latency(), error: bad };
    const u = new URL(built.url);
    const headers = { ...built.headers };

    const signal = AbortSignal.timeout(this.o.timeoutMs);
    let status: number | null = null;
    let response = '';
    let retryAfterMs: number | undefined;
    try {
      const res = await this.agent.request({
        origin: u.origin,
        path: `${u.pathname}${u.search}`,
        method: 'POST',
        headers,
        body: built.body,
        signal,
      });
      status = res.statusCode;
      retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now());
      response = await readLimited(res.body, RESPONSE_LIMIT);
    } catch (err) {
      const egress = findEgressError(err);
      if (egress) return { kind: 'refused', latencyMs: latency(), error: egress.message };
      if (err instanceof undiciErrors.InvalidArgumentError) return { kind: 'refused', latencyMs: latency(), error: errorText(err) };
      if (status === null) {
        const timedOut = signal.aborted || err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.ConnectTimeoutError;
        const error = timedOut ? `no response within ${this.o.timeoutMs} ms` : errorText(err);
        return { kind: 'retry', status: null, latencyMs: latency(), response: '', error };
      }
      // The status arrived in time but the body did not finish: the status decides (a 2xx
      // within the timeout succeeds), with what of the body arrived.
      response = (err as { partial?: string }).partial ?? response;
    }
    const latencyMs = latency();
    if (status >= 200 && status < 300) return { kind: 'success', status, latencyMs, response };
    if (status === 410) return { kind: 'gone', status: 410, latencyMs, response };
    const error = status >= 300 && status < 400 ? `redirect (${status}) not followed` : `HTTP ${status}`;
    return { kind: 'retry', status, latencyMs, response, error, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }

  /** Closes idle connections and waits for requests in flight (each bounded by timeoutMs). */
  async close(): Promise<void> {
    await this.agent.close();
  }
}

/**
 * Reads at most `limit` bytes of a body, then destroys it (undici closes that connection
 * rather than reading the rest). A failure mid-body rejects with the text read so far in `partial`.
 */
/** Response text as stored: U+0000 (which PostgreSQL text cannot hold) becomes U+FFFD. */
function storable(bytes: Buffer): string {
  return bytes.toString('utf8').replace(/\u0000/g, '\ufffd');
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy(err?: Error): unknown }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) break; // leaving the loop destroys the stream
    }
  } catch (err) {
    throw Object.assign(err instanceof Error ? err : new Error(String(err)), { partial: storable(Buffer.concat(chunks).subarray(0, limit)) });
  } finally {
    body.destroy();
  }
  return storable(Buffer.concat(chunks).subarray(0, limit));
}
