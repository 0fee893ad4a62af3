import type { AppendItem, AppendOutcome, EventLog } from './event-log.port.js';

/** Too many events are awaiting commit: the client should retry shortly (503 + Retry-After). */
export class IngestOverloadedError extends Error {
  override readonly name = 'IngestOverloadedError';
}

/** Told how each append ended (the HTTP layer's store status: outage log, /health). */
export interface AppendObserver {
  appendSucceeded(): void;
  appendFailed(err: unknown): void;
}

export interface PendingGauge {
  /** A request was refused because the limit was reached. */
  refused(): void;
  /** Events now awaiting commit. */
  pending(n: number): void;
}

/**
 * Backpressure for the hot path. Every request's events wait in memory until the store commits
 * them; if the store falls behind, that grows without bound. So we count events awaiting
 * commit and refuse (503 + Retry-After) once `maxPending` is reached: clients retry later (the
 * official SDK retries 5xx), memory stays bounded, nothing acknowledged is lost.
 */
export class PendingLimit implements Pick<EventLog, 'append'> {
  private inFlight = 0;
  private lastAppendAt = 0;

  constructor(
    private readonly events: Pick<EventLog, 'append'>,
    private readonly maxPending: number,
    private readonly gauge: PendingGauge,
    private readonly delayMs = 0,
    private readonly observer: AppendObserver | null = null,
  ) {}

  async append(items: AppendItem[], now: number, windowMs: number): Promise<AppendOutcome[]> {
    if (this.inFlight > 0 && this.inFlight + items.length > this.maxPending) {
      this.gauge.refused();
      throw new IngestOverloadedError('too many events awaiting commit');
    }
    this.inFlight += items.length;
    this.lastAppendAt = Date.now();
    this.gauge.pending(this.inFlight);
    try {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      const outcomes = await this.events.append(items, now, windowMs);
      this.observer?.appendSucceeded();
      return outcomes;
    } catch (err) {
      this.observer?.appendFailed(err);
      throw err;
    } finally {
      this.inFlight -= items.length;
      this.gauge.pending(this.inFlight);
    }
  }

  /** True if events were appended through here within the last `ms` milliseconds. */
  appendedWithin(ms: number): boolean {
    return this.inFlight > 0 || Date.now() - this.lastAppendAt < ms;
  }
}
