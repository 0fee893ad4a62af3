import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load-config.js';

describe('loadConfig', () => {
  it('has the SPEC defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      databaseUrl: 'sqlite:./data/smashsend.db',
      redisUrl: null,
      rateLimits: { singlePerMin: 1000, batchPerMin: 50, apiPerMin: 6000 },
      dedupWindowMs: 86_400_000,
    });
    expect(c.worker.batchSize).toBe(100);
    expect(c).toMatchObject({ requestBodyTimeoutMs: 30_000, maxPendingBytes: 25_165_824, maxConcurrentBatches: 16, shutdownDrainMs: 5000 });
    expect([c.databaseStatementTimeoutMs, c.databaseConnectTimeoutMs, c.healthCheckTimeoutMs]).toEqual([5000, 5000, 2000]);
    expect(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '0' }).databaseStatementTimeoutMs).toBe(0);
    expect(loadConfig({ DATABASE_URL: 'postgres://x@h/db' }).worker.batchSize).toBe(500);
  });

  it('refuses bad values with a message naming the variable, never a silent default', () => {
    const bad: [Record<string, string>, string][] = [
      [{ PORT: 'eighty' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ RATE_LIMIT_SINGLE_PER_MIN: '0' }, 'RATE_LIMIT_SINGLE_PER_MIN'],
      [{ RATE_LIMIT_BATCH_PER_MIN: '1.5' }, 'RATE_LIMIT_BATCH_PER_MIN'],
      [{ DEDUP_WINDOW_SECONDS: '-1' }, 'DEDUP_WINDOW_SECONDS'],
      [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
      [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT'],
      [{ LOG_SUMMARY_INTERVAL_MS: 'soon' }, 'LOG_SUMMARY_INTERVAL_MS'],
      [{ KEY_REFRESH_MS: '60000' }, 'KEY_REFRESH_MS'],
      [{ REQUEST_BODY_TIMEOUT_MS: '10' }, 'REQUEST_BODY_TIMEOUT_MS'],
      [{ MAX_PENDING_BYTES: '0' }, 'MAX_PENDING_BYTES'],
      [{ MAX_CONCURRENT_BATCHES: 'many' }, 'MAX_CONCURRENT_BATCHES'],
      [{ SHUTDOWN_DRAIN_MS: '-5' }, 'SHUTDOWN_DRAIN_MS'],
      [{ DATABASE_STATEMENT_TIMEOUT_MS: '5s' }, 'DATABASE_STATEMENT_TIMEOUT_MS'],
      [{ DATABASE_CONNECT_TIMEOUT_MS: '0' }, 'DATABASE_CONNECT_TIMEOUT_MS'],
      [{ HEALTH_CHECK_TIMEOUT_MS: '10' }, 'HEALTH_CHECK_TIMEOUT_MS'],
    ];
    for (const [env, name] of bad) {
      expect(() => loadConfig(env), name).toThrow(ConfigError);
      expect(() => loadConfig(env), name).toThrow(name);
    }
  });
});
