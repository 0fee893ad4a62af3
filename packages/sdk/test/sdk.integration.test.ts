/**
 * The SDK against the real server (`node bin/smashsend.js serve` on a fresh SQLite file), call by
 * call, plus the tracker through a server stop/restart and a kill -9, and close() during an outage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../../src/testing/eventually.js';
import { startServerProcess, type ServerProcess } from '../../../src/testing/server-process.js';
import {
  APIError,
  AuthenticationError,
  RateLimitError,
  SMASHSEND,
  SmashSend,
  type EventPayload,
  type FetchLike,
  type StoredEvent,
  type TrackFailure,
} from '../src/index.js';

/** Limits high enough that only the rate-limit test meets them. */
const HIGH_LIMITS = {
  RATE_LIMIT_SINGLE_PER_MIN: '100000',
  RATE_LIMIT_BATCH_PER_MIN: '100000',
  RATE_LIMIT_API_PER_MIN: '100000',
};

const poll = <T>(fn: () => Promise<T | undefined>, timeoutMs = 15_000, intervalMs = 50) => eventually(fn, { timeoutMs, intervalMs });

/** Every stored event of the workspace, by paging GET /v1/events with the SDK. */
async function allStoredEvents(client: SmashSend, params: { email?: string; event?: string } = {}): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  let cursor: string | undefined;
  for (;;) {
    const { events } = await client.events.list({ ...params, limit: 1000, ...(cursor ? { cursor } : {}) });
    out.push(...events.items);
    if (!events.hasMore || !events.cursor) return out;
    cursor = events.cursor;
  }
}

