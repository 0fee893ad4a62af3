/**
 * The real CLI in child processes: first start prints a working key, keys minted and revoked
 * by the CLI while the server runs, kill -9 durability, and graceful SIGTERM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/testing/eventually.js';
import { call, ev } from '../src/testing/http.js';
import { runSmashsend, startServerProcess, startSmashsend, type Child, type ServerProcess } from '../src/testing/server-process.js';

let sp: ServerProcess;

beforeAll(async () => {
  sp = await startServerProcess({ env: { RATE_LIMIT_SINGLE_PER_MIN: '1000000', RATE_LIMIT_BATCH_PER_MIN: '1000000', KEY_REFRESH_MS: '500' } });
});
afterAll(async () => {
  await sp.dispose();
});

/** The first value of `fn` that passes `ok`, polled every 50 ms for at most `ms`. */
function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  return eventually(async () => {
    const v = await fn();
    return ok(v) ? { v } : undefined;
  }, { timeoutMs: ms, intervalMs: 50 }).then((r) => r.v);
}

describe('smashsend serve / keys (child processes)', () => {
  it('first start prints a key that works, and the API URL', async () => {
    expect(sp.stdout()).toMatch(/Listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(sp.stdout()).toMatch(/sk_live_[A-Za-z0-9_-]{32}/);
    const r = await call(`${sp.url}/v1/events`, { key: sp.key, body: ev() });
    expect(r.status).toBe(200);
  });

  it('keys create prints the secret alone on the last line and it works at once; revoke by id or secret within 5 s', async () => {
    const created = sp.cli(['keys', 'create', '--workspace', 'acme', '--name', 'backend']);
    expect(created.status).toBe(0);
    const lines = created.stdout.trim().split('\n');
    const secret = lines[lines.length - 1]!;
    expect(secret).toMatch(/^sk_live_[A-Za-z0-9_-]{32}$/);
    const id = /(key_[0-9a-f]+)/.exec(created.stderr)![1]!;
    expect((await call(`${sp.url}/v1/events`, { key: secret, body: ev({ messageId: 'acme-1' }) })).status).toBe(200);
    const listed = sp.cli(['keys', 'list']);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).not.toContain(secret);

    expect(sp.cli(['keys', 'revoke', id]).status).toBe(0);
    const t0 = Date.now();
    const refused = await until(() => call(`${sp.url}/v1/events`, { key: secret, body: ev() }), (r) => r.status === 401, 5000);
    expect(refused.status).toBe(401);
    expect(Date.now() - t0).toBeLessThan(5000);

    const second = sp.createKey('acme', 'second');
    expect((await call(`${sp.url}/v1/events/acme-1`, { key: second })).status).toBe(200);
    expect(sp.cli(['keys', 'revoke', second]).status).toBe(0);
    expect((await until(() => call(`${sp.url}/v1/events/acme-1`, { key: second }), (r) => r.status === 401, 5000)).status).toBe(401);
    expect(sp.cli(['keys', 'revoke', 'key_doesnotexist']).status).not.toBe(0);
  });

  it('kill -9 right after the responses loses no acknowledged event', async () => {
    const acked: string[] = [];
    let stop = false;
    const senders = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const id = `k9-${w}-${i}`;
        try {
          const r = i % 5 === 0
            ? await call(`${sp.url}/v1/events/batch`, { key: sp.key, body: { events: [ev({ messageId: id }), ev({ messageId: `${id}-b` })] } })
            : await call(`${sp.url}/v1/events`, { key: sp.key, body: ev({ messageId: id }) });
          if (r.status === 200) acked.push(...(i % 5 === 0 ? [id, `${id}-b`] : [id]));
        } catch {
          return; // connection died with the server
        }
      }
    });
    await until(async () => acked.length, (n) => n >= 300, 20_000);
    await sp.kill9();
    stop = true;
    await Promise.all(senders);
    expect(acked.length).toBeGreaterThanOrEqual(300);
    await sp.restart();
    const missing: string[] = [];
    for (const id of acked) {
      const r = await call(`${sp.url}/v1/events/${id}`, { key: sp.key });
      if (r.status !== 200) missing.push(id);
    }
    expect(missing).toEqual([]);
    // Their dedup keys survived too (held in memory when killed, rebuilt from the events at start).
    for (const id of acked.filter((x) => !x.endsWith('-b')).slice(-20)) {
      const r = await call(`${sp.url}/v1/events`, { key: sp.key, body: ev({ messageId: id }) });
      expect(r.status).toBe(200);
      expect(r.body.duplicate).toBe(true);
    }
  });

  it('SIGTERM finishes in-flight requests, exits 0, and the data is there after restart', async () => {
    const inflight = Array.from({ length: 50 }, (_, i) => call(`${sp.url}/v1/events`, { key: sp.key, body: ev({ messageId: `term-${i}` }) }).catch(() => null));
    await new Promise((r) => setTimeout(r, 5));
    const code = await sp.stop();
    expect(code).toBe(0);
    const results = await Promise.all(inflight);
    const ok = results.filter((r) => r?.status === 200).length;
    await sp.restart();
    let stored = 0;
    for (let i = 0; i < 50; i++) if ((await call(`${sp.url}/v1/events/term-${i}`, { key: sp.key })).status === 200) stored++;
    expect(stored).toBeGreaterThanOrEqual(ok);
    // The worker in the restarted process processes what was queued.
    const processed = await until(() => call(`${sp.url}/v1/events/term-0`, { key: sp.key }), (r) => r.body?.event?.status !== 'queued', 10_000);
    if (processed.status === 200) expect(processed.body.event.status).toBe('processed');
  });

  it('refuses a bad configuration with a message naming the variable', async () => {
    const r = sp.cli(['migrate']);
    expect(r.status).toBe(0);
    const bad = runSmashsend(['serve'], { env: { ...process.env, PORT: 'eighty' } });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('PORT');
    const help = runSmashsend(['--help']);
    expect(help.stdout).toMatch(/serve.*worker.*keys create.*keys list.*keys revoke.*migrate/s);
    expect(help.stdout).toContain('DEDUP_WINDOW_SECONDS');
  });

  it('with no DATABASE_URL, serves an embedded store in ./data and prints a working key', async () => {
    const { mkdtempSync, existsSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const cwd = mkdtempSync(join(tmpdir(), 'smashsend-cwd-'));
    const env = { ...process.env, PORT: '0', LOG_LEVEL: 'warn' } as Record<string, string>;
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    let child: Child | undefined;
    try {
      child = await startSmashsend(['serve'], { cwd, env, ready: /Background worker/, readyTimeoutMs: 20_000 });
      const out = child.stdout();
      const url = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
      const key = /(sk_live_[A-Za-z0-9_-]{32})/.exec(out)![1]!;
      expect(existsSync(join(cwd, 'data', 'smashsend.db'))).toBe(true);
      expect((await call(`${url}/v1/events`, { key, body: ev() })).status).toBe(200);
    } finally {
      await child?.stop();
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
