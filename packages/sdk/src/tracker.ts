/**
 * The auto-batching tracker behind `events.track()`.
 *
 * Lifecycle of one event: `track()` snapshots it to compact JSON (adding a client messageId and
 * the time of the call as `timestamp` when absent) and queues it. The queue is sent as
 * `POST /v1/events/batch` bodies of at most 200 events and 6,553,600 bytes, one request at a time
 * by default. Every queued event ends in exactly one of three states, counted in `stats()`:
 *
 *  - delivered: the server listed it as `accepted` or `duplicate` (so it is stored exactly once);
 *  - failed: rejected by the server (per-index errors, 401, other 4xx), over 32,768 bytes, retries
 *    exhausted, or abandoned by `close()` at its timeout; reported through `onFailure`;
 *  - dropped: refused by the full queue (see `dropPolicy`); also reported through `onFailure`.
 *
 * Because every event carries its own messageId from the moment it is queued, resending a batch
 * whose response was lost (server killed mid-request, timeout) can never store an event twice:
 * the server answers `duplicate` for the ones it already has.
 */
import { NetworkError, SmashSendError, type ItemErrorDetail } from './errors.js';
import { computeBackoff, errorFromResponse, isRetryableStatus, parseRetryAfter, type HttpClient, type HttpResult } from './http.js';
import type { EventPayload } from './types.js';

/** Server limits the tracker plans around (SPEC.md "size" and "batch"). */
export const TRACKER_LIMITS = {
  /** Largest event, as compact JSON in UTF-8 bytes; a bigger one can never be accepted. */
  maxEventBytes: 32_768,
  /** Largest batch body in bytes. */
  maxBatchBytes: 6_553_600,
  /** Most events in one batch. */
  maxBatchEvents: 200,
} as const;

/** Bytes of a batch body around its items: `{"events":[` and `]}`. */
const BATCH_ENVELOPE_BYTES = '{"events":['.length + ']}'.length;

/** A Retry-After longer than this is treated as this (a misconfigured proxy must not park the queue for a day). */
const MAX_HONOURED_RETRY_AFTER_MS = 10 * 60_000;

export type DropPolicy = 'drop-newest' | 'drop-oldest';

export type TrackFailureReason =
  /** Not an object, or not serialisable to JSON (circular, BigInt). */
  | 'invalid'
  /** Over 32,768 bytes of compact JSON: the server would refuse it whatever happens. */
  | 'too_large'
  /** The server refused it: per-index validation errors, 401, or another non-retryable 4xx. */
  | 'rejected'
  /** Refused or evicted by the full queue (counted in `stats().dropped`). */
  | 'queue_full'
  /** 5xx / network / timeout more than `maxRetries` times. */
  | 'retries_exhausted'
  /** Tracked after `close()`, or still undelivered when `close()` timed out. */
  | 'closed';

/** One event the tracker gave up on. */
export interface TrackFailure {
  reason: TrackFailureReason;
  messageId: string;
  /** The event as queued (with its messageId and timestamp). */
  event: EventPayload;
  /** The server's per-item errors, or one SDK-made `{code, message}`. */
  errors: ItemErrorDetail[];
  /** HTTP status of the last response about it, if any. */
  statusCode?: number;
  /** Batch requests that carried it. */
  attempts: number;
  /** The last request error, if the failure came from one. */
  error?: SmashSendError;
}

export interface TrackerStats {
  /** Events passed to `track()`. */
  tracked: number;
  /** Waiting to be sent (including ones waiting for a retry). */
  queued: number;
  /** In a batch request that has not answered yet. */
  inFlight: number;
  /** Acknowledged by the server: accepted + duplicate. */
  delivered: number;
  /** Of `delivered`, the ones the server already had (a retried batch whose first answer was lost). */
  duplicates: number;
  /** Definitively failed (see TrackFailureReason), not counting drops. */
  failed: number;
  /** Dropped by the queue bound. */
  dropped: number;
  /** Batch requests made. */
  requests: number;
  /** Batch requests that failed retryably and were scheduled again. */
  retries: number;
}

