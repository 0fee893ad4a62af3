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
    expect(c).toMatchObject({ requestBodyTimeoutMs: 30_000, maxPendingBytes: 16_777_216, maxConcurrentBatches: 16, shutdownDrainMs: 5000 });
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
      [{ WEBHOOK_TIMEOUT_MS: '15s' }, 'WEBHOOK_TIMEOUT_MS'],
      [{ WEBHOOK_RETRY_SCHEDULE: '5,5m' }, 'WEBHOOK_RETRY_SCHEDULE'],
      [{ WEBHOOK_RETRY_SCHEDULE: ',' }, 'WEBHOOK_RETRY_SCHEDULE'],
      [{ WEBHOOK_ALLOW_PRIVATE: 'yes' }, 'WEBHOOK_ALLOW_PRIVATE'],
      [{ WEBHOOK_ALLOWED_HOSTS: 'https://hooks.example.com' }, 'WEBHOOK_ALLOWED_HOSTS'],
      [{ WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com:8080' }, 'WEBHOOK_ALLOWED_HOSTS'],
      [{ SMTP_URL: 'mail.example.com:25' }, 'SMTP_URL'],
      [{ SMTP_URL: 'http://mail.example.com' }, 'SMTP_URL'],
      [{ EMAIL_FROM: 'nobody' }, 'EMAIL_FROM'],
      [{ PUBLIC_URL: 'example.com' }, 'PUBLIC_URL'],
      [{ PUBLIC_URL: 'https://example.com/?a=1' }, 'PUBLIC_URL'],
    ];
    for (const [env, name] of bad) {
      expect(() => loadConfig(env), name).toThrow(ConfigError);
      expect(() => loadConfig(env), name).toThrow(name);
    }
  });

  it('reads the workflow transports settings', () => {
    const d = loadConfig({});
    expect(d.webhook).toEqual({
      timeoutMs: 15_000,
      retryScheduleMs: [5, 300, 1800, 7200, 18000, 36000, 36000].map((s) => s * 1000),
      allowPrivate: false,
      allowedHosts: [],
    });
    expect(d.email).toEqual({ smtpUrl: null, from: 'SMASHSEND <no-reply@localhost>', outboxDir: './data/outbox' });
    expect(d.publicUrl).toBe('http://127.0.0.1:3000');
    expect(loadConfig({ HOST: '::1', PORT: '8080' }).publicUrl).toBe('http://[::1]:8080');
    const c = loadConfig({
      WEBHOOK_TIMEOUT_MS: '500',
      WEBHOOK_RETRY_SCHEDULE: '1, 2',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_ALLOWED_HOSTS: ' Hooks.Example.com, 10.0.0.5 ,[::1],',
      SMTP_URL: 'smtps://u:p@mail.example.com:465',
      EMAIL_FROM: 'a@b.com',
      OUTBOX_DIR: '/tmp/out',
      PUBLIC_URL: 'https://api.example.com/base/',
    });
    expect(c.webhook).toEqual({ timeoutMs: 500, retryScheduleMs: [1000, 2000], allowPrivate: true, allowedHosts: ['hooks.example.com', '10.0.0.5', '::1'] });
    expect(c.email).toEqual({ smtpUrl: 'smtps://u:p@mail.example.com:465', from: 'a@b.com', outboxDir: '/tmp/out' });
    expect(c.publicUrl).toBe('https://api.example.com/base');
  });
});
