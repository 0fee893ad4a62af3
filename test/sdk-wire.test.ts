/**
 * A client that speaks exactly as the official @smashsend/node SDK does (Bearer key, JSON
 * body, Accept JSON, parses only application/json responses, retries 429 and 5xx with
 * exponential backoff without adding a messageId) gets what the source document promises.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ev } from '../src/testing/http.js';
import { BACKEND, USES_REDIS } from '../src/testing/test-database.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

class OfficialLikeClient {
  requests = 0;
  constructor(
    private readonly key: string,
    private readonly baseUrl: string,
    private readonly onRetry: (status: number) => void = () => {},
    private readonly maxRetries = 3,
  ) {}

  async request(path: string, body: unknown): Promise<{ status: number; body: any; requestId: string | null }> {
    for (let attempt = 0; ; attempt++) {
      this.requests++;
      const res = await fetch(`${this.baseUrl}${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.key}`, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
      });
      const ct = res.headers.get('content-type') ?? '';
      const parsed: any = ct.includes('application/json') ? await res.json() : await res.text();
      if ((res.status === 429 || res.status >= 500) && attempt < this.maxRetries) {
        this.onRetry(res.status);
        await new Promise((r) => setTimeout(r, 10 * 2 ** attempt));
        continue;
      }
      if (res.status >= 400 && res.status !== 207 && !(path.endsWith('/batch') && res.status === 400 && parsed.events)) {
        const err = new Error(parsed.message) as Error & { code?: string; status?: number };
        err.code = parsed.code;
        err.status = res.status;
        throw err;
      }
      return { status: res.status, body: parsed, requestId: res.headers.get('x-request-id') };
    }
  }
}

let s: TestServer;
let now = Date.now();

beforeAll(async () => {
  s = await startTestServer({ clock: () => now, env: { RATE_LIMIT_SINGLE_PER_MIN: '3', SQLITE_BUSY_TIMEOUT_MS: '0' } });
});
afterAll(async () => {
  await s.close();
});

describe('official-SDK wire behaviour', () => {
  it('send: JSON response with messageId, request id readable', async () => {
    const c = new OfficialLikeClient(s.key, s.url);
    const r = await c.request('/v1/events', ev({ event: 'user.signup', identify: { email: 'user@example.com' }, properties: { plan: 'premium', source: 'website' } }));
    expect(r.body).toMatchObject({ success: true, messageId: expect.stringMatching(/^msg_/), info: 'Event queued for processing' });
    expect(r.requestId).toBeTruthy();
  });

  it('4xx surfaces body.message and body.code', async () => {
    const c = new OfficialLikeClient(s.key, s.url);
    await expect(c.request('/v1/events', ev({ event: 'bad name' }))).rejects.toMatchObject({
      message: 'Event name can only contain alphanumeric characters, underscores, hyphens, dots, and colons',
      code: 'INVALID_EVENT_NAME',
      status: 400,
    });
    await expect(new OfficialLikeClient('sk_live_wrong', s.url).request('/v1/events', ev())).rejects.toMatchObject({ message: 'Invalid API key', code: 'INVALID_API_KEY' });
  });

  // Moves the server clock past the window, which Redis's TTL does not follow.
  it.skipIf(USES_REDIS)('a 429 retried without a messageId stores the event once (content-derived id)', async () => {
    now += 120_000; // fresh window
    const c = new OfficialLikeClient(s.key, s.url, (status) => {
      if (status === 429) now += 61_000; // time passes while the client backs off
    });
    const body = ev({ event: 'purchase.completed', identify: { email: 'retry@example.com' }, properties: { orderId: 'o-1' } });
    const first = await c.request('/v1/events', body);
    await c.request('/v1/events', ev({ messageId: 'filler-1' }));
    await c.request('/v1/events', ev({ messageId: 'filler-2' }));
    // Limit reached: the SDK's retry of the same body gets 429, backs off, retries, succeeds as a duplicate.
    const again = await c.request('/v1/events', body);
    expect(again.body).toMatchObject({ success: true, messageId: first.body.messageId, duplicate: true });
    const list = await fetch(`${s.url}/v1/events?email=retry@example.com`, { headers: { Authorization: `Bearer ${s.key}` } }).then((r) => r.json() as Promise<{ events: { items: unknown[] } }>);
    expect(list.events.items).toHaveLength(1);
  });

  it.skipIf(BACKEND !== 'sqlite')('a 5xx retried without a messageId stores the event once', async () => {
    now += 120_000;
    const Database = (await import('better-sqlite3')).default;
    const other = new Database(s.databaseUrl.slice('sqlite:'.length));
    other.exec('BEGIN IMMEDIATE');
    const statuses: number[] = [];
    const c = new OfficialLikeClient(s.key, s.url, (status) => {
      statuses.push(status);
      if (other.inTransaction) other.exec('ROLLBACK');
    });
    const body = ev({ event: 'subscription.renewed', identify: { email: 'five@example.com' }, properties: { subscriptionId: 'sub_xyz' } });
    const r = await c.request('/v1/events', body);
    other.close();
    expect(statuses).toEqual([503]);
    expect(r.body.duplicate).toBeUndefined();
    const dup = await c.request('/v1/events', body);
    expect(dup.body).toMatchObject({ duplicate: true, messageId: r.body.messageId });
  });

  it('sendBatch: the documented counts, per-index errors, and a parsed all-failed 400 body', async () => {
    now += 120_000;
    const c = new OfficialLikeClient(s.key, s.url);
    const r = await c.request('/v1/events/batch', { events: [ev({ messageId: 'sb-1' }), ev({ identify: { email: 'x' } })] });
    expect(r.status).toBe(207);
    expect(r.body).toMatchObject({ accepted: 1, failed: 1, duplicated: 0 });
    expect(r.body.errors[0]).toEqual({ index: 1, errors: [{ code: 'INVALID_EMAIL', message: 'Invalid email format' }] });
    const all = await c.request('/v1/events/batch', { events: [ev({ event: '' })] });
    expect(all.status).toBe(400);
    expect(all.body.code).toBe('ALL_EVENTS_FAILED');
  });
});
