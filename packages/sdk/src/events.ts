/**
 * `smashsend.events`: the official SDK's `send` and `sendBatch`, the read APIs of this server
 * (`get`, `list`), and the auto-batching tracker (`track`, `flush`, `close`).
 */
import type { HttpClient } from './http.js';
import { EventTracker, type CloseOptions, type CloseResult, type TrackerOptions, type TrackerStats } from './tracker.js';
import type {
  BatchEventPayload,
  BatchEventResponse,
  EventListParams,
  EventListResponse,
  EventPayload,
  EventTrackingOptions,
  SingleEventResponse,
  StoredEvent,
} from './types.js';

function timeParam(v: string | Date | undefined): string | undefined {
  return v instanceof Date ? v.toISOString() : v;
}

export class Events {
  private defaultTracker: EventTracker | undefined;

  /** @internal Created by the SmashSend client. */
  constructor(
    private readonly http: HttpClient,
    private readonly trackerOptions: TrackerOptions = {},
  ) {}

  /**
   * Sends one event now (`POST /v1/events`) and resolves with the server's answer. Retries
   * 408/429/5xx/network failures up to the client's `maxRetries`; adds no messageId, so a retry is
   * deduplicated by the server's content-based messageId (give your own `messageId` or `timestamp`
   * to an event that legitimately repeats).
   *
   * @example
   * ```ts
   * const response = await smashsend.events.send({
   *   event: 'user.signup',
   *   identify: { email: 'user@example.com' },
   *   properties: { plan: 'premium' },
   * });
   * console.log(`Event sent with ID: ${response.messageId}`);
   * ```
   */
  async send(event: EventPayload, options: EventTrackingOptions = {}): Promise<SingleEventResponse> {
    return this.http.request<SingleEventResponse>({
      method: 'POST',
      path: '/events',
      body: event,
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.timeout ? { timeout: options.timeout } : {}),
    });
  }

  /**
   * Sends up to 200 events in one request (`POST /v1/events/batch`). Resolves on 200 and on 207
   * (partial success: see `result.errors` by index); throws APIError with code `ALL_EVENTS_FAILED`
   * and the per-index `errors` when every event was rejected.
   *
   * @example
   * ```ts
   * const result = await smashsend.events.sendBatch([
   *   { event: 'page.view', identify: { email: 'user1@example.com' }, properties: { page: '/home' } },
   *   { event: 'button.click', identify: { email: 'user2@example.com' } },
   * ]);
   * console.log(`Accepted: ${result.accepted}, Failed: ${result.failed}`);
   * result.errors.forEach((e) => console.error(e.index, e.errors));
   * ```
   */
  async sendBatch(events: EventPayload[], options: EventTrackingOptions = {}): Promise<BatchEventResponse> {
    const payload: BatchEventPayload = { events };
    return this.http.request<BatchEventResponse>({
      method: 'POST',
      path: '/events/batch',
      body: payload,
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.timeout ? { timeout: options.timeout } : {}),
    });
  }

  /**
   * Reads one stored event by messageId (`GET /v1/events/:messageId`); APIError 404 when unknown.
   *
   * @example
   * ```ts
   * const stored = await smashsend.events.get('renewal_2024_01_15_sub_xyz');
   * console.log(stored.status); // 'queued' | 'processed' | 'failed'
   * ```
   */
  async get(messageId: string): Promise<StoredEvent> {
    const res = await this.http.request<{ event: StoredEvent }>({ method: 'GET', path: `/events/${encodeURIComponent(messageId)}` });
    return res.event;
  }

  /**
   * Lists stored events, newest event time first (`GET /v1/events`). Page with the returned cursor.
   *
   * @example
   * ```ts
   * let cursor: string | undefined;
   * do {
   *   const { events } = await smashsend.events.list({ email: 'user@example.com', limit: 100, cursor });
   *   events.items.forEach((e) => console.log(e.timestamp, e.event));
   *   cursor = events.hasMore ? events.cursor ?? undefined : undefined;
   * } while (cursor);
   * ```
   */
  async list(params: EventListParams = {}): Promise<EventListResponse> {
    return this.http.request<EventListResponse>({
      method: 'GET',
      path: '/events',
      query: {
        email: params.email,
        event: params.event,
        since: timeParam(params.since),
        until: timeParam(params.until),
        limit: params.limit,
        cursor: params.cursor,
      },
    });
  }

  /**
   * The client's default tracker (created on first use with the client's `tracker` options).
   *
   * @example
   * ```ts
   * console.log(smashsend.events.tracker.stats());
   * ```
   */
  get tracker(): EventTracker {
    this.defaultTracker ??= new EventTracker(this.http, this.trackerOptions);
    return this.defaultTracker;
  }

  /**
   * Queues an event for batched delivery and returns its messageId at once; never throws.
   * Failures are reported to the `tracker.onFailure` option. See EventTracker.
   *
   * @example
   * ```ts
   * smashsend.events.track({ event: 'page.view', identify: { email: 'user@example.com' }, properties: { page: '/' } });
   * ```
   */
  track(event: EventPayload): string {
    return this.tracker.track(event);
  }

  /**
   * Resolves when every event tracked so far is delivered or definitively failed.
   *
   * @example
   * ```ts
   * await smashsend.events.flush();
   * ```
   */
  flush(): Promise<void> {
    return this.defaultTracker ? this.defaultTracker.flush() : Promise.resolve();
  }

  /**
   * Flushes and stops the default tracker within `timeout` ms, reporting what it could not deliver.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', async () => {
   *   const { undelivered } = await smashsend.events.close({ timeout: 5_000 });
   *   console.log(`${undelivered.length} events not delivered`);
   *   process.exit(0);
   * });
   * ```
   */
  close(options: CloseOptions = {}): Promise<CloseResult> {
    return this.tracker.close(options);
  }

  /**
   * Counters of the default tracker.
   *
   * @example
   * ```ts
   * const { delivered, failed, dropped, queued } = smashsend.events.stats();
   * ```
   */
  stats(): TrackerStats {
    return this.tracker.stats();
  }

  /**
   * An independent tracker with its own queue and options (the client's `tracker` options are the defaults).
   *
   * @example
   * ```ts
   * const audit = smashsend.events.createTracker({ dropPolicy: 'drop-oldest', maxQueueSize: 1_000 });
   * audit.track({ event: 'audit.login', identify: { email: 'admin@example.com' } });
   * await audit.close();
   * ```
   */
  createTracker(options: TrackerOptions = {}): EventTracker {
    return new EventTracker(this.http, { ...this.trackerOptions, ...options });
  }
}