export interface TrackerOptions {
  /** Events per batch; flush as soon as this many wait. Default and maximum 200. */
  flushAt?: number;
  /**
   * Longest time in ms an event waits before its batch is sent. Default 5,000: with the server's
   * default batch limit of 50 requests/minute, a trickle flushed every second would need 60
   * requests/minute and be rate limited; every 5 s needs 12. Under load batches fill to 200 first.
   */
  flushInterval?: number;
  /** Most events held (waiting + in flight). Default 50,000. */
  maxQueueSize?: number;
  /** Most bytes of event JSON held (waiting + in flight). Default 64 MiB. */
  maxQueueBytes?: number;
  /**
   * What to do when a new event would exceed `maxQueueSize` or `maxQueueBytes`.
   * `drop-newest` (default): refuse the new event. `drop-oldest`: evict the oldest waiting events
   * (never one in flight) to make room. Either way each dropped event is counted in
   * `stats().dropped` and reported to `onFailure` with reason `queue_full`.
   */
  dropPolicy?: DropPolicy;
  /** Retries of an event after 5xx/408/network/timeout failures; then it fails. Default 10. 429s are not counted. */
  maxRetries?: number;
  /** First retry delay in ms (doubles each consecutive failure, with jitter). Default 500. */
  retryBaseDelay?: number;
  /** Longest retry delay in ms. Default 30,000. */
  retryMaxDelay?: number;
  /** Batch requests in flight at once. Default 1 (keeps the batch rate limit and event order predictable). */
  concurrency?: number;
  /** Per-request timeout in ms. Default: the client's `timeout`. */
  timeout?: number;
  /** Default timeout of `close()` in ms. Default 10,000. */
  closeTimeout?: number;
  /** Called once per event the tracker gives up on. Exceptions it throws are swallowed. */
  onFailure?: (failure: TrackFailure) => void;
  /** Called for every failed batch request (retryable or not), for logging. Exceptions are swallowed. */
  onError?: (error: SmashSendError) => void;
}

export interface CloseOptions {
  /** Give up after this many ms, reporting what is still undelivered. Default `closeTimeout` (10,000). */
  timeout?: number;
}

export interface CloseResult {
  /** True when the timeout ended the close before everything was acknowledged. */
  timedOut: boolean;
  /** Every event that failed while close() ran, including those abandoned at the timeout (reason `closed`). */
  undelivered: TrackFailure[];
  stats: TrackerStats;
}

interface Entry {
  seq: number;
  messageId: string;
  event: EventPayload;
  json: string;
  bytes: number;
  enqueuedAt: number;
  attempts: number;
  /** Retryable failures (429 excluded) of requests that carried it. */
  failures: number;
}

interface Batch {
  entries: Entry[];
  bodyBytes: number;
  cancelled: boolean;
}

/**
 * UTF-8 length of a string without allocating (JSON.stringify output has no lone surrogates).
 *
 * @example
 * ```ts
 * utf8ByteLength(JSON.stringify(event)) > TRACKER_LIMITS.maxEventBytes; // the server would refuse it
 * ```
 */
