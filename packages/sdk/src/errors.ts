/**
 * Error classes, named and shaped as in the official `@smashsend/node` SDK
 * (`SmashSendError` → `APIError` | `AuthenticationError` | `RateLimitError` |
 * `NetworkError` | `TimeoutError`, each with `statusCode`, `code`, `requestId`
 * and `data`), plus what this SDK adds: `status`, `body` and the batch
 * endpoint's per-index `errors`.
 */

/** One validation problem of one batch item, as the server reports it. */
export interface ItemErrorDetail {
  code: string;
  message: string;
}

/** The per-index error list of a batch response (`errors[]`). */
export interface BatchItemError {
  /** Index of the failed event in the batch that was sent. */
  index: number;
  errors: ItemErrorDetail[];
}

export interface SmashSendErrorOptions {
  code: string;
  statusCode?: number;
  requestId?: string;
  /** The parsed response body (JSON object, or text when the response was not JSON). */
  data?: unknown;
  /** Per-index errors of a batch call (the all-failed 400). */
  errors?: BatchItemError[];
  cause?: unknown;
}

/**
 * Base class of every error this SDK throws.
 *
 * @example
 * ```ts
 * try {
 *   await smashsend.events.send(event);
 * } catch (err) {
 *   if (err instanceof SmashSendError) console.error(err.statusCode, err.code, err.requestId);
 * }
 * ```
 */
export class SmashSendError extends Error {
  /** HTTP status of the response, when there was one. */
  public readonly statusCode: number | undefined;
  /** The server's `code` (`INVALID_API_KEY`, `RATE_LIMITED`, `ALL_EVENTS_FAILED`, …) or an SDK code (`network_error`, `timeout_error`). */
  public readonly code: string;
  /** The response's `x-request-id`: quote it when asking an operator to look at the server log. */
  public readonly requestId: string | undefined;
  /** The parsed response body. Same value as `body`. */
  public readonly data: unknown;
  /** Per-index errors when the server sent them (batch with every event invalid). Empty otherwise. */
  public readonly errors: BatchItemError[];

  constructor(message: string, options: SmashSendErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SmashSendError';
    this.code = options.code;
    this.statusCode = options.statusCode;
    this.requestId = options.requestId;
    this.data = options.data;
    this.errors = options.errors ?? [];
  }

  /** Alias of `statusCode`. */
  get status(): number | undefined {
    return this.statusCode;
  }

  /** Alias of `data`: the whole parsed response body. */
  get body(): unknown {
    return this.data;
  }
}

/**
 * A non-2xx response other than 401 and 429 (400, 404, 409, 413, 5xx after retries, …).
 *
 * @example
 * ```ts
 * try {
 *   await smashsend.events.sendBatch(events);
 * } catch (err) {
 *   if (err instanceof APIError && err.code === 'ALL_EVENTS_FAILED') {
 *     for (const item of err.errors) console.error(item.index, item.errors[0]?.code);
 *   }
 * }
 * ```
 */
export class APIError extends SmashSendError {
  constructor(message: string, options: SmashSendErrorOptions & { statusCode: number }) {
    super(message, options);
    this.name = 'APIError';
  }
}

/**
 * 401: the key is missing, unknown or revoked. Never retried.
 *
 * @example
 * ```ts
 * try {
 *   await smashsend.contacts.list();
 * } catch (err) {
 *   if (err instanceof AuthenticationError) console.error('check SMASHSEND_API_KEY');
 * }
 * ```
 */
export class AuthenticationError extends SmashSendError {
  constructor(message: string, options: Partial<SmashSendErrorOptions> = {}) {
    super(message, { ...options, statusCode: options.statusCode ?? 401, code: options.code ?? 'INVALID_API_KEY' });
    this.name = 'AuthenticationError';
  }
}

/**
 * 429 after the retries were spent (or when `Retry-After` was longer than the client may wait).
 *
 * @example
 * ```ts
 * try {
 *   await smashsend.events.send(event);
 * } catch (err) {
 *   if (err instanceof RateLimitError) console.warn(`retry in ${err.retryAfter ?? 60}s`);
 * }
 * ```
 */
export class RateLimitError extends SmashSendError {
  /** Seconds to wait, from `Retry-After`. */
  public readonly retryAfter: number | undefined;
  /** `X-RateLimit-Limit`: requests allowed per window. */
  public readonly limit: number | undefined;
  /** `X-RateLimit-Remaining`. */
  public readonly remaining: number | undefined;
  /** `X-RateLimit-Reset`: seconds until the window resets. */
  public readonly reset: number | undefined;

  constructor(
    message: string,
    options: Partial<SmashSendErrorOptions> & { retryAfter?: number; limit?: number; remaining?: number; reset?: number } = {},
  ) {
    super(message, { ...options, statusCode: options.statusCode ?? 429, code: options.code ?? 'RATE_LIMITED' });
    this.name = 'RateLimitError';
    this.retryAfter = options.retryAfter;
    this.limit = options.limit;
    this.remaining = options.remaining;
    this.reset = options.reset;
  }
}

/**
 * The request never got a response: connection refused or reset, DNS failure, ….
 *
 * @example
 * ```ts
 * try {
 *   await smashsend.events.send(event);
 * } catch (err) {
 *   if (err instanceof NetworkError) console.warn('server unreachable', err.cause);
 * }
 * ```
 */
export class NetworkError extends SmashSendError {
  constructor(message: string, options: Partial<SmashSendErrorOptions> = {}) {
    super(message, { ...options, code: options.code ?? 'network_error' });
    this.name = 'NetworkError';
  }
}

/**
 * No response within the client's `timeout`.
 *
 * @example
 * ```ts
 * const smashsend = new SmashSend(key, { timeout: 5_000 });
 * try {
 *   await smashsend.events.send(event);
 * } catch (err) {
 *   if (err instanceof TimeoutError) console.warn('no answer in 5 s');
 * }
 * ```
 */
export class TimeoutError extends SmashSendError {
  constructor(message: string, options: Partial<SmashSendErrorOptions> = {}) {
    super(message, { ...options, code: options.code ?? 'timeout_error' });
    this.name = 'TimeoutError';
  }
}

/** Older spelling used by the official SDK's first releases and by the source document. */
export { SmashSendError as SMASHSENDError };
