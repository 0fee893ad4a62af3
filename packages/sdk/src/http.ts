/**
 * The one place that talks HTTP. `attempt()` makes a single request and reports what came back;
 * `request()` adds the plain calls' retry policy and turns failures into typed errors.
 * The tracker uses `attempt()` directly because it owns its own retry and backoff.
 */
import {
  APIError,
  AuthenticationError,
  NetworkError,
  RateLimitError,
  SmashSendError,
  TimeoutError,
  type BatchItemError,
} from './errors.js';

export const SDK_VERSION = '0.1.0';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface HttpClientConfig {
  apiKey: string;
  baseUrl: string;
  maxRetries: number;
  timeout: number;
  /** Longest single wait a plain call accepts on 429 before giving up with RateLimitError. */
  maxRetryDelay: number;
  fetch: FetchLike;
  headers: Record<string, string>;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  /** Path below `/v1`, starting with `/`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined | null>;
  /** Serialised with JSON.stringify. */
  body?: unknown;
  /** Already-serialised JSON body (the tracker builds batch bodies itself). */
  rawBody?: string;
  timeout?: number;
  maxRetries?: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  /** Parsed JSON when the content-type says JSON, else the text. */
  body: unknown;
  requestId: string | undefined;
}

/**
 * Parses `Retry-After` (delta-seconds or an HTTP date) into milliseconds; undefined when absent or invalid.
 *
 * @example
 * ```ts
 * parseRetryAfter('60'); // 60000
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2015-10-21T07:27:30Z')); // 30000
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  if (/^[+-]?\d/.test(v)) return undefined; // negative or malformed number, not a date
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

export interface BackoffOptions {
  /** First delay in ms. */
  baseDelay: number;
  /** Cap in ms. */
  maxDelay: number;
}

/**
 * Exponential backoff with "equal jitter": the n-th retry (n ≥ 1) waits between half and all of
 * `min(maxDelay, baseDelay × 2^(n-1))`. Half is fixed so a retry never fires almost at once; the
 * random half spreads many clients that failed together (a server restart) over the window.
 *
 * @example
 * ```ts
 * computeBackoff(3, { baseDelay: 500, maxDelay: 30_000 }); // between 1000 and 2000
 * ```
 */
