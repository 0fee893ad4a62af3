/**
 * The client: `new SmashSend(apiKey, { baseUrl, maxRetries, timeout })` as in the official SDK,
 * or `new SMASHSEND({ apiKey, baseUrl })` as in the source document.
 */
import { Contacts } from './contacts.js';
import { AuthenticationError, SmashSendError } from './errors.js';
import { Events } from './events.js';
import { HttpClient, type FetchLike } from './http.js';
import type { CloseOptions, CloseResult } from './tracker.js';
import type { SmashSendClientOptions } from './types.js';

export const DEFAULT_BASE_URL = 'https://api.smashsend.com';

/**
 * The server's root URL as every request starts from it. `baseUrl` is the server's root
 * (`http://127.0.0.1:3000`): the SDK adds `/v1` itself. A trailing `/v1` (the REST base
 * copied from a banner or a doc) and trailing slashes are dropped, so they cannot make
 * `/v1/v1/events`; a path prefix (a reverse proxy's `/smashsend`) is kept. Anything that is
 * not an absolute http(s) URL without query, fragment or credentials is refused at
 * construction, instead of failing on the first request with a vague network error.
 *
 * @example
 * ```ts
 * normalizeBaseUrl('http://127.0.0.1:3000/v1/'); // 'http://127.0.0.1:3000'
 * normalizeBaseUrl('https://example.com/smashsend/'); // 'https://example.com/smashsend'
 * normalizeBaseUrl('127.0.0.1:3000'); // throws SmashSendError (code invalid_base_url)
 * ```
 */
export function normalizeBaseUrl(baseUrl: string): string {
  const refuse = (why: string) =>
    new SmashSendError(`baseUrl ${JSON.stringify(baseUrl)} ${why}; expected e.g. 'http://127.0.0.1:3000'`, { code: 'invalid_base_url' });
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw refuse('is not an absolute URL (it needs a scheme: http:// or https://)');
  }
  // `localhost:3000` parses as a URL of scheme "localhost:".
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse('needs the scheme http:// or https://');
  if (url.search || url.hash || baseUrl.includes('?') || baseUrl.includes('#')) throw refuse('must not have a query or fragment');
  if (url.username || url.password) throw refuse('must not contain credentials (the API key is passed separately)');
  const path = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '').replace(/\/+$/, '');
  return `${url.origin}${path}`;
}

/**
 * Client for a SMASHSEND-compatible Events API.
 *
 * @example
 * ```ts
 * import { SmashSend } from '@smashsend-selfhost/sdk';
 *
 * const smashsend = new SmashSend(process.env.SMASHSEND_API_KEY!, { baseUrl: 'http://127.0.0.1:3000' });
 * await smashsend.events.send({ event: 'user.signup', identify: { email: 'user@example.com' } });
 * ```
 */
export class SmashSend {
  /** Events: `send`, `sendBatch`, `get`, `list`, and the batching tracker (`track`, `flush`, `close`). */
  public readonly events: Events;
  /** Contacts: `create`, `upsert`, `search`, `get`, `update`, `delete`, `deleteByEmail`, `list`. */
  public readonly contacts: Contacts;
  private readonly headers: Record<string, string>;

  constructor(apiKey: string, options?: SmashSendClientOptions);
  constructor(options: SmashSendClientOptions & { apiKey: string });
  constructor(apiKeyOrOptions: string | (SmashSendClientOptions & { apiKey: string }), maybeOptions: SmashSendClientOptions = {}) {
    const options: SmashSendClientOptions = typeof apiKeyOrOptions === 'string' ? maybeOptions : (apiKeyOrOptions ?? {});
    const apiKey = typeof apiKeyOrOptions === 'string' ? apiKeyOrOptions : options.apiKey;
    if (!apiKey) throw new AuthenticationError('API key is required', { code: 'api_key_required' });
    const nonNegative = (v: number | undefined, def: number) => (v === undefined || !Number.isFinite(v) || v < 0 ? def : v);
    const platformFetch: FetchLike = (input, init) => {
      if (typeof globalThis.fetch !== 'function') throw new TypeError('fetch is not available; pass options.fetch');
      return globalThis.fetch(input, init);
    };
    this.headers = { ...(options.headers ?? {}) };
    const http = new HttpClient({
      apiKey,
      baseUrl: normalizeBaseUrl(options.baseUrl || DEFAULT_BASE_URL),
      maxRetries: Math.floor(nonNegative(options.maxRetries, 3)),
      timeout: nonNegative(options.timeout, 30_000) || 30_000,
      maxRetryDelay: nonNegative(options.maxRetryDelay, 30_000),
      fetch: options.fetch ?? platformFetch,
      headers: this.headers,
    });
    this.events = new Events(http, {
      ...options.tracker,
      ...(options.tracker?.timeout === undefined && options.timeout !== undefined ? { timeout: options.timeout } : {}),
    });
    this.contacts = new Contacts(http);
  }

  /**
   * Adds headers to every later request.
   *
   * @example
   * ```ts
   * smashsend.setHeaders({ 'x-request-id': 'deploy-42' });
   * ```
   */
  setHeaders(headers: Record<string, string>): this {
    Object.assign(this.headers, headers);
    return this;
  }

  /**
   * Adds one header to every later request.
   *
   * @example
   * ```ts
   * smashsend.setHeader('x-tenant', 'acme');
   * ```
   */
  setHeader(name: string, value: string): this {
    this.headers[name] = value;
    return this;
  }

  /**
   * Same as `events.flush()`.
   *
   * @example
   * ```ts
   * await smashsend.flush();
   * ```
   */
  flush(): Promise<void> {
    return this.events.flush();
  }

  /**
   * Same as `events.close()`: flush the tracker and stop it within the timeout.
   *
   * @example
   * ```ts
   * await smashsend.close({ timeout: 5_000 });
   * ```
   */
  close(options: CloseOptions = {}): Promise<CloseResult> {
    return this.events.close(options);
  }
}

/** The spelling the source document uses: `new SMASHSEND({ apiKey })`. Same class. */
export { SmashSend as SMASHSEND };
