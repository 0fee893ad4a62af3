/**
 * The plain calls against a stub server: request shape, retry policy, typed errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  APIError,
  AuthenticationError,
  NetworkError,
  normalizeBaseUrl,
  RateLimitError,
  SMASHSEND,
  SmashSend,
  SmashSendError,
  TimeoutError,
} from '../src/index.js';
import { startStub, type StubServer } from './support/stub-server.js';

let stub: StubServer | undefined;
afterEach(async () => {
  await stub?.stop();
  stub = undefined;
});

const event = { event: 'user.signup', identify: { email: 'user@example.com' }, properties: { plan: 'premium' } };

describe('client construction', () => {
  it('takes (apiKey, options) and ({ apiKey, ...options })', async () => {
    stub = await startStub((req, res, s) => s.json(res, 200, { success: true, messageId: 'msg_1', info: 'Event queued for processing' }));
    const a = new SmashSend('sk_live_a', { baseUrl: stub.url });
    const b = new SMASHSEND({ apiKey: 'sk_live_b', baseUrl: `${stub.url}/` });
    await a.events.send(event);
    await b.events.send(event);
    expect(stub.requests.map((r) => r.headers.authorization)).toEqual(['Bearer sk_live_a', 'Bearer sk_live_b']);
    expect(stub.requests.map((r) => r.url)).toEqual(['/v1/events', '/v1/events']);
    expect(SMASHSEND).toBe(SmashSend);
  });

  it('refuses a missing key', () => {
    expect(() => new SmashSend('')).toThrow(AuthenticationError);
    expect(() => new SMASHSEND({ apiKey: '' })).toThrow('API key is required');
  });

  it('refuses a baseUrl that is not an absolute http(s) URL, at construction, with a clear error', () => {
    for (const bad of ['127.0.0.1:3000', 'localhost:3000', 'api.example.com', '/v1', 'ftp://example.com', 'http://127.0.0.1:3000/?x=1', 'http://u:p@127.0.0.1:3000']) {
      let caught: unknown;
      try {
        new SmashSend('k', { baseUrl: bad });
      } catch (err) {
        caught = err;
      }
      expect(caught, bad).toBeInstanceOf(SmashSendError);
      expect((caught as SmashSendError).code, bad).toBe('invalid_base_url');
      expect((caught as Error).message, bad).toContain(JSON.stringify(bad));
      expect((caught as Error).message, bad).toContain("'http://127.0.0.1:3000'");
    }
    expect(() => new SmashSend('k', { baseUrl: 'localhost:3000' })).toThrow(/scheme http:\/\/ or https:\/\//);
  });

  it('tolerates a trailing /v1 and trailing slashes in baseUrl (never /v1/v1)', async () => {
    stub = await startStub((req, res, s) => s.json(res, 200, { success: true, messageId: 'msg_1', info: 'Event queued for processing' }));
    for (const base of [`${stub.url}/v1`, `${stub.url}/v1/`, `${stub.url}//`, `${stub.url}/proxy/v1`]) {
      await new SmashSend('k', { baseUrl: base, maxRetries: 0 }).events.send(event);
    }
    expect(stub.requests.map((r) => r.url)).toEqual(['/v1/events', '/v1/events', '/v1/events', '/proxy/v1/events']);
    expect(normalizeBaseUrl('http://127.0.0.1:3000/v1/')).toBe('http://127.0.0.1:3000');
    expect(normalizeBaseUrl('HTTPS://Example.COM/smashsend/')).toBe('https://example.com/smashsend');
  });

  it('keeps a path prefix of baseUrl', async () => {
    stub = await startStub((req, res, s) => s.json(res, 200, { contact: null }));
    const c = new SmashSend('k', { baseUrl: `${stub.url}/proxy/` });
    await c.contacts.search('a+b@example.com');
    expect(stub.requests[0]!.url).toBe('/proxy/v1/contacts/search?email=a%2Bb%40example.com');
  });
});

describe('request shape (official SDK facts)', () => {
  it('sends the official headers and the event unchanged (no messageId added)', async () => {
    stub = await startStub((req, res, s) => s.json(res, 200, { success: true, messageId: 'msg_x', info: 'Event queued for processing' }));
    const c = new SmashSend('sk_live_k', { baseUrl: stub.url });
    const r = await c.events.send(event);
    expect(r).toEqual({ success: true, messageId: 'msg_x', info: 'Event queued for processing' });
    const req = stub.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.accept).toBe('application/json');
    expect(req.body).toEqual(event);
  });

  it('parses JSON only when the content-type says so', async () => {
    stub = await startStub((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('{"looks":"like json"}');
    });
    const c = new SmashSend('k', { baseUrl: stub.url });
    await expect(c.events.send(event)).resolves.toBe('{"looks":"like json"}');
  });

  it('maps every contacts call to its route', async () => {
    const contact = { id: 'c1', createdAt: 'x', updatedAt: 'x', workspaceId: 'w', properties: { email: 'a@b.co' } };
    stub = await startStub((req, res, s) => {
      if (req.method === 'DELETE') return s.json(res, 200, { isDeleted: true, contact });
      if (req.url.startsWith('/v1/contacts?')) return s.json(res, 200, { contacts: { items: [contact], cursor: null, hasMore: false } });
      return s.json(res, 200, { contact });
    });
    const c = new SmashSend('k', { baseUrl: stub.url });
    expect(await c.contacts.create({ email: 'a@b.co', firstName: 'A', birthday: new Date('2000-01-02T00:00:00Z'), customProperties: { plan: 'pro' } })).toEqual(contact);
    expect(await c.contacts.upsert({ email: 'a@b.co', city: null })).toEqual(contact);
    expect(await c.contacts.search('a@b.co')).toEqual(contact);
    expect(await c.contacts.get('c/1')).toEqual(contact);
    expect(await c.contacts.update('c1', { lastName: 'B' })).toEqual(contact);
    expect(await c.contacts.delete('c1')).toEqual({ isDeleted: true, contact });
    expect(await c.contacts.deleteByEmail('a+b@b.co')).toEqual({ isDeleted: true, contact });
    expect((await c.contacts.list({ limit: 10, sort: 'createdAt.asc', search: 'a', status: 'SUBSCRIBED' })).contacts.items).toEqual([contact]);
    expect(stub.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /v1/contacts',
      'POST /v1/contacts',
      'GET /v1/contacts/search?email=a%40b.co',
      'GET /v1/contacts/c%2F1',
      'PUT /v1/contacts/c1',
      'DELETE /v1/contacts/c1',
      'DELETE /v1/contacts/by-email/a%2Bb%40b.co',
      'GET /v1/contacts?limit=10&sort=createdAt.asc&search=a&status=SUBSCRIBED',
    ]);
    expect(stub.requests[0]!.body).toEqual({ properties: { email: 'a@b.co', firstName: 'A', birthday: '2000-01-02T00:00:00.000Z', plan: 'pro' } });
    expect(stub.requests[1]!.body).toEqual({ properties: { email: 'a@b.co', city: null } });
    expect(stub.requests[4]!.body).toEqual({ properties: { lastName: 'B' } });
  });

  it('maps events.get and events.list', async () => {
    stub = await startStub((req, res, s) =>
      req.url.startsWith('/v1/events?') ? s.json(res, 200, { events: { items: [], cursor: null, hasMore: false } }) : s.json(res, 200, { event: { messageId: 'm 1' } }),
    );
    const c = new SmashSend('k', { baseUrl: stub.url });
    expect(await c.events.get('m 1')).toEqual({ messageId: 'm 1' });
    await c.events.list({ email: 'a@b.co', event: 'x', since: new Date('2024-01-01T00:00:00Z'), until: '2024-02-01T00:00:00Z', limit: 5, cursor: 'cur' });
    expect(stub.requests.map((r) => r.url)).toEqual([
      '/v1/events/m%201',
      '/v1/events?email=a%40b.co&event=x&since=2024-01-01T00%3A00%3A00.000Z&until=2024-02-01T00%3A00%3A00Z&limit=5&cursor=cur',
    ]);
  });
});

describe('retries and typed errors of plain calls', () => {
  it('retries 5xx and then succeeds, resending the same body', async () => {
    let n = 0;
    stub = await startStub((req, res, s) => (++n <= 2 ? s.json(res, 503, { statusCode: 503, error: 'Service Unavailable', message: 'x', code: 'SERVICE_UNAVAILABLE' }) : s.json(res, 200, { success: true, messageId: 'm' })));
    const c = new SmashSend('k', { baseUrl: stub.url, maxRetries: 3 });
    await expect(c.events.send(event)).resolves.toMatchObject({ success: true });
    expect(stub.requests).toHaveLength(3);
    expect(new Set(stub.requests.map((r) => r.raw)).size).toBe(1);
    expect(stub.requests[0]!.body).not.toHaveProperty('messageId');
  });

  it('throws APIError with status, code and request id after the retries', async () => {
    stub = await startStub((req, res, s) => s.json(res, 500, { statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error', code: 'INTERNAL_ERROR' }));
    const c = new SmashSend('k', { baseUrl: stub.url, maxRetries: 1 });
    const err = await c.events.send(event).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect(err).toMatchObject({ statusCode: 500, status: 500, code: 'INTERNAL_ERROR', requestId: 'req_2', message: 'Internal Server Error' });
    expect(stub.requests).toHaveLength(2);
  });

  it('never retries other 4xx', async () => {
    stub = await startStub((req, res, s) => s.json(res, 400, { statusCode: 400, error: 'Bad Request', message: 'Event name cannot exceed 60 characters', code: 'EVENT_NAME_TOO_LONG' }));
    const c = new SmashSend('k', { baseUrl: stub.url });
    const err = (await c.events.send(event).catch((e: unknown) => e)) as APIError;
    expect(err).toBeInstanceOf(APIError);
    expect(err.code).toBe('EVENT_NAME_TOO_LONG');
    expect(err.message).toBe('Event name cannot exceed 60 characters');
    expect(stub.requests).toHaveLength(1);
  });

  it('401 is an AuthenticationError, not retried', async () => {
    stub = await startStub((req, res, s) => s.json(res, 401, { statusCode: 401, error: 'Unauthorized', message: 'Invalid API key', code: 'INVALID_API_KEY' }));
    const c = new SmashSend('bad', { baseUrl: stub.url });
    const err = (await c.contacts.list().catch((e: unknown) => e)) as AuthenticationError;
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toBeInstanceOf(SmashSendError);
    expect(err).toMatchObject({ statusCode: 401, code: 'INVALID_API_KEY', message: 'Invalid API key', requestId: 'req_1' });
    expect(stub.requests).toHaveLength(1);
  });

  it('429 honours a short Retry-After, then throws RateLimitError with the rate-limit headers', async () => {
    stub = await startStub((req, res, s) =>
      s.json(res, 429, { statusCode: 429, error: 'Too Many Requests', message: 'Rate limit exceeded. Please retry after 60 seconds.', code: 'RATE_LIMITED' }, {
        'retry-after': '1',
        'x-ratelimit-limit': '50',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': '1',
      }),
    );
    const c = new SmashSend('k', { baseUrl: stub.url, maxRetries: 1 });
    const t0 = Date.now();
    const err = (await c.events.sendBatch([event]).catch((e: unknown) => e)) as RateLimitError;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_000);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED', retryAfter: 1, limit: 50, remaining: 0, reset: 1 });
    expect(stub.requests).toHaveLength(2);
  });

  it('429 with a Retry-After beyond maxRetryDelay fails at once', async () => {
    stub = await startStub((req, res, s) => s.json(res, 429, { statusCode: 429, error: 'Too Many Requests', message: 'Rate limit exceeded. Please retry after 60 seconds.', code: 'RATE_LIMITED' }, { 'retry-after': '60' }));
    const c = new SmashSend('k', { baseUrl: stub.url });
    const err = (await c.events.send(event).catch((e: unknown) => e)) as RateLimitError;
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.retryAfter).toBe(60);
    expect(stub.requests).toHaveLength(1);
  });

  it('network errors are retried, then a NetworkError', async () => {
    stub = await startStub();
    const url = stub.url;
    await stub.stop();
    stub = undefined;
    const c = new SmashSend('k', { baseUrl: url, maxRetries: 2 });
    const err = await c.events.send(event).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toBe('network_error');
  });

  it('a slow server is a TimeoutError', async () => {
    stub = await startStub(async (req, res, s) => {
      await new Promise((r) => setTimeout(r, 500));
      s.json(res, 200, { success: true });
    });
    const c = new SmashSend('k', { baseUrl: stub.url, timeout: 100, maxRetries: 0 });
    await expect(c.events.send(event)).rejects.toBeInstanceOf(TimeoutError);
  });

  it('sendBatch resolves on 207 and throws the per-index errors on the all-failed 400', async () => {
    stub = await startStub((req, res, s) => s.acceptBatch(req, res, (e) => (String((e.identify as { email: string }).email).includes('@') ? undefined : 'INVALID_EMAIL')));
    const c = new SmashSend('k', { baseUrl: stub.url });
    const partial = await c.events.sendBatch([
      { ...event, messageId: 'a' },
      { ...event, identify: { email: 'nope' } },
    ]);
    expect(partial).toMatchObject({ accepted: 1, failed: 1, errors: [{ index: 1, errors: [{ code: 'INVALID_EMAIL' }] }] });
    const err = (await c.events.sendBatch([{ ...event, identify: { email: 'nope' } }]).catch((e: unknown) => e)) as APIError;
    expect(err).toBeInstanceOf(APIError);
    expect(err.code).toBe('ALL_EVENTS_FAILED');
    expect(err.errors).toEqual([{ index: 0, errors: [{ code: 'INVALID_EMAIL', message: 'bad: INVALID_EMAIL' }] }]);
    expect(err.body).toMatchObject({ accepted: 0, failed: 1 });
  });
});
