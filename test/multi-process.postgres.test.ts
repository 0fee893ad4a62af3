/**
 * Scale-out: 2 API processes and 2 workers on one PostgreSQL + Redis, as real processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSmashsend, startSmashsend, type Child } from '../src/testing/server-process.js';
import { BACKEND, createTestDatabase, REDIS_URL, type PostgresTestDatabase } from '../src/testing/test-database.js';
import { eventually } from '../src/testing/eventually.js';
import { call, ev } from '../src/testing/http.js';

describe.skipIf(BACKEND !== 'postgres')('2 API processes + 2 workers on PostgreSQL + Redis', () => {
  let db: PostgresTestDatabase;
  let env: Record<string, string>;
  const apis: Child[] = [];
  const workers: Child[] = [];
  const launch = (args: string[], ready: RegExp) => startSmashsend(args, { env: { ...process.env, ...env }, ready });
  let urls: string[] = [];
  let key = '';

  const mintKey = (workspace: string) => {
    const r = runSmashsend(['keys', 'create', '--workspace', workspace], { env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout.trim().split('\n').pop()!;
  };

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    env = { DATABASE_URL: db.url, REDIS_URL, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', WORKER_BATCH_SIZE: '40', WORKER_POLL_MS: '20', WORKER_PORT: '0' };
    runSmashsend(['migrate'], { env: { ...process.env, ...env } });
    key = mintKey(`multi-${Date.now()}`);
    for (let i = 0; i < 2; i++) apis.push(await launch(['serve', '--no-worker'], /Listening on http:\/\/127\.0\.0\.1:\d+/));
    urls = apis.map((a) => /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(a.output())![1]!);
    // Two workers on one host: each takes a free port for its /health and /metrics.
    for (let i = 0; i < 2; i++) workers.push(await launch(['worker'], /worker \S+ running \(health: http:\/\/127\.0\.0\.1:\d+/));
  });

  afterAll(async () => {
    await Promise.all([...apis, ...workers].map((p) => p.kill9()));
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
    await eventually(
      async () => {
        const m = await call(`${urls[0]}/metrics`);
        if (!/smashsend_queue_depth 0\b/.test(m.text)) throw new Error(`queue did not drain: ${/smashsend_queue_depth \d+/.exec(m.text)}`);
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );

    // The event catalogue counts every accepted event once, whichever worker's stage counted it.
    await eventually(
      async () => {
        const counts = await Promise.all([key, raceKey].map(async (k) => (await call(`${urls[0]}/v1/catalog/events`, { key: k })).body.events.map((e: { name: string; count: number }) => [e.name, e.count])));
        expect(counts).toEqual([[['user.signup', 1000]], [['user.signup', raced]]]);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );

    // Newest event time wins for every property, whichever worker applied what.
    const contact = (await call(`${urls[1]}/v1/contacts/search?email=multi@example.com`, { key })).body.contact;
    for (let p = 0; p < 5; p++) {
      const mine = accepted.filter((i) => i % 5 === p);
      const newest = mine.reduce((best, i) => (order[i]! > order[best]! ? i : best), mine[0]!);
      expect(contact.properties[`p${p}`], `p${p}`).toBe(newest);
    }

    // Each standalone worker shows its own processing, per job kind, and answers /health.
    const workerUrls = workers.map((w) => /health: (http:\/\/127\.0\.0\.1:\d+)\/health/.exec(w.output())![1]!);
    const fromWorkers = [];
    for (const u of workerUrls) {
      expect((await call(`${u}/health`)).body).toEqual({ status: 'ok' });
      const text = (await call(`${u}/metrics`)).text;
      fromWorkers.push(Number(/smashsend_jobs_completed_total\{kind="contacts\.apply_events"\} (\d+)/.exec(text)?.[1]));
      expect(text).toMatch(/smashsend_jobs_queued\{kind="contacts\.apply_events"\} 0/);
      expect(text).toMatch(/smashsend_jobs_failures_total\{kind="housekeeping",outcome="failed"\} 0/);
    }
    expect(fromWorkers[0]! + fromWorkers[1]!).toBe(1000 + raced);

    // Every event processed exactly once across both workers.
    for (const w of workers) await w.stop();
    const counts = workers.map((w) => Number(/processed (\d+) events/.exec(w.output())?.[1]));
    expect(counts.every((n) => n > 0)).toBe(true);
    expect(counts[0]! + counts[1]!).toBe(1000 + raced);
  });
});