describe('SDK surface against the real server', () => {
  let server: ServerProcess;
  let smashsend: SmashSend;

  beforeAll(async () => {
    server = await startServerProcess({ env: HIGH_LIMITS });
    smashsend = new SmashSend(server.key, { baseUrl: server.url });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('runs the source document examples unchanged, with new SMASHSEND({ apiKey })', async () => {
    const smashsend = new SMASHSEND({ apiKey: server.key, baseUrl: server.url });

    const response = await smashsend.events.send({
      event: 'user.signup',
      identify: { email: 'user@example.com' },
      properties: { plan: 'premium', source: 'website', referrer: 'google' },
    });
    expect(response).toMatchObject({ success: true, info: 'Event queued for processing' });
    expect(response.messageId).toMatch(/^msg_/);

    await smashsend.events.send({
      event: 'purchase.completed',
      identify: {
        email: 'customer@example.com',
        traits: { firstName: 'John', lastName: 'Doe', company: 'ACME Corp', isCustomer: true },
      },
      properties: { orderId: 'order_12345', amount: 99.99, currency: 'USD', items: ['product_1', 'product_2'] },
    });

    const custom = await smashsend.events.send({
      event: 'subscription.renewed',
      identify: { email: 'user@example.com' },
      properties: { subscriptionId: 'sub_xyz' },
      messageId: 'renewal_2024_01_15_sub_xyz',
    });
    expect(custom.messageId).toBe('renewal_2024_01_15_sub_xyz');

    await smashsend.events.send({
      event: 'video.watched',
      identify: { email: 'viewer@example.com' },
      properties: { videoId: 'vid_123', duration: 325, completed: true },
      timestamp: '2024-01-15T10:30:00Z',
    });

    const events = [
      { event: 'page.view', identify: { email: 'user1@example.com' }, properties: { page: '/home', referrer: 'google' } },
      { event: 'button.click', identify: { email: 'user2@example.com' }, properties: { button: 'cta', location: 'hero' } },
      {
        event: 'form.submitted',
        identify: { email: 'user3@example.com', traits: { firstName: 'Jane', lastName: 'Smith' } },
        properties: { formId: 'contact_us', fields: 5 },
      },
    ];
    const result = await smashsend.events.sendBatch(events);
    expect(result).toMatchObject({ accepted: 3, failed: 0, duplicated: 0, errors: [] });
    expect(result.events.map((e) => [e.index, e.status])).toEqual([
      [0, 'accepted'],
      [1, 'accepted'],
      [2, 'accepted'],
    ]);

    // The same send again is a duplicate (content-based messageId), and still succeeds.
    const again = await smashsend.events.send({
      event: 'subscription.renewed',
      identify: { email: 'user@example.com' },
      properties: { subscriptionId: 'sub_xyz' },
      messageId: 'renewal_2024_01_15_sub_xyz',
    });
    expect(again).toMatchObject({ success: true, messageId: 'renewal_2024_01_15_sub_xyz', duplicate: true });
    const batchAgain = await smashsend.events.sendBatch(events);
    expect(batchAgain).toMatchObject({ accepted: 0, duplicated: 3 });

    // Traits sync: the contact exists with the traits once processed.
    const contact = await poll(async () => (await smashsend.contacts.search('customer@example.com')) ?? undefined);
    await poll(async () => {
      const c = await smashsend.contacts.search('customer@example.com');
      return c?.properties.firstName === 'John' ? c : undefined;
    });
    expect(contact.properties.email).toBe('customer@example.com');
  });

  it('events.get and events.list read back what was sent', async () => {
    const email = 'reader@example.com';
    const sent = await smashsend.events.send({
      event: 'article.viewed',
      identify: { email: 'Reader@Example.com', traits: { firstName: 'Rita' } },
      properties: { articleId: 'blog_post_42' },
      timestamp: '2024-03-01T12:00:00Z',
      messageId: 'read_1',
    });
    await smashsend.events.send({ event: 'article.viewed', identify: { email }, properties: { articleId: 'b' }, timestamp: '2024-03-02T12:00:00Z', messageId: 'read_2' });
    await smashsend.events.send({ event: 'article.shared', identify: { email }, timestamp: '2024-03-03T12:00:00Z', messageId: 'read_3' });

    const stored = await smashsend.events.get(sent.messageId);
    expect(stored).toMatchObject({
      messageId: 'read_1',
      event: 'article.viewed',
      email,
      properties: { articleId: 'blog_post_42' },
      traits: { firstName: 'Rita' },
      timestamp: '2024-03-01T12:00:00.000Z',
    });
    expect(['queued', 'processed', 'failed']).toContain(stored.status);
    expect(Date.parse(stored.receivedAt)).not.toBeNaN();
    const processed = await poll(async () => {
      const e = await smashsend.events.get('read_1');
      return e.status === 'processed' ? e : undefined;
    });
    expect(processed.contactId).toBeTruthy();

    const all = await smashsend.events.list({ email });
    expect(all.events.items.map((e) => e.messageId)).toEqual(['read_3', 'read_2', 'read_1']);
    const viewed = await smashsend.events.list({ email, event: 'article.viewed' });
    expect(viewed.events.items.map((e) => e.messageId)).toEqual(['read_2', 'read_1']);
    const window = await smashsend.events.list({ email, since: new Date('2024-03-02T12:00:00Z'), until: '2024-03-03T12:00:00Z' });
    expect(window.events.items.map((e) => e.messageId)).toEqual(['read_2']);
    const page1 = await smashsend.events.list({ email, limit: 2 });
    expect(page1.events.hasMore).toBe(true);
    const page2 = await smashsend.events.list({ email, limit: 2, cursor: page1.events.cursor! });
    expect([...page1.events.items, ...page2.events.items].map((e) => e.messageId)).toEqual(['read_3', 'read_2', 'read_1']);
    expect(page2.events.hasMore).toBe(false);

    const missing = (await smashsend.events.get('no_such_message').catch((e: unknown) => e)) as APIError;
    expect(missing).toBeInstanceOf(APIError);
    expect(missing).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    expect(missing.requestId).toBeTruthy();
  });

  it('contacts: create, upsert, search, get, update, list, delete, deleteByEmail', async () => {
    const created = await smashsend.contacts.create({
      email: 'Jane.Doe@Example.com',
      firstName: 'Jane',
      lastName: 'Doe',
      city: 'Lisbon',
      customProperties: { company: 'ACME Corp', seats: 5 },
    });
    expect(created).toMatchObject({
      properties: { email: 'jane.doe@example.com', firstName: 'Jane', lastName: 'Doe', city: 'Lisbon', company: 'ACME Corp', seats: 5, status: 'SUBSCRIBED' },
    });
    expect(created.id).toBeTruthy();
    expect(created.workspaceId).toBeTruthy();
    expect(Date.parse(created.createdAt)).not.toBeNaN();

    const upserted = await smashsend.contacts.upsert({ email: 'jane.doe@example.com', lastName: 'Smith' });
    expect(upserted.id).toBe(created.id);
    expect(upserted.properties).toMatchObject({ firstName: 'Jane', lastName: 'Smith', company: 'ACME Corp' });
    const createdAgain = await smashsend.contacts.create({ email: 'JANE.DOE@example.com', phone: '+351000000' });
    expect(createdAgain.id).toBe(created.id);

    expect((await smashsend.contacts.search('JANE.doe@example.com'))?.id).toBe(created.id);
    expect(await smashsend.contacts.search('nobody@example.com')).toBeNull();

    const got = await smashsend.contacts.get(created.id);
    expect(got).toMatchObject({ id: created.id, properties: { email: 'jane.doe@example.com', phone: '+351000000' } });

    const updated = await smashsend.contacts.update(created.id, { city: null, status: 'UNSUBSCRIBED', customProperties: { seats: 6 } });
    expect(updated.properties).toMatchObject({ status: 'UNSUBSCRIBED', seats: 6, firstName: 'Jane' });
    expect(updated.properties.city ?? null).toBeNull();

    const second = await smashsend.contacts.create({ email: 'john.roe@example.com', firstName: 'John' });
    const third = await smashsend.contacts.create({ email: 'jim.poe@example.com', firstName: 'Jim' });
    const page1 = await smashsend.contacts.list({ limit: 2, search: 'oe@example.com' });
    expect(page1.contacts.items.map((c) => c.id)).toEqual([third.id, second.id]);
    expect(page1.contacts.hasMore).toBe(true);
    const page2 = await smashsend.contacts.list({ limit: 2, search: 'oe@example.com', cursor: page1.contacts.cursor! });
    expect(page2.contacts.items.map((c) => c.id)).toEqual([created.id]);
    const asc = await smashsend.contacts.list({ search: 'oe@example.com', sort: 'createdAt.asc' });
    expect(asc.contacts.items.map((c) => c.id)).toEqual([created.id, second.id, third.id]);
    const unsub = await smashsend.contacts.list({ search: 'oe@example.com', status: 'UNSUBSCRIBED' });
    expect(unsub.contacts.items.map((c) => c.id)).toEqual([created.id]);

    const deleted = await smashsend.contacts.delete(second.id);
    expect(deleted).toMatchObject({ isDeleted: true, contact: { id: second.id } });
    const gone = (await smashsend.contacts.get(second.id).catch((e: unknown) => e)) as APIError;
    expect(gone).toBeInstanceOf(APIError);
    expect(gone).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });

    const byEmail = await smashsend.contacts.deleteByEmail('Jim.Poe@example.com');
    expect(byEmail).toMatchObject({ isDeleted: true, contact: { id: third.id } });
    expect(await smashsend.contacts.search('jim.poe@example.com')).toBeNull();

    await smashsend.contacts.create({ email: 'taken@example.com' });
    const conflict = (await smashsend.contacts.update(created.id, { email: 'taken@example.com' }).catch((e: unknown) => e)) as APIError;
    expect(conflict).toBeInstanceOf(APIError);
    expect(conflict.statusCode).toBe(409);
    const moved = await smashsend.contacts.update(created.id, { email: 'Jane.Moved@example.com' });
    expect(moved).toMatchObject({ id: created.id, properties: { email: 'jane.moved@example.com' } });
  });

  it('a batch with invalid items: 207 surfaced per index; all invalid: APIError with per-index errors', async () => {
    const result = await smashsend.events.sendBatch([
      { event: 'ok.one', identify: { email: 'a@example.com' }, messageId: 'b207_0' },
      { event: 'bad name!', identify: { email: 'a@example.com' } },
      { event: 'ok.two', identify: { email: 'not-an-email' } },
      { event: 'ok.three', identify: { email: 'b@example.com' }, properties: { a: { b: { c: { d: 1 } } } } },
      { event: 'ok.four', identify: { email: 'b@example.com' }, messageId: 'b207_4' },
    ]);
    expect(result).toMatchObject({ accepted: 2, failed: 3, duplicated: 0 });
    expect(result.events.map((e) => [e.index, e.messageId, e.status])).toEqual([
      [0, 'b207_0', 'accepted'],
      [4, 'b207_4', 'accepted'],
    ]);
    expect(result.errors.map((e) => [e.index, e.errors[0]!.code])).toEqual([
      [1, 'INVALID_EVENT_NAME'],
      [2, 'INVALID_EMAIL'],
      [3, 'PROPERTIES_TOO_DEEP'],
    ]);
    expect(result.errors[1]!.errors[0]!.message).toBe('Invalid email format');

    const err = (await smashsend.events
      .sendBatch([
        { event: '', identify: { email: 'a@example.com' } },
        { event: 'x', identify: { email: 'nope' } },
      ])
      .catch((e: unknown) => e)) as APIError;
    expect(err).toBeInstanceOf(APIError);
    expect(err).toMatchObject({ statusCode: 400, status: 400, code: 'ALL_EVENTS_FAILED' });
    expect(err.requestId).toBeTruthy();
    expect(err.errors.map((e) => [e.index, e.errors[0]!.code])).toEqual([
      [0, 'MISSING_EVENT_NAME'],
      [1, 'INVALID_EMAIL'],
    ]);
    expect(err.body).toMatchObject({ accepted: 0, failed: 2, duplicated: 0, events: [] });

    const tooMany = (await smashsend.events
      .sendBatch(Array.from({ length: 201 }, (_, i) => ({ event: 'x', identify: { email: `u${i}@example.com` } })))
      .catch((e: unknown) => e)) as APIError;
    expect(tooMany).toBeInstanceOf(APIError);
    expect(tooMany.message).toBe('Batch cannot exceed 200 events');

    const single = (await smashsend.events.send({ event: 'x'.repeat(61), identify: { email: 'a@example.com' } }).catch((e: unknown) => e)) as APIError;
    expect(single).toBeInstanceOf(APIError);
    expect(single).toMatchObject({ statusCode: 400, code: 'EVENT_NAME_TOO_LONG', message: 'Event name cannot exceed 60 characters' });

    const big = (await smashsend.events.send({ event: 'x', identify: { email: 'a@example.com' }, properties: { p: 'y'.repeat(40_000) } }).catch((e: unknown) => e)) as APIError;
    expect(big).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE', message: 'Event payload exceeds 32KB limit' });
  });

  it('401 is an AuthenticationError with code and request id, for every resource', async () => {
    const bad = new SmashSend('sk_live_not_a_real_key', { baseUrl: server.url });
    for (const call of [
      () => bad.events.send({ event: 'x', identify: { email: 'a@example.com' } }),
      () => bad.events.sendBatch([{ event: 'x', identify: { email: 'a@example.com' } }]),
      () => bad.contacts.list(),
      () => bad.events.list(),
    ]) {
      const err = (await call().catch((e: unknown) => e)) as AuthenticationError;
      expect(err).toBeInstanceOf(AuthenticationError);
      expect(err).toMatchObject({ statusCode: 401, code: 'INVALID_API_KEY', message: 'Invalid API key' });
      expect(err.requestId).toBeTruthy();
    }
  });

  it('a revoked key is refused', async () => {
    const key = server.createKey('default', 'to-revoke');
    const c = new SmashSend(key, { baseUrl: server.url });
    await c.contacts.list();
    const r = server.cli(['keys', 'revoke', key]);
    expect(r.status).toBe(0);
    await poll(async () => ((await c.contacts.list().catch((e: unknown) => e)) instanceof AuthenticationError ? true : undefined), 10_000, 200);
  });

  it('the tracker delivers to the real server, reporting invalid items per event', async () => {
    const failures: TrackFailure[] = [];
    const c = new SmashSend(server.key, { baseUrl: server.url, tracker: { flushInterval: 50, onFailure: (f) => failures.push(f) } });
    const good = c.events.track({ event: 'tracked.ok', identify: { email: 'track@example.com' }, properties: { n: 1 } });
    const bad = c.events.track({ event: 'tracked bad', identify: { email: 'track@example.com' } });
    const huge = c.events.track({ event: 'tracked.huge', identify: { email: 'track@example.com' }, properties: { p: 'z'.repeat(33_000) } });
    await c.events.flush();
    expect(failures.map((f) => [f.messageId, f.reason, f.errors[0]!.code])).toEqual([
      [huge, 'too_large', 'PAYLOAD_TOO_LARGE'],
      [bad, 'rejected', 'INVALID_EVENT_NAME'],
    ]);
    expect(await c.events.get(good)).toMatchObject({ event: 'tracked.ok', properties: { n: 1 } });
    const result = await c.close();
    expect(result).toMatchObject({ timedOut: false, stats: { tracked: 3, delivered: 1, failed: 2 } });
  });
});

