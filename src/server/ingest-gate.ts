import type { AppendItem, AppendOutcome, EventStore } from '../storage/ports.js';
import { Errors } from './errors.js';
import type { Metrics } from './metrics.js';

/**
 * Backpressure for the hot path. Every request's events wait in memory until the store commits
 * them; if the store falls behind, that grows without bound. So we count events awaiting
 * commit and answer 503 + Retry-After once `maxPending` is reached: clients retry later (the
 * official SDK retries 5xx), memory stays bounded, nothing acknowledged is lost.
 */
export class IngestGate {
  private pending = 0;

  constructor(
    private readonly events: EventStore,
    private readonly maxPending: number,
    private readonly metrics: Metrics,
    private readonly delayMs = 0,
  ) {}

  async append(items: AppendItem[], now: number, windowMs: number): Promise<AppendOutcome[]> {
    if (this.pending > 0 && this.pending + items.length > this.maxPending) {
      this.metrics.backpressure.inc();
      throw Errors.overloaded();
    }
    this.pending += items.length;
    this.metrics.pendingEvents.set(this.pending);
    try {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      return await this.events.append(items, now, windowMs);
    } finally {
      this.pending -= items.length;
      this.metrics.pendingEvents.set(this.pending);
    }
  }
}