export function utf8ByteLength(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * How many of the leading items go into the next batch: at most `maxEvents`, and a body
 * (`{"events":[a,b,…]}`) of at most `maxBytes`. Always at least one when any are given: a single
 * event is at most 32,768 bytes, far below any batch cap.
 *
 * @example
 * ```ts
 * planBatch(Array(450).fill({ bytes: 100 }), 200, TRACKER_LIMITS.maxBatchBytes); // 200
 * ```
 */
export function planBatch(items: ReadonlyArray<{ bytes: number }>, maxEvents: number, maxBytes: number): number {
  let n = 0;
  let bytes = BATCH_ENVELOPE_BYTES;
  for (const item of items) {
    if (n >= maxEvents) break;
    const add = item.bytes + (n > 0 ? 1 : 0);
    if (n > 0 && bytes + add > maxBytes) break;
    bytes += add;
    n++;
  }
  return n;
}

/**
 * Body size in bytes of a batch of items of the given sizes: `{"events":[` + items + commas + `]}`.
 *
 * @example
 * ```ts
 * batchBodyBytes([{ bytes: 10 }, { bytes: 20 }]); // 13 + 30 + 1 = 44
 * ```
 */
export function batchBodyBytes(items: ReadonlyArray<{ bytes: number }>): number {
  let bytes = BATCH_ENVELOPE_BYTES + Math.max(0, items.length - 1);
  for (const item of items) bytes += item.bytes;
  return bytes;
}

let fallbackCounter = 0;
function generateMessageId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return `evt_${c.randomUUID()}`;
  fallbackCounter = (fallbackCounter + 1) % 0x100000;
  const rand = () => Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return `evt_${Date.now().toString(16)}${fallbackCounter.toString(16).padStart(5, '0')}${rand()}${rand()}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Queues events and delivers them in batches; see the file header for the guarantees.
 * Usually reached through `smashsend.events.track()`; create more with `smashsend.events.createTracker()`.
 *
 * @example
 * ```ts
 * const tracker = smashsend.events.createTracker({ flushInterval: 2_000, onFailure: (f) => log.warn(f) });
 * tracker.track({ event: 'page.view', identify: { email: 'a@example.com' } });
 * await tracker.close();
 * ```
 */
export class EventTracker {
  private readonly flushAt: number;
  private readonly flushInterval: number;
  private readonly maxQueueSize: number;
  private readonly maxQueueBytes: number;
  private readonly dropPolicy: DropPolicy;
  private readonly maxRetries: number;
  private readonly retryBaseDelay: number;
  private readonly retryMaxDelay: number;
  private readonly concurrency: number;
  private readonly timeout: number | undefined;
  private readonly closeTimeout: number;
  private readonly onFailure: ((failure: TrackFailure) => void) | undefined;
  private readonly onError: ((error: SmashSendError) => void) | undefined;

  /** Waiting entries, kept sorted by seq (retried batches are merged back in order). */
  private waiting: Entry[] = [];
  private waitingBytes = 0;
  private readonly inFlight = new Set<Batch>();
  private heldCount = 0;
  private heldBytes = 0;
  private seq = 0;
  /** Partial batches may be sent for every entry with seq ≤ this (set by flush()). */
  private flushUpTo = 0;
  private flushWaiters: Array<{ mark: number; resolve: () => void }> = [];
  private backoffUntil = 0;
  private consecutiveFailures = 0;
  /** Body cap; lowered when a server answers 413 to a multi-event batch. */
  private byteCap: number = TRACKER_LIMITS.maxBatchBytes;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pumpScheduled = false;
  private closing = false;
  private stopped = false;
  private closePromise: Promise<CloseResult> | undefined;
  /** While close() runs, failures are collected here for its result. */
  private closeFailures: TrackFailure[] | undefined;
  private readonly abortController = new AbortController();
  private readonly counters = { tracked: 0, delivered: 0, duplicates: 0, failed: 0, dropped: 0, requests: 0, retries: 0 };

  /** @internal Use `smashsend.events.createTracker()`. */
  constructor(
    private readonly http: HttpClient,
    options: TrackerOptions = {},
  ) {
    const int = (v: number | undefined, def: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
      v === undefined || !Number.isFinite(v) ? def : Math.min(max, Math.max(min, Math.floor(v)));
    this.flushAt = int(options.flushAt, TRACKER_LIMITS.maxBatchEvents, 1, TRACKER_LIMITS.maxBatchEvents);
    this.flushInterval = int(options.flushInterval, 5_000, 0);
    this.maxQueueSize = int(options.maxQueueSize, 50_000, 1);
    this.maxQueueBytes = int(options.maxQueueBytes, 64 * 1024 * 1024, TRACKER_LIMITS.maxEventBytes);
    this.dropPolicy = options.dropPolicy === 'drop-oldest' ? 'drop-oldest' : 'drop-newest';
    this.maxRetries = options.maxRetries === Infinity ? Infinity : int(options.maxRetries, 10, 0);
    this.retryBaseDelay = int(options.retryBaseDelay, 500, 1);
    this.retryMaxDelay = int(options.retryMaxDelay, 30_000, this.retryBaseDelay);
    this.concurrency = int(options.concurrency, 1, 1, 16);
    this.timeout = options.timeout;
    this.closeTimeout = int(options.closeTimeout, 10_000, 0);
    this.onFailure = options.onFailure;
    this.onError = options.onError;
  }

  /**
   * Queues one event and returns its messageId at once; never throws and never waits.
   * A messageId (unless given) and a timestamp (the time of this call, unless given) are added,
   * so retries are idempotent and a delayed delivery keeps the real event time.
   *
   * @example
   * ```ts
   * const id = smashsend.events.track({ event: 'button.click', identify: { email: 'a@example.com' } });
   * ```
   */
  track(event: EventPayload): string {
    this.counters.tracked++;
    let messageId = '';
    try {
      if (!isObject(event)) {
        messageId = generateMessageId();
        this.failNow(messageId, event, 'invalid', { code: 'INVALID_EVENT', message: 'Event must be an object' });
        return messageId;
      }
      messageId = typeof event.messageId === 'string' && event.messageId !== '' ? event.messageId : generateMessageId();
      const item: EventPayload = { ...event, messageId };
      if (item.timestamp === undefined || item.timestamp === null) item.timestamp = new Date().toISOString();
      if (this.closing) {
        this.failNow(messageId, item, 'closed', { code: 'TRACKER_CLOSED', message: 'The tracker is closed' });
        return messageId;
      }
      let json: string;
      try {
        json = JSON.stringify(item);
      } catch (err) {
        this.failNow(messageId, item, 'invalid', {
          code: 'INVALID_EVENT',
          message: `Event is not serialisable to JSON: ${err instanceof Error ? err.message : String(err)}`,
        });
        return messageId;
      }
      const bytes = utf8ByteLength(json);
      if (bytes > TRACKER_LIMITS.maxEventBytes) {
        this.failNow(messageId, item, 'too_large', { code: 'PAYLOAD_TOO_LARGE', message: 'Event payload exceeds 32KB limit' });
        return messageId;
      }
      if (!this.makeRoom(bytes)) {
        this.counters.dropped++;
        this.report(
          [{ reason: 'queue_full', messageId, event: item, errors: [this.queueFullError()], attempts: 0 }],
          'queue_full',
        );
        return messageId;
      }
      const entry: Entry = { seq: ++this.seq, messageId, event: item, json, bytes, enqueuedAt: Date.now(), attempts: 0, failures: 0 };
      this.waiting.push(entry);
      this.waitingBytes += bytes;
      this.heldCount++;
      this.heldBytes += bytes;
      this.schedulePump();
    } catch {
      // Nothing above should throw; if it does, the host application must not see it.
    }
    return messageId;
  }

  /**
   * Resolves when every event tracked before the call is delivered or definitively failed.
   * Sends partial batches at once (still honouring a retry delay in progress). Never rejects.
   *
   * @example
   * ```ts
   * smashsend.events.track(event);
   * await smashsend.events.flush();
   * ```
   */
  flush(): Promise<void> {
    const mark = this.seq;
    if (this.stopped || this.minHeldSeq() > mark) return Promise.resolve();
    this.flushUpTo = Math.max(this.flushUpTo, mark);
    const done = new Promise<void>((resolve) => this.flushWaiters.push({ mark, resolve }));
    this.schedulePump();
    return done;
  }

  /**
   * Stops accepting events, flushes, and stops. Resolves (never rejects) within `timeout` ms:
   * whatever is still unacknowledged then is abandoned, reported to `onFailure` with reason
   * `closed`, and listed in the result. Abandoned events keep their messageIds, so resending
   * them later (e.g. with `sendBatch`) cannot create duplicates.
   *
   * @example
   * ```ts
   * const { undelivered } = await smashsend.events.close({ timeout: 5_000 });
   * if (undelivered.length) await saveForLater(undelivered.map((f) => f.event));
   * ```
   */
  close(options: CloseOptions = {}): Promise<CloseResult> {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    const timeout = options.timeout ?? this.closeTimeout;
    const failures: TrackFailure[] = [];
    this.closeFailures = failures;
    this.closePromise = (async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = await Promise.race([
        this.flush().then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), timeout);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) this.abandonAll(timeout);
      this.stopped = true;
      this.abortController.abort();
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.resolveFlushWaiters(true);
      this.closeFailures = undefined;
      return { timedOut, undelivered: failures, stats: this.stats() };
    })();
    return this.closePromise;
  }

  /**
   * A snapshot of the counters. Invariant: tracked = queued + inFlight + delivered + failed + dropped.
   *
   * @example
   * ```ts
   * const { delivered, failed, dropped } = tracker.stats();
   * ```
   */
  stats(): TrackerStats {
    let inFlight = 0;
    for (const b of this.inFlight) inFlight += b.entries.length;
    return { ...this.counters, queued: this.waiting.length, inFlight };
  }

  // ---------------------------------------------------------------- queue bound

  private makeRoom(bytes: number): boolean {
    const fits = () => this.heldCount + 1 <= this.maxQueueSize && this.heldBytes + bytes <= this.maxQueueBytes;
    if (fits()) return true;
    if (this.dropPolicy === 'drop-newest') return false;
    const evicted: Entry[] = [];
    while (!fits() && this.waiting.length > 0) {
      const e = this.waiting.shift()!;
      this.waitingBytes -= e.bytes;
      this.release(e);
      evicted.push(e);
    }
    if (evicted.length > 0) {
      this.counters.dropped += evicted.length;
      const error = this.queueFullError();
      this.report(
        evicted.map((e) => ({ reason: 'queue_full' as const, messageId: e.messageId, event: e.event, errors: [error], attempts: e.attempts })),
        'queue_full',
      );
      this.checkFlushWaiters();
    }
    return fits();
  }

  private queueFullError(): ItemErrorDetail {
    return { code: 'QUEUE_FULL', message: `Tracker queue full (${this.maxQueueSize} events / ${this.maxQueueBytes} bytes, policy ${this.dropPolicy})` };
  }

  // ---------------------------------------------------------------- sending

  private schedulePump(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private isDue(now: number): boolean {
    const head = this.waiting[0];
    if (!head) return false;
    return (
      this.closing ||
      this.waiting.length >= this.flushAt ||
      this.waitingBytes >= this.byteCap ||
      head.seq <= this.flushUpTo ||
      now - head.enqueuedAt >= this.flushInterval
    );
  }

  private pump(): void {
    if (this.stopped) return;
    const now = Date.now();
    while (this.inFlight.size < this.concurrency && this.waiting.length > 0 && now >= this.backoffUntil && this.isDue(now)) {
      const n = planBatch(this.waiting, this.flushAt, this.byteCap);
      const entries = this.waiting.splice(0, n);
      let bytes = 0;
      for (const e of entries) {
        bytes += e.bytes;
        e.attempts++;
      }
      this.waitingBytes -= bytes;
      const batch: Batch = { entries, bodyBytes: batchBodyBytes(entries), cancelled: false };
      this.inFlight.add(batch);
      void this.send(batch).catch(() => undefined);
    }
    this.scheduleTimer(now);
  }

  private scheduleTimer(now: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const head = this.waiting[0];
    if (this.stopped || !head || this.inFlight.size >= this.concurrency) return;
    let wakeAt = this.backoffUntil;
    if (!this.isDue(now)) wakeAt = Math.max(wakeAt, head.enqueuedAt + this.flushInterval);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.max(0, wakeAt - now));
  }

  private async send(batch: Batch): Promise<void> {
    this.counters.requests++;
    let res: HttpResult | undefined;
    let error: SmashSendError | undefined;
    try {
      res = await this.http.attempt({
        method: 'POST',
        path: '/events/batch',
        rawBody: `{"events":[${batch.entries.map((e) => e.json).join(',')}]}`,
        signal: this.abortController.signal,
        ...(this.timeout === undefined ? {} : { timeout: this.timeout }),
      });
    } catch (err) {
      error = err instanceof SmashSendError ? err : new NetworkError(String(err), { cause: err });
    }
    if (batch.cancelled) return; // close() timed out and already reported these
    this.inFlight.delete(batch);
    try {
      this.handle(batch, res, error);
    } catch (err) {
      // A bug in result handling must not lose events: resend them (the messageIds make it safe).
      this.retryLater(batch.entries, new NetworkError(`Unexpected SDK error: ${String(err)}`, { code: 'sdk_error', cause: err }));
    } finally {
      this.checkFlushWaiters();
      this.schedulePump();
    }
  }

  private handle(batch: Batch, res: HttpResult | undefined, error: SmashSendError | undefined): void {
    if (!res) {
      this.notifyError(error!);
      this.retryLater(batch.entries, error!);
      return;
    }
    const body = res.body;
    const hasItems = isObject(body) && Array.isArray(body.events) && Array.isArray(body.errors);
    if (res.status >= 200 && res.status < 300) {
      if (!hasItems) {
        const err = new NetworkError(`Unexpected ${res.status} response to a batch`, { code: 'invalid_response', statusCode: res.status, data: body, requestId: res.requestId });
        this.notifyError(err);
        this.retryLater(batch.entries, err);
        return;
      }
      this.consecutiveFailures = 0;
      this.applyItems(batch.entries, body, res, undefined);
      return;
    }
    const err = errorFromResponse(res);
    this.notifyError(err);
    if (res.status === 400 && hasItems) {
      // All events failed validation (code ALL_EVENTS_FAILED): per-index errors, nothing to retry.
      this.consecutiveFailures = 0;
      this.applyItems(batch.entries, body, res, err);
      return;
    }
    if (res.status === 413 && batch.entries.length > 1) {
      // A proxy or server with a smaller body limit than ours: halve the cap and resend in smaller batches.
      this.byteCap = Math.max(BATCH_ENVELOPE_BYTES + TRACKER_LIMITS.maxEventBytes, Math.floor(batch.bodyBytes / 2));
      this.requeue(batch.entries);
      return;
    }
    if (isRetryableStatus(res.status)) {
      const retryAfter = res.status === 429 ? parseRetryAfter(res.headers.get('retry-after')) : undefined;
      this.retryLater(batch.entries, err, res.status === 429, retryAfter);
      return;
    }
    this.consecutiveFailures = 0;
    this.fail(batch.entries, 'rejected', [{ code: err.code, message: err.message }], err, res.status);
  }

  /** Applies a batch response's `events[]` and `errors[]` by index. */
  private applyItems(entries: Entry[], body: Record<string, unknown>, res: HttpResult, err: SmashSendError | undefined): void {
    const outcome = new Array<'accepted' | 'duplicate' | ItemErrorDetail[] | undefined>(entries.length);
    for (const item of body.events as unknown[]) {
      if (!isObject(item) || typeof item.index !== 'number' || item.index < 0 || item.index >= entries.length) continue;
      outcome[item.index] = item.status === 'duplicate' ? 'duplicate' : 'accepted';
    }
    for (const item of body.errors as unknown[]) {
      if (!isObject(item) || typeof item.index !== 'number' || item.index < 0 || item.index >= entries.length) continue;
      const errs = Array.isArray(item.errors)
        ? (item.errors as unknown[]).filter(isObject).map((e) => ({ code: String(e.code ?? 'INVALID_EVENT'), message: String(e.message ?? '') }))
        : [];
      outcome[item.index] = errs.length > 0 ? errs : [{ code: 'INVALID_EVENT', message: 'Rejected by the server' }];
    }
    const rejected: Array<{ entry: Entry; errors: ItemErrorDetail[] }> = [];
    const unanswered: Entry[] = [];
    entries.forEach((entry, i) => {
      const o = outcome[i];
      if (o === 'accepted' || o === 'duplicate') {
        this.release(entry);
        this.counters.delivered++;
        if (o === 'duplicate') this.counters.duplicates++;
      } else if (o) rejected.push({ entry, errors: o });
      else unanswered.push(entry);
    });
    if (rejected.length > 0) {
      this.counters.failed += rejected.length;
      for (const r of rejected) this.release(r.entry);
      this.report(
        rejected.map((r) => ({
          reason: 'rejected' as const,
          messageId: r.entry.messageId,
          event: r.entry.event,
          errors: r.errors,
          statusCode: res.status,
          attempts: r.entry.attempts,
          ...(err ? { error: err } : {}),
        })),
        'rejected',
      );
    }
    if (unanswered.length > 0) {
      // The server said nothing about these (should not happen): resending is safe, they carry messageIds.
      const e = err ?? new NetworkError('Batch response omitted some events', { code: 'invalid_response', statusCode: res.status, requestId: res.requestId });
      if (res.status >= 200 && res.status < 300) this.retryLater(unanswered, e);
      else this.fail(unanswered, 'rejected', [{ code: e.code, message: e.message }], e, res.status);
    }
  }

  /** Schedules a resend after a backoff (or `Retry-After`), failing events that are out of retries. */
  private retryLater(entries: Entry[], error: SmashSendError, rateLimited = false, retryAfterMs?: number): void {
    this.counters.retries++;
    let delay: number;
    if (rateLimited && retryAfterMs !== undefined) {
      // Honour the server's wait, plus up to 1 s of jitter so clients limited together do not return together.
      delay = Math.min(retryAfterMs, MAX_HONOURED_RETRY_AFTER_MS) + Math.round(Math.random() * Math.min(1_000, retryAfterMs / 10 + 100));
    } else {
      this.consecutiveFailures++;
      delay = computeBackoff(this.consecutiveFailures, { baseDelay: this.retryBaseDelay, maxDelay: this.retryMaxDelay });
    }
    this.backoffUntil = Math.max(this.backoffUntil, Date.now() + delay);
    const again: Entry[] = [];
    const exhausted: Entry[] = [];
    for (const e of entries) {
      if (!rateLimited) e.failures++;
      (e.failures > this.maxRetries ? exhausted : again).push(e);
    }
    if (exhausted.length > 0) {
      this.fail(exhausted, 'retries_exhausted', [{ code: error.code, message: error.message }], error, error.statusCode);
    }
    this.requeue(again);
  }

  /** Puts entries back, keeping `waiting` sorted by seq (the oldest events go first). */
  private requeue(entries: Entry[]): void {
    if (entries.length === 0) return;
    let bytes = 0;
    for (const e of entries) bytes += e.bytes;
    this.waitingBytes += bytes;
    const w = this.waiting;
    const last = entries[entries.length - 1]!;
    if (w.length === 0 || last.seq < w[0]!.seq) {
      this.waiting = entries.concat(w);
      return;
    }
    const merged: Entry[] = [];
    let i = 0;
    let j = 0;
    while (i < entries.length && j < w.length) merged.push(entries[i]!.seq < w[j]!.seq ? entries[i++]! : w[j++]!);
    while (i < entries.length) merged.push(entries[i++]!);
    while (j < w.length) merged.push(w[j++]!);
    this.waiting = merged;
  }

  // ---------------------------------------------------------------- settling

  private release(e: Entry): void {
    this.heldCount--;
    this.heldBytes -= e.bytes;
  }

  private fail(entries: Entry[], reason: TrackFailureReason, errors: ItemErrorDetail[], error: SmashSendError | undefined, statusCode: number | undefined): void {
    if (entries.length === 0) return;
    for (const e of entries) this.release(e);
    this.counters.failed += entries.length;
    this.report(
      entries.map((e) => ({
        reason,
        messageId: e.messageId,
        event: e.event,
        errors,
        attempts: e.attempts,
        ...(statusCode === undefined ? {} : { statusCode }),
        ...(error ? { error } : {}),
      })),
      reason,
    );
  }

  /** Fails an event that never entered the queue. */
  private failNow(messageId: string, event: unknown, reason: TrackFailureReason, error: ItemErrorDetail): void {
    this.counters.failed++;
    this.report([{ reason, messageId, event: event as EventPayload, errors: [error], attempts: 0 }], reason);
  }

  private report(failures: TrackFailure[], reason: TrackFailureReason): void {
    if (this.closeFailures) this.closeFailures.push(...failures);
    if (this.onFailure) {
      for (const f of failures) {
        try {
          this.onFailure(f);
        } catch {
          // A throwing callback must not break delivery of the other events.
        }
      }
      return;
    }
    try {
      const first = failures[0]?.errors[0];
      console.warn(
        `[smashsend] ${failures.length} tracked event(s) not delivered (${reason})${first ? `: ${first.code} ${first.message}` : ''}; pass tracker.onFailure to handle them`,
      );
    } catch {
      // console may be unavailable; nothing else to do.
    }
  }

  private notifyError(error: SmashSendError): void {
    if (!this.onError) return;
    try {
      this.onError(error);
    } catch {
      // Logging hooks must not break delivery.
    }
  }

  private minHeldSeq(): number {
    let min = this.waiting[0]?.seq ?? Infinity;
    for (const b of this.inFlight) min = Math.min(min, b.entries[0]?.seq ?? Infinity);
    return min;
  }

  private checkFlushWaiters(): void {
    if (this.flushWaiters.length === 0) return;
    const min = this.minHeldSeq();
    const still: typeof this.flushWaiters = [];
    for (const w of this.flushWaiters) {
      if (w.mark < min) w.resolve();
      else still.push(w);
    }
    this.flushWaiters = still;
  }

  private resolveFlushWaiters(all: boolean): void {
    if (!all) return this.checkFlushWaiters();
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) w.resolve();
  }

  /** close() timed out: everything still held is abandoned and reported. */
  private abandonAll(timeout: number): void {
    const held: Entry[] = [];
    for (const b of this.inFlight) {
      b.cancelled = true;
      held.push(...b.entries);
    }
    this.inFlight.clear();
    held.push(...this.waiting);
    this.waiting = [];
    this.waitingBytes = 0;
    held.sort((a, b) => a.seq - b.seq);
    this.fail(held, 'closed', [{ code: 'CLOSE_TIMEOUT', message: `Not acknowledged before close() timed out after ${timeout}ms` }], undefined, undefined);
  }
}