describe('rate limits against the real server', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({ env: { RATE_LIMIT_SINGLE_PER_MIN: '2', RATE_LIMIT_BATCH_PER_MIN: '1', RATE_LIMIT_API_PER_MIN: '100000' } });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('429 is a RateLimitError with Retry-After and the X-RateLimit headers', async () => {
    const c = new SmashSend(server.key, { baseUrl: server.url, maxRetries: 0 });
    const e = (i: number): EventPayload => ({ event: 'rl.test', identify: { email: `rl${i}@example.com` } });
    await c.events.send(e(1));
    await c.events.send(e(2));
    const err = (await c.events.send(e(3)).catch((x: unknown) => x)) as RateLimitError;
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED', message: 'Rate limit exceeded. Please retry after 60 seconds.', limit: 2, remaining: 0 });
    expect(err.retryAfter).toBeGreaterThan(0);
    expect(err.retryAfter).toBeLessThanOrEqual(60);
    expect(err.requestId).toBeTruthy();

    await c.events.sendBatch([e(4)]);
    const batchErr = await c.events.sendBatch([e(5)]).catch((x: unknown) => x);
    expect(batchErr).toBeInstanceOf(RateLimitError);
    // A refused request stores nothing.
    const missing = await c.events.list({ email: 'rl5@example.com' });
    expect(missing.events.items).toEqual([]);
  });

  it('with retries left, a 429 whose Retry-After exceeds maxRetryDelay fails at once', async () => {
    const c = new SmashSend(server.key, { baseUrl: server.url, maxRetries: 3, maxRetryDelay: 0 });
    const t0 = Date.now();
    await expect(c.events.send({ event: 'rl.test', identify: { email: 'rl9@example.com' } })).rejects.toBeInstanceOf(RateLimitError);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});

describe('tracker through outages of the real server', () => {
  let server: ServerProcess;
  /** Stops and restarts started by a test; awaited before disposal so no server outlives the file. */
  const background: Promise<unknown>[] = [];
  beforeAll(async () => {
    server = await startServerProcess({ env: HIGH_LIMITS });
  });
  afterAll(async () => {
    while (background.length > 0) await background.shift()!.catch(() => undefined);
    await server?.dispose();
  });

  it('10,000 events while the server is stopped, restarted and killed mid-flush: each stored exactly once', async () => {
    let batchCalls = 0;
    let up = true;
    const outages: string[] = [];
    const restartLater = (ms: number) =>
      background.push(
        new Promise((r) => setTimeout(r, ms))
          .then(() => server.restart())
          .then(() => {
            up = true;
          }),
      );
    // Drives the outages from inside the flush, at fixed points of the request sequence.
    const fetchWithOutages: FetchLike = async (input, init) => {
      if (input.endsWith('/v1/events/batch')) {
        batchCalls++;
        if (outages.length === 0 && batchCalls >= 8) {
          // Graceful stop (SIGTERM) before this request: it meets a closed port. Restart 1 s later.
          outages.push('stop');
          up = false;
          await server.stop();
          restartLater(1_000);
        } else if (outages.length === 1 && up && batchCalls >= 30) {
          // kill -9 while this request is in flight: the server may or may not have stored the batch.
          outages.push('kill9');
          up = false;
          const response = fetch(input, init);
          background.push(
            new Promise((r) => setTimeout(r, 3))
              .then(() => server.kill9())
              .then(() => restartLater(500)),
          );
          return response;
        }
      }
      return fetch(input, init);
    };

    const failures: TrackFailure[] = [];
    const errors: string[] = [];
    const client = new SmashSend(server.key, {
      baseUrl: server.url,
      fetch: fetchWithOutages,
      tracker: {
        flushInterval: 50,
        retryBaseDelay: 100,
        retryMaxDelay: 1_000,
        maxRetries: 100,
        onFailure: (f) => failures.push(f),
        onError: (e) => errors.push(e.code),
      },
    });

    const ids: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      ids.push(client.events.track({ event: 'load.test', identify: { email: `load${i % 100}@example.com` }, properties: { i } }));
    }
    expect(client.events.stats()).toMatchObject({ tracked: 10_000, queued: 10_000 });
    await client.events.flush();
    while (background.length > 0) await background.shift();

    expect(outages).toEqual(['stop', 'kill9']);
    expect(errors.length).toBeGreaterThan(0); // the outages were seen…
    expect(failures).toEqual([]); // …and nothing was lost
    const stats = client.events.stats();
    expect(stats).toMatchObject({ tracked: 10_000, delivered: 10_000, failed: 0, dropped: 0, queued: 0, inFlight: 0 });
    expect(stats.retries).toBeGreaterThan(0);

    const reader = new SmashSend(server.key, { baseUrl: server.url });
    const stored = await allStoredEvents(reader, { event: 'load.test' });
    const storedIds = stored.map((e) => e.messageId);
    expect(storedIds.length).toBe(10_000); // none duplicated…
    expect(new Set(storedIds).size).toBe(10_000);
    expect(new Set(storedIds)).toEqual(new Set(ids)); // …none lost
    const values = new Set(stored.map((e) => (e.properties as { i: number }).i));
    expect(values.size).toBe(10_000);
    await client.close();
  }, 180_000);

  it('close() during an outage ends within its timeout and reports what it could not deliver', async () => {
    const failures: TrackFailure[] = [];
    const client = new SmashSend(server.key, {
      baseUrl: server.url,
      tracker: { flushInterval: 20, retryBaseDelay: 100, retryMaxDelay: 500, onFailure: (f) => failures.push(f) },
    });
    const delivered = Array.from({ length: 300 }, (_, i) =>
      client.events.track({ event: 'outage.test', identify: { email: 'outage@example.com' }, properties: { i } }),
    );
    await client.events.flush();
    expect(client.events.stats().delivered).toBe(300);

    await server.stop();
    const pending = Array.from({ length: 700 }, (_, i) =>
      client.events.track({ event: 'outage.test', identify: { email: 'outage@example.com' }, properties: { i: 300 + i } }),
    );
    const t0 = Date.now();
    const result = await client.events.close({ timeout: 1_500 });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(1_450);
    expect(took).toBeLessThan(2_000); // the 1,500 ms timeout plus scheduling slack
    expect(result.timedOut).toBe(true);
    expect(result.undelivered.map((f) => f.messageId)).toEqual(pending);
    expect(result.undelivered.every((f) => f.reason === 'closed')).toBe(true);
    expect(failures.map((f) => f.messageId)).toEqual(pending);
    expect(result.stats).toMatchObject({ tracked: 1_000, delivered: 300, failed: 700, queued: 0, inFlight: 0 });

    // The reported events carry their messageIds, so the application can resend them later safely.
    await server.restart();
    const reader = new SmashSend(server.key, { baseUrl: server.url });
    expect((await allStoredEvents(reader, { email: 'outage@example.com' })).length).toBe(300);
    const undeliveredEvents = result.undelivered.map((f) => f.event);
    for (let i = 0; i < undeliveredEvents.length; i += 200) {
      const r = await reader.events.sendBatch(undeliveredEvents.slice(i, i + 200));
      expect(r.failed).toBe(0);
    }
    const finalIds = (await allStoredEvents(reader, { email: 'outage@example.com' })).map((e) => e.messageId);
    expect(new Set(finalIds)).toEqual(new Set([...delivered, ...pending]));
    expect(finalIds.length).toBe(1_000);
  }, 60_000);
});
