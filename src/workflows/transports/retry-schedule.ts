/**
 * The webhook retry schedule (WEBHOOK_RETRY_SCHEDULE): pure, so config/ can parse it at start
 * and the engine can compute each delay from an attempt count alone.
 */

/** The most retries a schedule may hold, and the longest one delay (7 days): typos like `5,300000000` fail at start. */
const MAX_STEPS = 100;
const MAX_DELAY_SEC = 7 * 86_400;

/** WEBHOOK_RETRY_SCHEDULE "5,300,1800,..." seconds → ms[] (throws on bad input). */
export function parseRetrySchedule(s: string): number[] {
  const parts = s.split(',').map((p) => p.trim());
  if (parts.length === 0 || (parts.length === 1 && parts[0] === '')) throw new Error('the retry schedule is empty: give seconds, e.g. 5,300,1800');
  if (parts.length > MAX_STEPS) throw new Error(`the retry schedule has ${parts.length} entries; at most ${MAX_STEPS}`);
  return parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new Error(`retry delay ${JSON.stringify(p)} is not a whole number of seconds`);
    const n = Number(p);
    if (n > MAX_DELAY_SEC) throw new Error(`retry delay ${n} s is longer than ${MAX_DELAY_SEC} s (7 days)`);
    return n * 1000;
  });
}

/**
 * Delay before attempt `attempt+1` after `attempt` failed attempts (1-based), honouring
 * Retry-After (never shorter than it); null when the schedule is exhausted. No jitter: the
 * schedule's steps are minutes to hours apart, and the engine's own claim timing spreads them.
 */
export function nextRetryDelayMs(attempt: number, scheduleMs: number[], retryAfterMs?: number): number | null {
  if (!Number.isInteger(attempt) || attempt < 1) throw new Error(`attempt must be a whole number from 1, got ${attempt}`);
  const base = scheduleMs[attempt - 1];
  if (base === undefined) return null;
  return retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > base ? retryAfterMs : base;
}

/** Retry-After honoured up to a day: a receiver asking for more is retried after a day (and then on schedule). */
export const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * A Retry-After header value (RFC 9110 10.2.3): delay-seconds or an HTTP-date, as ms from
 * `now`; undefined when absent or unparseable; capped at MAX_RETRY_AFTER_MS.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (!Number.isFinite(at) || !/[a-z]/i.test(v)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}
