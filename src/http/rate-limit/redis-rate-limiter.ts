import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { decide, MemoryRateLimiter, WINDOW_MS, type RateDecision, type RateLimiter } from './rate-limiter.js';

// Atomic "count this request (ARGV[2] of them: a Segment batch's cost) in the current window": the first INCR of a window sets its
// expiry, so the window starts at its first request, exactly as the in-memory limiter does,
// and every API process sharing this Redis sees one counter.
const HIT_SCRIPT = `
local c = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {c, ttl}`;

/**
 * Counters in Redis, shared by every API process. When Redis is unreachable we fail *open
 * to per-process counters* rather than refusing traffic: an outage of the limiter must not
 * become an outage of ingestion. Each fallback is logged (at most once per 10 s) and counted
 * in `smashsend_rate_limit_backend_errors_total`.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;
  private readonly fallback = new MemoryRateLimiter();
  private lastWarn = 0;

  constructor(
    url: string,
    private readonly log: Logger,
    private readonly onBackendError: () => void = () => {},
  ) {
    this.redis = new Redis(url, {
      // Fail fast instead of queueing commands while disconnected: the request must not wait.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 250,
      connectTimeout: 1000,
      lazyConnect: false,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.redis.on('error', (err) => this.warn(err));
    this.redis.defineCommand('smashsendHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
  }

  /**
   * Waits (bounded) for the first connection, so a server that starts with Redis up counts in
   * Redis from its first request instead of counting its first requests locally.
   */
  async ready(timeoutMs: number): Promise<boolean> {
    if (this.redis.status === 'ready') return true;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.redis.off('ready', onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => {
        this.log.warn('redis not reachable at start; rate limits count per process until it is');
        done(false);
      }, timeoutMs);
      this.redis.once('ready', onReady);
    });
  }

  async hit(key: string, limit: number, now: number, cost = 1): Promise<RateDecision> {
    try {
      const [count, ttl] = (await (
        this.redis as unknown as { smashsendHit(k: string, w: number, cost: number): Promise<[number, number]> }
      ).smashsendHit(`smashsend:rl:${key}`, WINDOW_MS, cost)) as [number, number];
      return decide(Number(count), limit, Number(ttl));
    } catch (err) {
      this.onBackendError();
      this.warn(err);
      return this.fallback.hitSync(key, limit, now, cost);
    }
  }

  private warn(err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarn < 10_000) return;
    this.lastWarn = now;
    this.log.warn({ err }, 'redis rate limiter unavailable; counting per process until it is back');
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
