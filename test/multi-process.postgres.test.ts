/**
 * Scale-out: 2 API processes and 2 workers on one PostgreSQL + Redis, as real processes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, createTestDatabase, REDIS_URL, type PostgresTestDatabase } from '../src/testing/test-database.js';
import { call, ev } from './support/http.js';

const BIN = resolve(import.meta.dirname, '..', 'bin', 'smashsend.js');

interface Proc {
  child: ChildProcess;
  out: () => string;
}

function launch(args: string[], env: Record<string, string>, ready: RegExp): Promise<Proc> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`not ready: ${out}`)), 30_000);
    const tick = setInterval(() => {
      if (ready.test(out)) {
        clearTimeout(timer);
        clearInterval(tick);
        res({ child, out: () => out });
      }
    }, 20);
    child.once('exit', (code) => {
      clearTimeout(timer);
      clearInterval(tick);
      rej(new Error(`exited ${code}: ${out}`));
    });
  });
}

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null) return;
  p.child.kill('SIGTERM');
  await new Promise((r) => p.child.once('exit', r));
}

describe.skipIf(BACKEND !== 'postgres')('2 API processes + 2 workers on PostgreSQL + Redis', () => {
  let db: PostgresTestDatabase;
  let env: Record<string, string>;
  const apis: Proc[] = [];
  const workers: Proc[] = [];
  let urls: string[] = [];
  let key = '';

  const mintKey = (workspace: string) => {
    const r = spawnSync(process.execPath, [BIN, 'keys', 'create', '--workspace', workspace], { env: { ...process.env, ...env }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout.trim().split('\n').pop()!;
  };

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    env = { DATABASE_URL: db.url, REDIS_URL, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', WORKER_BATCH_SIZE: '40', WORKER_POLL_MS: '20' };
    spawnSync(process.execPath, [BIN, 'migrate'], { env: { ...process.env, ...env } });
    key = mintKey(`multi-${Date.now()}`);
    for (let i = 0; i < 2; i++) apis.push(await launch(['serve', '--no-worker'], env, /Listening on http:\/\/127\.0\.0\.1:\d+/));
    urls = apis.map((a) => /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(a.out())![1]!);
    for (let i = 0; i < 2; i++) workers.push(await launch(['worker'], env, /worker \S+ running/));
  });

  afterAll(async () => {
    for (const p of [...apis, ...workers]) p.child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    await db?.drop();
  });

  it('shares the limit, accepts a raced messageId once, processes each event exactly once, newest value wins', async () => {
    const base = Date.UTC(2026, 0, 1);
    // 1,100 single calls spread over both API processes: exactly 1,000 pass in the minute.
    const order = Array.from({ length: 1100 }, (_, i) => i).sort(() => Math.random() - 0.5); // event times shuffled
    const results: { i: number; status: number }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < 1100) {
          const i = next++;
          const r = await call(`${urls[i % 2]}/v1/events`, {
            key,
            body: ev({ messageId: `mp-${i}`, identify: { email: 'multi@example.com', traits: { [`p${i % 5}`]: i } }, timestamp: base + order[i]! * 1000 }),
          });
          results.push({ i, status: r.status });
        }
      }),
    );
    const accepted = results.filter((r) => r.status === 200).map((r) => r.i);
    expect(accepted).toHaveLength(1000);
    expect(results.filter((r) => r.status === 429)).toHaveLength(100);

    // The same messageId sent to both processes at once is accepted once.
    const raceKey = mintKey(`race-${Date.now()}`);
    let raced = 0;
    for (let k = 0; k < 40; k++) {
      const [a, b] = await Promise.all(urls.map((u) => call(`${u}/v1/events`, { key: raceKey, body: ev({ messageId: `race-${k}`, identify: { email: `race${k}@example.com` } }) })));
      expect([a!.status, b!.status]).toEqual([200, 200]);
      expect([a!.body.duplicate, b!.body.duplicate].filter((d) => d === true)).toHaveLength(1);
      raced++;
    }

    // Wait for the workers to drain the queue.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const m = await call(`${urls[0]}/metrics`);
      if (/smashsend_queue_depth 0\b/.test(m.text)) break;
      if (Date.now() > deadline) throw new Error(`queue did not drain: ${/smashsend_queue_depth \d+/.exec(m.text)}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    // Newest event time wins for every property, whichever worker applied what.
    const contact = (await call(`${urls[1]}/v1/contacts/search?email=multi@example.com`, { key })).body.contact;
    for (let p = 0; p < 5; p++) {
      const mine = accepted.filter((i) => i % 5 === p);
      const newest = mine.reduce((best, i) => (order[i]! > order[best]! ? i : best), mine[0]!);
      expect(contact.properties[`p${p}`], `p${p}`).toBe(newest);
    }

    // Every event processed exactly once across both workers.
    for (const w of workers) await stop(w);
    const counts = workers.map((w) => Number(/processed (\d+) events/.exec(w.out())?.[1]));
    expect(counts.every((n) => n > 0)).toBe(true);
    expect(counts[0]! + counts[1]!).toBe(1000 + raced);
  });
});
