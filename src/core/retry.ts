/**
 * Retry schedule of background processing: exponential backoff with jitter.
 * attempt 1 waits ~base, attempt 2 ~2×base, … capped at one hour. `random` in [0, 1).
 */
export function retryDelayMs(attempt: number, baseMs: number, random: number): number {
  const exp = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 3_600_000);
  // "Equal jitter": half fixed, half random, so retries spread out but never come sooner than exp/2.
  return Math.round(exp / 2 + (exp / 2) * random);
}