export function computeBackoff(retry: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(retry));
  const exp = Math.min(opts.maxDelay, opts.baseDelay * 2 ** Math.min(n - 1, 30));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/**
 * Statuses worth retrying (STYLE rule 7): 408, 429, 5xx. Every other 4xx is final.
 *
 * @example
 * ```ts
 * isRetryableStatus(503); // true
 * isRetryableStatus(400); // false
 * ```
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function headerNumber(headers: Headers, name: string): number | undefined {
  const raw = headers.get(name);
  if (raw === null || raw.trim() === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function batchErrorsOf(body: unknown): BatchItemError[] | undefined {
  if (!isObject(body) || !Array.isArray(body.errors)) return undefined;
  return body.errors as BatchItemError[];
}

/** Builds the typed error for a non-2xx response, surfacing `body.message` and `body.code` like the official SDK. */
export function errorFromResponse(res: HttpResult): SmashSendError {
  const body = res.body;
  const message =
    isObject(body) && typeof body.message === 'string'
      ? body.message
      : isObject(body) && typeof body.error === 'string'
        ? body.error
        : `API error: ${res.status}`;
  const code = isObject(body) && typeof body.code === 'string' ? body.code : undefined;
  const common = { requestId: res.requestId, data: body, statusCode: res.status };
  if (res.status === 401) return new AuthenticationError(message, { ...common, code: code ?? 'INVALID_API_KEY' });
  if (res.status === 429) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    return new RateLimitError(message, {
      ...common,
      code: code ?? 'RATE_LIMITED',
      retryAfter: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
      limit: headerNumber(res.headers, 'x-ratelimit-limit'),
      remaining: headerNumber(res.headers, 'x-ratelimit-remaining'),
      reset: headerNumber(res.headers, 'x-ratelimit-reset'),
    });
  }
  return new APIError(message, {
    ...common,
    code: code ?? (res.status >= 500 ? 'server_error' : 'api_error'),
    errors: batchErrorsOf(body),
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class HttpClient {
  constructor(private readonly config: HttpClientConfig) {}

  get baseUrl(): string {
    return this.config.baseUrl;
  }

  /** `baseUrl` may carry a path prefix (a reverse proxy's `/smashsend`); it is kept. */
  url(path: string, query?: HttpRequest['query']): string {
    const base = this.config.baseUrl.replace(/\/+$/, '');
    let url = `${base}/v1${path}`;
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v !== undefined && v !== null) params.append(k, String(v));
      }
      const qs = params.toString();
      if (qs) url += `?${qs}`;
    }
    return url;
  }

  /**
   * One request, no retry. Resolves with any HTTP response (including 4xx/5xx); rejects only with
   * NetworkError or TimeoutError (or the caller's abort reason, as a NetworkError with code `aborted`).
   */
  async attempt(req: HttpRequest): Promise<HttpResult> {
    const timeout = req.timeout ?? this.config.timeout;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeout);
    const onAbort = () => controller.abort();
    if (req.signal) {
      if (req.signal.aborted) controller.abort();
      else req.signal.addEventListener('abort', onAbort, { once: true });
    }
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.config.apiKey}`,
      Accept: 'application/json',
      'User-Agent': `smashsend-selfhost-sdk/${SDK_VERSION}`,
      ...this.config.headers,
      ...req.headers,
    };
    let payload: string | undefined;
    if (req.rawBody !== undefined) payload = req.rawBody;
    else if (req.body !== undefined) payload = JSON.stringify(req.body);
    // The official SDK sends Content-Type on every call; a body-less GET with it is harmless.
    headers['Content-Type'] = 'application/json';
    try {
      const response = await this.config.fetch(this.url(req.path, req.query), {
        method: req.method,
        headers,
        body: payload,
        signal: controller.signal,
      });
      const contentType = response.headers.get('content-type') ?? '';
      const text = await response.text();
      let body: unknown = text;
      if (contentType.includes('application/json') && text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      return {
        status: response.status,
        headers: response.headers,
        body,
        requestId: response.headers.get('x-request-id') ?? undefined,
      };
    } catch (err) {
      if (timedOut) throw new TimeoutError(`Request timed out after ${timeout}ms`, { cause: err });
      if (req.signal?.aborted) throw new NetworkError('Request aborted', { code: 'aborted', cause: err });
      const detail = describeNetworkError(err);
      throw new NetworkError(`Network error: ${detail}`, { cause: err, data: detail });
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * A plain call: retries 408/429/5xx and network errors/timeouts up to `maxRetries` times with
   * exponential backoff and jitter (429 waits `Retry-After` when the server sends it), then resolves
   * with the parsed body of a 2xx or throws the typed error. Nothing is added to the body, so a
   * retried event relies on the server's content-based messageId to stay a single event.
   */
  async request<T>(req: HttpRequest): Promise<T> {
    const maxRetries = req.maxRetries ?? this.config.maxRetries;
    for (let retry = 0; ; retry++) {
      let failure: SmashSendError;
      let waitMs: number | undefined;
      try {
        const res = await this.attempt(req);
        if (res.status >= 200 && res.status < 300) return res.body as T;
        failure = errorFromResponse(res);
        if (!isRetryableStatus(res.status)) throw failure;
        if (res.status === 429) {
          const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
          // Waiting less than the server asked only earns another 429; waiting longer than
          // maxRetryDelay blocks the caller for too long. Either way give the caller the error.
          if (retryAfter !== undefined && retryAfter > this.config.maxRetryDelay) throw failure;
          if (retryAfter !== undefined) waitMs = retryAfter + Math.round(Math.random() * 250);
        }
      } catch (err) {
        if (!(err instanceof NetworkError) && !(err instanceof TimeoutError)) throw err;
        if (err.code === 'aborted') throw err;
        failure = err;
      }
      if (retry >= maxRetries) throw failure;
      await sleep(waitMs ?? computeBackoff(retry + 1, { baseDelay: 200, maxDelay: this.config.maxRetryDelay }));
    }
  }
}

function describeNetworkError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as Error & { code?: string }).code;
      return code ? `${code} ${cause.message}` : cause.message;
    }
    return err.message;
  }
  return String(err);
}
