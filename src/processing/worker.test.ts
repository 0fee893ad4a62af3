import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { SqliteDirectStore } from '../storage/sqlite/sqlite-direct-store.js';
import { tempDirs } from '../testing/temp-dirs.js';
import type { JobKind } from './job-kind.js';
import { Worker } from './worker.js';

const tempDir = tempDirs('smashsend-worker');

async function backlog(n: number) {
  const path = join(tempDir(), 'db.sqlite');
  const store = new SqliteDirectStore(path);
  await store.migrate();
  const items = Array.from({ length: n }, (_, i) => ({
    workspaceId: 'ws_1',
    messageId: `m${i}`,
    event: 'user.signup',
    email: `u${i % 7}@example.com`,
    properties: null,
    traits: JSON.stringify({ plan: `p${i}` }),
    timestamp: 1_700_000_000_000 + i,
  }));
  const p = store.events.append(items, Date.now(), 86_400_000);
  store.events.flush();
  await p;
  const limits: number[] = [];
  const claim = store.queue.claim.bind(store.queue);
  store.queue.claim = (input) => {
    limits.push(input.limit);
    return claim(input);
  };
  const config = loadConfig({ DATABASE_URL: `sqlite://${path}`, WORKER_BATCH_SIZE: '10' });
  return { store, config, limits };
}

describe('Worker claim size', () => {
  it('doubles the claim (up to 8×) while a backlog lasts and nothing is being appended', async () => {
    const { store, config, limits } = await backlog(200);
    const w = new Worker({ store, config, log: pino({ level: 'silent' }), ingestActive: () => false });
    let done = 0;
    while (done < 200) done += await w.runOnce();
    expect(limits.slice(0, 5)).toEqual([10, 20, 40, 80, 80]);
    await store.close();
  });

  it('keeps WORKER_BATCH_SIZE while appends arrive, so one cycle never holds the writer long', async () => {
    const { store, config, limits } = await backlog(60);
    const w = new Worker({ store, config, log: pino({ level: 'silent' }), ingestActive: () => true });
    let done = 0;
    while (done < 60) done += await w.runOnce();
    expect(limits).toEqual([10, 10, 10, 10, 10, 10]);
    expect(await store.queue.stats(Date.now())).toMatchObject({ depth: 0 });
    await store.close();
  });

  it('running with appends arriving, it rests between full cycles and still drains the backlog', async () => {
    const { store, config, limits } = await backlog(50);
    const starts: number[] = [];
    const claim = store.queue.claim;
    store.queue.claim = (input) => {
      starts.push(performance.now());
      return claim(input);
    };
    const w = new Worker({ store, config: { ...config, worker: { ...config.worker, pollMs: 5 } }, log: pino({ level: 'silent' }), ingestActive: () => true });
    w.start();
    const t0 = Date.now();
    while ((await store.queue.stats(Date.now())).depth > 0 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 5));
    await w.stop();
    expect((await store.queue.stats(Date.now())).depth).toBe(0);
    expect(limits.every((l) => l === 10)).toBe(true);
    expect(starts.length).toBeGreaterThanOrEqual(5);
    await store.close();
  });
});

describe('Worker wake-up', () => {
  it('claims a job enqueued by a finishing job at once, not after WORKER_POLL_MS', async () => {
    const { store, config } = await backlog(0);
    const ran: number[] = [];
    const chain: JobKind = {
      kind: 'test.chain',
      async run(job, ctx) {
        await new Promise((r) => setTimeout(r, 20)); // longer than a cycle: the worker is asleep when it ends
        const n = (job.payload as { n: number }).n;
        ran.push(n);
        if (n < 5) await ctx.enqueue([{ kind: 'test.chain', key: `c${n + 1}`, payload: { n: n + 1 }, runAt: ctx.now }]);
      },
    };
    // A poll of a minute: each link would wait for it if a finished job did not wake the worker.
    const w = new Worker({ store, config: { ...config, worker: { ...config.worker, pollMs: 60_000 } }, log: pino({ level: 'silent' }), kinds: [chain] });
    w.start();
    await new Promise((r) => setTimeout(r, 50)); // the first cycle finds nothing and sleeps
    await store.jobs.enqueue([{ kind: 'test.chain', key: 'c1', payload: { n: 1 }, runAt: Date.now() }], Date.now());
    // The test enqueued behind the worker's back: nudge it once, as a finished job would.
    (w as unknown as { requestWake(): void }).requestWake();
    const t0 = Date.now();
    while (ran.length < 5 && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 10));
    await w.stop();
    expect(ran).toEqual([1, 2, 3, 4, 5]);
    await store.close();
  });
});
