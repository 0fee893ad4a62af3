/** A tiny HTTP client for tests: JSON in, status + headers + parsed JSON out. */
export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function call<T = any>(
  url: string,
  opts: {
    method?: string;
    key?: string | null;
    body?: unknown;
    raw?: string | Buffer;
    headers?: Record<string, string>;
    /** Abort (the call rejects) when no response has arrived within this. */
    timeoutMs?: number;
  } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  let body: string | Buffer | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const signal = opts.timeoutMs === undefined ? undefined : AbortSignal.timeout(opts.timeoutMs);
  const res = await fetch(url, { method: opts.method ?? (body !== undefined ? 'POST' : 'GET'), headers, body, signal });
  const text = await res.text();
  let parsed: any = undefined;
  if ((res.headers.get('content-type') ?? '').includes('application/json')) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

export function ev(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { event: 'user.signup', identify: { email: 'user@example.com' }, ...overrides };
}
