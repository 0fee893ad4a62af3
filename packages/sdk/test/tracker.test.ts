/**
 * The auto-batching tracker against a stub server that can fail on demand.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AuthenticationError, SmashSend, type EventPayload, type TrackFailure, type TrackerOptions } from '../src/index.js';
import { eventually } from '../../../src/testing/eventually.js';
import { startStub, type StubServer } from './support/stub-server.js';

let stub: StubServer | undefined;
let client: SmashSend | undefined;
afterEach(async () => {
  await client?.close({ timeout: 100 });
  client = undefined;
  await stub?.stop();
  stub = undefined;
});

function setup(options: TrackerOptions = {}) {
  const failures: TrackFailure[] = [];
  client = new SmashSend('sk_test', {
    baseUrl: stub!.url,
    tracker: { retryBaseDelay: 10, retryMaxDelay: 50, flushInterval: 60_000, onFailure: (f) => failures.push(f), ...options },
  });
  return { c: client, failures };
}

const ev = (i: number, extra: Partial<EventPayload> = {}): EventPayload => ({
  event: 'page.view',
  identify: { email: `user${i % 50}@example.com` },
  properties: { i },
  ...extra,
});

function sentEvents(s: StubServer): Array<Record<string, unknown>> {
  return s.batchRequests().flatMap((r) => (r.body as { events: Array<Record<string, unknown>> }).events);
}

describe('batching', () => {
  it('sends 450 events as 200 + 200 + 50, each with a client messageId and timestamp', async () => {
    stub = await startStub();
    const { c, failures } = setup();
    const ids = Array.from({ length: 450 }, (_, i) => c.events.track(ev(i)));
    expect(new Set(ids).size).toBe(450);
    await c.events.flush();
    expect(stub.batchRequests().map((r) => (r.body as { events: unknown[] }).events.length)).toEqual([200, 200, 50]);
    const sent = sentEvents(stub);
    expect(sent.map((e) => e.messageId)).toEqual(ids);
    expect(sent.every((e) => typeof e.timestamp === 'string' && !Number.isNaN(Date.parse(e.timestamp as string)))).toBe(true);
    expect(c.events.stats()).toMatchObject({ tracked: 450, delivered: 450, failed: 0, dropped: 0, queued: 0, inFlight: 0 });
    expect(failures).toEqual([]);
  });

  it('keeps a messageId and timestamp given by the caller', async () => {
    stub = await startStub();
    const { c } = setup();
    expect(c.events.track(ev(1, { messageId: 'order_1', timestamp: '2024-01-15T10:30:00Z' }))).toBe('order_1');
    await c.events.flush();
    expect(sentEvents(stub)[0]).toMatchObject({ messageId: 'order_1', timestamp: '2024-01-15T10:30:00Z' });
  });

  it('flushes at 200 events without waiting for the interval', async () => {
    stub = await startStub();
    const { c } = setup({ flushInterval: 60_000 });
    for (let i = 0; i < 250; i++) c.events.track(ev(i));
    await eventually(() => stub!.batchRequests().length === 1, { timeoutMs: 2_000 });
    await new Promise((r) => setTimeout(r, 100));
    expect(stub.batchRequests()).toHaveLength(1); // the 50 left wait for the interval
    expect(c.events.stats().queued).toBe(50);
  });

  it('flushes a partial batch when the interval passes', async () => {
    stub = await startStub();
    const { c } = setup({ flushInterval: 100 });
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) c.events.track(ev(i));
    await eventually(() => c.events.stats().delivered === 3, { timeoutMs: 2_000 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    expect(stub.batchRequests()).toHaveLength(1);
  });

  it('splits by body size: 200 events of 32,768 bytes cannot share one 6,553,600-byte body', async () => {
    stub = await startStub();
    const { c, failures } = setup();
    // 200 × 32,768 bytes + 13 bytes of envelope + 199 commas = 6,553,812 > 6,553,600.
    const maxed = (i: number) => {
      const base = { event: 'e', identify: { email: 'a@example.com' }, messageId: `m${String(i).padStart(3, '0')}`, timestamp: '2024-01-15T10:30:00.000Z', properties: { p: '' } };
      return { ...base, properties: { p: 'x'.repeat(32_768 - Buffer.byteLength(JSON.stringify(base))) } };
    };
    for (let i = 0; i < 200; i++) c.events.track(maxed(i));
    await c.events.flush();
    expect(failures).toEqual([]);
    const sizes = stub.batchRequests().map((r) => Buffer.byteLength(r.raw));
    expect(sizes).toEqual([13 + 199 * 32_768 + 198, 13 + 32_768]);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(6_553_600);
    expect(c.events.stats().delivered).toBe(200);
  });

  it('reports an event over 32,768 bytes as failed at once and never sends it', async () => {
    stub = await startStub();
    const { c, failures } = setup();
    const id = c.events.track(ev(1, { properties: { blob: 'y'.repeat(33_000) } }));
    expect(failures).toHaveLength(1); // synchronously, inside track()
    expect(failures[0]).toMatchObject({ reason: 'too_large', messageId: id, errors: [{ code: 'PAYLOAD_TOO_LARGE', message: 'Event payload exceeds 32KB limit' }] });
    c.events.track(ev(2));
    await c.events.flush();
    expect(sentEvents(stub)).toHaveLength(1);
    expect(c.events.stats()).toMatchObject({ tracked: 2, delivered: 1, failed: 1 });
  });

  it('an event of exactly 32,768 bytes is sent', async () => {
    stub = await startStub();
    const { c, failures } = setup();
    const base = { event: 'e', identify: { email: 'a@example.com' }, messageId: 'm', timestamp: '2024-01-15T10:30:00.000Z', properties: { p: '' } };
    const pad = 32_768 - Buffer.byteLength(JSON.stringify(base));
    c.events.track({ ...base, properties: { p: 'z'.repeat(pad) } });
    await c.events.flush();
    expect(failures).toEqual([]);
    expect(Buffer.byteLength(JSON.stringify(sentEvents(stub)[0]))).toBe(32_768);
  });

  it('never throws from track(), even for unserialisable input or a throwing callback', async () => {
    stub = await startStub();
    client = new SmashSend('k', {
      baseUrl: stub.url,
      tracker: {
        onFailure: () => {
          throw new Error('callback bug');
        },
      },
    });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => client!.events.track(ev(1, { properties: circular }))).not.toThrow();
    expect(() => client!.events.track(null as unknown as EventPayload)).not.toThrow();
    expect(() => client!.events.track(ev(2, { properties: { n: 10n as unknown as number } }))).not.toThrow();
    expect(client.events.stats()).toMatchObject({ tracked: 3, failed: 3 });
  });
});

describe('retries', () => {
  it('retries 5xx with the same messageIds; every event stored once', async () => {
    let n = 0;
    stub = await startStub((req, res, s) => (++n <= 3 ? s.json(res, 503, { statusCode: 503, error: 'Service Unavailable', message: 'down', code: 'SERVICE_UNAVAILABLE' }) : s.acceptBatch(req, res)));
    const { c, failures } = setup();
    const ids = Array.from({ length: 300 }, (_, i) => c.events.track(ev(i)));
    await c.events.flush();
    expect(failures).toEqual([]);
    expect([...stub.stored.keys()].sort()).toEqual([...ids].sort());
    expect(stub.batchRequests()[0]!.raw).toBe(stub.batchRequests()[3]!.raw);
    expect(c.events.stats()).toMatchObject({ delivered: 300, retries: 3 });
  });

  it('a lost response is resent and counted as a duplicate, not stored twice', async () => {
    let first = true;
    stub = await startStub((req, res, s) => {
      if (first) {
        first = false;
        s.acceptBatch(req, { writeHead: () => undefined, end: () => undefined } as never); // store, then…
        res.socket?.destroy(); // …lose the answer
        return;
      }
      s.acceptBatch(req, res);
    });
    const { c, failures } = setup();
    for (let i = 0; i < 10; i++) c.events.track(ev(i));
    await c.events.flush();
    expect(failures).toEqual([]);
    expect(stub.stored.size).toBe(10);
    expect(c.events.stats()).toMatchObject({ delivered: 10, duplicates: 10 });
  });

  it('backs off exponentially between failed attempts', async () => {
    const times: number[] = [];
    stub = await startStub((req, res, s) => {
      times.push(Date.now());
      if (times.length <= 4) s.json(res, 500, { statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error', code: 'INTERNAL_ERROR' });
      else s.acceptBatch(req, res);
    });
    const { c } = setup({ retryBaseDelay: 100, retryMaxDelay: 10_000 });
    c.events.track(ev(1));
    await c.events.flush();
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Equal jitter: retry n waits between 50% and 100% of 100 ms × 2^(n-1).
    [100, 200, 400, 800].forEach((full, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(full / 2 - 5);
      expect(gaps[i]).toBeLessThanOrEqual(full + 400); // slack for a loaded CI machine
    });
  });

  it('honours Retry-After on 429, and a 429 does not use up retries', async () => {
    const times: number[] = [];
    stub = await startStub((req, res, s) => {
      times.push(Date.now());
      if (times.length === 1) s.json(res, 429, { statusCode: 429, error: 'Too Many Requests', message: 'Rate limit exceeded. Please retry after 60 seconds.', code: 'RATE_LIMITED' }, { 'retry-after': '1' });
      else s.acceptBatch(req, res);
    });
    const { c, failures } = setup({ maxRetries: 0 });
    c.events.track(ev(1));
    await c.events.flush();
    expect(failures).toEqual([]);
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1_000);
  });

  it('gives up after maxRetries and reports retries_exhausted', async () => {
    stub = await startStub((req, res, s) => s.json(res, 502, { statusCode: 502, error: 'Bad Gateway', message: 'Bad Gateway', code: 'INTERNAL_ERROR' }));
    const { c, failures } = setup({ maxRetries: 2 });
    for (let i = 0; i < 5; i++) c.events.track(ev(i));
    await c.events.flush();
    expect(stub.batchRequests()).toHaveLength(3);
    expect(failures).toHaveLength(5);
    expect(failures[0]).toMatchObject({ reason: 'retries_exhausted', attempts: 3, statusCode: 502, errors: [{ code: 'INTERNAL_ERROR' }] });
  });

  it('never retries a 400 without items, reporting every event', async () => {
    stub = await startStub((req, res, s) => s.json(res, 400, { statusCode: 400, error: 'Bad Request', message: 'Unexpected end of JSON input', code: 'INVALID_JSON' }));
    const { c, failures } = setup();
    for (let i = 0; i < 3; i++) c.events.track(ev(i));
    await c.events.flush();
    expect(stub.batchRequests()).toHaveLength(1);
    expect(failures.map((f) => f.reason)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(failures[0]!.errors).toEqual([{ code: 'INVALID_JSON', message: 'Unexpected end of JSON input' }]);
  });

  it('401 fails the batch with an AuthenticationError, no retry', async () => {
    stub = await startStub((req, res, s) => s.json(res, 401, { statusCode: 401, error: 'Unauthorized', message: 'Invalid API key', code: 'INVALID_API_KEY' }));
    const { c, failures } = setup();
    c.events.track(ev(1));
    await c.events.flush();
    expect(stub.batchRequests()).toHaveLength(1);
    expect(failures[0]!.error).toBeInstanceOf(AuthenticationError);
    expect(failures[0]!.statusCode).toBe(401);
  });

  it('reports per-index failures of a 207 and of the all-failed 400', async () => {
    stub = await startStub((req, res, s) => s.acceptBatch(req, res, (e) => ((e.properties as { i: number }).i % 3 === 0 ? 'INVALID_EMAIL' : undefined)));
    const { c, failures } = setup();
    const ids = Array.from({ length: 9 }, (_, i) => c.events.track(ev(i)));
    await c.events.flush();
    expect(failures.map((f) => f.messageId)).toEqual([ids[0], ids[3], ids[6]]);
    expect(failures[0]).toMatchObject({ reason: 'rejected', statusCode: 207, errors: [{ code: 'INVALID_EMAIL' }] });
    c.events.track(ev(9));
    await c.events.flush();
    expect(failures[3]).toMatchObject({ reason: 'rejected', statusCode: 400, errors: [{ code: 'INVALID_EMAIL' }] });
    expect(c.events.stats()).toMatchObject({ delivered: 6, failed: 4 });
  });

  it('halves the batch body on a 413 from a smaller proxy limit', async () => {
    stub = await startStub((req, res, s) => (Buffer.byteLength(req.raw) > 100_000 ? s.json(res, 413, { statusCode: 413, error: 'Payload Too Large', message: 'too big', code: 'PAYLOAD_TOO_LARGE' }) : s.acceptBatch(req, res)));
    const { c, failures } = setup();
    for (let i = 0; i < 200; i++) c.events.track(ev(i, { properties: { pad: 'p'.repeat(900) } }));
    await c.events.flush();
    expect(failures).toEqual([]);
    expect(stub.stored.size).toBe(200);
  });

  it('survives an outage and a restart on the same port: all delivered, none twice', async () => {
    stub = await startStub();
    const { c, failures } = setup({ retryBaseDelay: 20, retryMaxDelay: 200 });
    const ids = Array.from({ length: 2_000 }, (_, i) => c.events.track(ev(i)));
    const flushed = c.events.flush();
    await eventually(() => stub!.batchRequests().length >= 3, { timeoutMs: 5_000, intervalMs: 1 });
    const stored = stub.stored;
    const port = stub.port;
    await stub.stop();
    await new Promise((r) => setTimeout(r, 300));
    const restarted = await startStub();
    await restarted.stop();
    restarted.stored.clear();
    for (const [k, v] of stored) restarted.stored.set(k, v);
    await restarted.start(port);
    stub = restarted;
    await flushed;
    expect(failures).toEqual([]);
    expect(stub.stored.size).toBe(2_000);
    expect(new Set(ids)).toEqual(new Set(stub.stored.keys()));
  });
});

describe('queue bound and drop policy', () => {
  it('drop-newest refuses new events when full and counts them', async () => {
    stub = await startStub();
    const { c, failures } = setup({ maxQueueSize: 10 });
    const ids = Array.from({ length: 15 }, (_, i) => c.events.track(ev(i)));
    expect(failures.map((f) => f.messageId)).toEqual(ids.slice(10));
    expect(failures[0]).toMatchObject({ reason: 'queue_full', errors: [{ code: 'QUEUE_FULL' }] });
    await c.events.flush();
    expect(sentEvents(stub).map((e) => e.messageId)).toEqual(ids.slice(0, 10));
    expect(c.events.stats()).toMatchObject({ tracked: 15, delivered: 10, dropped: 5, failed: 0 });
  });

  it('drop-oldest evicts the oldest waiting events instead', async () => {
    stub = await startStub();
    const { c, failures } = setup({ maxQueueSize: 10, dropPolicy: 'drop-oldest' });
    const ids = Array.from({ length: 15 }, (_, i) => c.events.track(ev(i)));
    expect(failures.map((f) => f.messageId)).toEqual(ids.slice(0, 5));
    await c.events.flush();
    expect(sentEvents(stub).map((e) => e.messageId)).toEqual(ids.slice(5));
    expect(c.events.stats()).toMatchObject({ delivered: 10, dropped: 5 });
  });

  it('drop-oldest never evicts an event in flight', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    stub = await startStub(async (req, res, s) => {
      await gate;
      s.acceptBatch(req, res);
    });
    const { c, failures } = setup({ maxQueueSize: 200, dropPolicy: 'drop-oldest' });
    const ids = Array.from({ length: 200 }, (_, i) => c.events.track(ev(i)));
    await eventually(() => c.events.stats().inFlight === 200, { timeoutMs: 2_000 });
    const extra = c.events.track(ev(200)); // queue full of in-flight events: the new one is refused
    expect(failures.map((f) => f.messageId)).toEqual([extra]);
    release();
    await c.events.flush();
    expect(stub.stored.size).toBe(200);
    expect([...stub.stored.keys()]).toEqual(ids);
  });

  it('bounds the queue by bytes too', async () => {
    stub = await startStub();
    const { c, failures } = setup({ maxQueueBytes: 40_000 });
    c.events.track(ev(1, { properties: { p: 'a'.repeat(30_000) } }));
    c.events.track(ev(2, { properties: { p: 'b'.repeat(20_000) } }));
    c.events.track(ev(3));
    expect(failures.map((f) => f.reason)).toEqual(['queue_full']);
    await c.events.flush();
    expect(c.events.stats()).toMatchObject({ delivered: 2, dropped: 1 });
  });
});

describe('flush and close', () => {
  it('flush() resolves at once when nothing is queued, and only for events tracked before it', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    stub = await startStub(async (req, res, s) => {
      await gate;
      s.acceptBatch(req, res);
    });
    const { c } = setup();
    await c.events.flush();
    c.events.track(ev(1));
    let done = false;
    const f = c.events.flush().then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    release();
    await f;
    expect(c.events.stats().delivered).toBe(1);
  });

  it('close() during an outage ends within its timeout and reports what it could not deliver', async () => {
    stub = await startStub();
    const url = stub.url;
    await stub.stop();
    stub = undefined;
    const failures: TrackFailure[] = [];
    client = new SmashSend('k', { baseUrl: url, tracker: { retryBaseDelay: 50, retryMaxDelay: 200, onFailure: (f) => failures.push(f) } });
    const ids = Array.from({ length: 500 }, (_, i) => client!.events.track(ev(i)));
    const t0 = Date.now();
    const result = await client.events.close({ timeout: 700 });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(690);
    expect(took).toBeLessThan(1_200);
    expect(result.timedOut).toBe(true);
    expect(result.undelivered.map((f) => f.messageId)).toEqual(ids);
    expect(result.undelivered.every((f) => f.reason === 'closed' && f.errors[0]!.code === 'CLOSE_TIMEOUT')).toBe(true);
    expect(failures).toHaveLength(500);
    expect(result.stats).toMatchObject({ tracked: 500, delivered: 0, failed: 500, queued: 0, inFlight: 0 });
    // After close: new events are refused, flush resolves at once.
    client.events.track(ev(1));
    expect(failures.at(-1)).toMatchObject({ reason: 'closed', errors: [{ code: 'TRACKER_CLOSED' }] });
    await client.events.flush();
  });

  it('close() aborts a request that hangs past the timeout', async () => {
    stub = await startStub(() => new Promise<void>(() => undefined)); // never answers
    const { c } = setup({ flushInterval: 0 });
    c.events.track(ev(1));
    await eventually(() => c.events.stats().inFlight === 1, { timeoutMs: 2_000 });
    const t0 = Date.now();
    const result = await c.events.close({ timeout: 300 });
    expect(Date.now() - t0).toBeLessThan(600);
    expect(result).toMatchObject({ timedOut: true, stats: { failed: 1, inFlight: 0 } });
  });

  it('close() delivers everything when the server is up, and is idempotent', async () => {
    stub = await startStub();
    const { c } = setup();
    for (let i = 0; i < 250; i++) c.events.track(ev(i));
    const result = await c.close({ timeout: 5_000 });
    expect(result).toMatchObject({ timedOut: false, undelivered: [], stats: { delivered: 250 } });
    expect(await c.close()).toBe(result);
  });
});
