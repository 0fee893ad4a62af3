/**
 * Issue #15 items 15 and 16: during a store outage the log has one line per state change plus
 * a rate-limited summary, not a stack per request; /health says `degraded` (503) when the
 * store answers but refuses writes (SQLite past a file-size limit, PostgreSQL read-only).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { mintKey } from '../src/cli/context.js';
import { composeServer } from '../src/cli/compose.js';
import { loadConfig } from '../src/config/load-config.js';
import type { BuiltServer } from '../src/http/build-server.js';
import { StoreStatus } from '../src/http/store-status.js';
import { openStore } from '../src/storage/open-store.js';
import { StoreUnavailableError, type Store } from '../src/storage/ports.js';
import { BACKEND, createTestDatabase, POSTGRES_ADMIN_URL as PG_ADMIN_URL, REDIS_URL, USES_REDIS, type TestDatabase } from '../src/testing/test-database.js';
import { call, ev } from '../src/testing/http.js';

interface LoggedServer {
  url: string;
  key: string;
  db: TestDatabase;
  store: Store;
  server: BuiltServer;
  lines: () => { level: number; msg: string }[];
  close(): Promise<void>;
}

/** An in-process server whose log lines are kept for assertions. */
async function startLogged(env: Record<string, string> = {}): Promise<LoggedServer> {
  const db = await createTestDatabase();
  const config = loadConfig({ LOG_LEVEL: 'info', DATABASE_URL: db.url, RATE_LIMIT_SINGLE_PER_MIN: '1000000', ...(USES_REDIS ? { REDIS_URL } : {}), ...env });
  const out: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      out.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const log = pino({ level: 'info' }, sink);
  const store = await openStore(config.databaseUrl, { sqliteBusyTimeoutMs: config.sqliteBusyTimeoutMs });
  await store.migrate();
  const { secret } = await mintKey(store, 'default', 'test');
  const server = await composeServer({ config, store, log });
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    key: secret,
    db,
    store,
    server,
    lines: () => out.map((l) => JSON.parse(l) as { level: number; msg: string }),
    async close() {
      await server.close();
      await store.close();
      await db.drop();
    },
  };
}

const count = (lines: { msg: string }[], re: RegExp) => lines.filter((l) => re.test(l.msg)).length;

describe('StoreStatus', () => {
  it('summarises an ongoing outage at most once per interval', () => {
    let now = 0;
    const lines: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(JSON.parse(c.toString()).msg), cb()) }));
    const st = new StoreStatus(log, { clock: () => now, summaryEveryMs: 10_000 });
    const err = new StoreUnavailableError('store unavailable (ECONNREFUSED)');
    for (let i = 0; i < 1000; i++) {
      now = i * 25; // 1,000 failures over 25 s
      st.answered503(err);
    }
    st.appendSucceeded();
    expect(lines[0]).toBe('store unavailable: store unavailable (ECONNREFUSED)');
    expect(lines.filter((l) => l.includes('requests answered 503 during the outage (')).length).toBe(2);
    expect(lines[lines.length - 1]).toMatch(/^store available again after 25 s; 1000 requests answered 503 during the outage$/);
    expect(lines).toHaveLength(4);
  });
});

