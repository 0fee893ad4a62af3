/**
 * Per-workspace, per-bucket fixed one-minute windows. A window starts at the first request
 * after the previous one ended (not at the wall-clock minute), so "1,000 calls in a minute"
 * means exactly that for a client that starts mid-minute.
 */
export type RateBucket = 'single' | 'batch' | 'api';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

export interface RateLimiter {
  /** Counts `cost` requests (default 1) in the key's current window. */
  hit(key: string, limit: number, now: number, cost?: number): Promise<RateDecision>;
  close(): Promise<void>;
}

export const WINDOW_MS = 60_000;

export function decide(count: number, limit: number, resetMs: number): RateDecision {
  return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), resetMs: Math.max(0, resetMs) };
}

/** One process's counters. Exact for a single API process. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private lastSweep = 0;

  async hit(key: string, limit: number, now: number, cost = 1): Promise<RateDecision> {
    return this.hitSync(key, limit, now, cost);
  }

  hitSync(key: string, limit: number, now: number, cost = 1): RateDecision {
    if (now - this.lastSweep > WINDOW_MS) this.sweep(now);
    let w = this.windows.get(key);
    if (!w || now >= w.start + WINDOW_MS) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count += cost;
    return decide(w.count, limit, w.start + WINDOW_MS - now);
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [k, w] of this.windows) if (now >= w.start + WINDOW_MS) this.windows.delete(k);
  }

  async close(): Promise<void> {}
}