describe.skipIf(BACKEND !== 'sqlite')('SQLite outage', () => {
  it('a locked store: one line when it starts, one when it ends, no stack per request', async () => {
    const t = await startLogged({ SQLITE_BUSY_TIMEOUT_MS: '0' });
    try {
      const Database = (await import('better-sqlite3')).default;
      const other = new Database(t.db.url.slice('sqlite:'.length));
      other.exec('BEGIN IMMEDIATE');
      for (let i = 0; i < 30; i++) expect((await call(`${t.url}/v1/events`, { key: t.key, body: ev({ messageId: `lock-${i}` }) })).status).toBe(503);
      other.exec('ROLLBACK');
      other.close();
      expect((await call(`${t.url}/v1/events`, { key: t.key, body: ev({ messageId: 'after-lock' }) })).status).toBe(200);
      const lines = t.lines();
      expect(count(lines, /^store unavailable: store unavailable \(SQLITE_BUSY/)).toBe(1);
      expect(count(lines, /request failed/)).toBe(0);
      expect(count(lines, /^store available again after [\d.]+ s; 30 requests answered 503 during the outage$/)).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('/health is 503 "degraded" while the store refuses writes (file size limit: SQLITE_IOERR_WRITE)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smashsend-fsize-'));
    let child: ChildProcess | null = null;
    try {
      // bash's `ulimit -f` is in 1024-byte blocks: no file of the store may pass 2 MB.
      child = spawn('bash', ['-c', 'ulimit -f 2048 && exec "$0" "$@"', process.execPath, resolve('bin/smashsend.js'), 'serve', '--no-worker'], {
        env: { ...process.env, DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMIT_BATCH_PER_MIN: '100000' } as Record<string, string>,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      const deadline = Date.now() + 20_000;
      while (!/Background worker/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const url = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
      const key = /(sk_live_[A-Za-z0-9_-]{32})/.exec(out)![1]!;
      expect((await call(`${url}/health`)).body).toEqual({ status: 'ok' });

      let refused = null;
      for (let i = 0; i < 200 && !refused; i++) {
        const events = Array.from({ length: 100 }, (_, k) => ev({ messageId: `fill-${i}-${k}`, properties: { pad: 'x'.repeat(900) } }));
        const r = await call(`${url}/v1/events/batch`, { key, body: { events } });
        if (r.status === 503) refused = r;
        else expect(r.status).toBe(200);
      }
      expect(refused?.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      const h = await call(`${url}/health`);
      expect(h.status).toBe(503);
      expect(h.body).toMatchObject({ status: 'degraded', statusCode: 503, code: 'SERVICE_UNAVAILABLE' });
      // Reads still work.
      expect((await call(`${url}/v1/events/fill-0-0`, { key })).status).toBe(200);
    } finally {
      child?.kill('SIGKILL');
      if (child && child.exitCode === null) await new Promise((r) => child!.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(BACKEND !== 'postgres')('PostgreSQL read-only', () => {
  const admin = async (sql: string) => {
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  let t: LoggedServer | null = null;
  afterAll(async () => {
    await t?.close();
  });

  it('appends are 503 (not 500), /health says degraded, the log has one line each way', async () => {
    t = await startLogged();
    const name = new URL(t.db.url).pathname.slice(1);
    const dropSessions = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`;
    expect((await call(`${t.url}/v1/events`, { key: t.key, body: ev({ messageId: 'before' }) })).status).toBe(200);
    await admin(`ALTER DATABASE ${name} SET default_transaction_read_only = on`);
    await admin(dropSessions);

    let statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await call(`${t.url}/v1/events`, { key: t.key, body: ev({ messageId: `ro-${i}` }) })).status);
    expect(new Set(statuses)).toEqual(new Set([503]));
    const h = await call(`${t.url}/health`);
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ status: 'degraded', code: 'SERVICE_UNAVAILABLE' });
    expect((await call(`${t.url}/v1/events/before`, { key: t.key })).status).toBe(200);

    await admin(`ALTER DATABASE ${name} SET default_transaction_read_only = off`);
    await admin(dropSessions);
    statuses = [];
    const deadline = Date.now() + 10_000;
    let ok = 0;
    while (ok === 0 && Date.now() < deadline) {
      const r = await call(`${t.url}/v1/events`, { key: t.key, body: ev({ messageId: `after-${Date.now()}` }) });
      if (r.status === 200) ok++;
    }
    expect(ok).toBe(1);
    expect((await call(`${t.url}/health`)).body).toEqual({ status: 'ok' });
    const lines = t.lines();
    expect(count(lines, /^store unavailable: /)).toBe(1);
    expect(count(lines, /request failed/)).toBe(0);
    expect(count(lines, /^store available again after /)).toBe(1);
  });
});
