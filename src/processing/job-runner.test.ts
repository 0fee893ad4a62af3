import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { SqliteDirectStore } from '../storage/sqlite/sqlite-direct-store.js';
import { tempDirs } from '../testing/temp-dirs.js';
import { HOUSEKEEPING_KIND } from './housekeeping.js';
import { PermanentJobError, type JobKind, type ProcessingObserver } from './job-kind.js';
import type { EventStage } from './stages.js';
import { Worker } from './worker.js';

const tempDir = tempDirs('smashsend-jobs');
const stores: SqliteDirectStore[] = [];

async function openStore() {
  const store = new SqliteDirectStore(join(tempDir(), 'db.sqlite'));
  await store.migrate();
  stores.push(store);
  return store;
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

function recorder() {
  const seen: string[] = [];
  const observer: ProcessingObserver = {
    completed: (kind, n) => seen.push(`completed ${kind} ${n}`),
    attempted: () => {},
    failed: (kind, outcome, n) => seen.push(`${outcome} ${kind} ${n}`),
  };
  return { seen, observer };
}

const config = loadConfig({ DATABASE_URL: 'sqlite:./x.db', PROCESSING_RETRY_BASE_MS: '1000' });
const log = pino({ level: 'silent' });

describe('Worker over the jobs table', () => {
  it('runs a due job once, retries a failing one at its backoff, and kills one that cannot succeed', async () => {
    const store = await openStore();
    const start = Date.UTC(2024, 0, 1);
    let now = start;
    const calls: string[] = [];
    let flaky = 0;
    const kinds: JobKind[] = [
      { kind: 'ok', run: async (job) => void calls.push(`ok ${JSON.stringify(job.payload)}`) },
      {
        kind: 'flaky',
        run: async () => {
          calls.push('flaky');
          if (++flaky < 3) throw new Error(`attempt ${flaky} failed`);
        },
      },
      {
        kind: 'bad',
        run: async () => {
          calls.push('bad');
          throw new PermanentJobError('the input can never work');
        },
      },
    ];
    const { seen, observer } = recorder();
    const w = new Worker({ store, config, log, kinds, observer, clock: () => now, random: () => 0 });
    const [ok, fl, bad] = await store.jobs.enqueue(
      [
        { kind: 'ok', payload: { n: 1 }, runAt: now },
        { kind: 'flaky', payload: null, runAt: now },
        { kind: 'bad', payload: null, runAt: now },
        { kind: 'ok', payload: { n: 2 }, runAt: now + 60_000 },
      ],
      now,
    );
    await w.runOnce();
    expect(calls.sort()).toEqual(['bad', 'flaky', 'ok {"n":1}']);
    expect((await store.jobs.get(ok!.id))!.status).toBe('done');
    expect(await store.jobs.get(bad!.id)).toMatchObject({ status: 'dead', attempts: 1, lastError: 'PermanentJobError: the input can never work' });
    // Equal jitter with random 0: the first retry waits half of the 1 s base.
    expect(await store.jobs.get(fl!.id)).toMatchObject({ status: 'queued', attempts: 1, runAt: now + 500 });

    calls.length = 0;
    now += 499;
    await w.runOnce();
    expect(calls).toEqual([]);
    now += 1;
    await w.runOnce();
    expect(calls).toEqual(['flaky']);
    now += 1000; // second retry: half of 2 s
    await w.runOnce();
    expect(calls).toEqual(['flaky', 'flaky']);
    expect(await store.jobs.get(fl!.id)).toMatchObject({ status: 'done', attempts: 2 });
    expect(seen).toEqual(
      expect.arrayContaining(['completed ok 1', 'failed bad 1', 'retry flaky 1', 'completed flaky 1', `completed ${HOUSEKEEPING_KIND} 1`]),
    );
    // The job scheduled a minute ahead runs then, not before.
    calls.length = 0;
    now = start + 59_999;
    await w.runOnce();
    expect(calls).toEqual([]);
    now = start + 60_000;
    await w.runOnce();
    expect(calls).toEqual(['ok {"n":2}']);
  });

  it('jobs of one claim run concurrently: a slow job does not hold back the others', async () => {
    const store = await openStore();
    const now = Date.now();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const done: string[] = [];
    const kinds: JobKind[] = [
      { kind: 'slow', run: async () => { await gate; done.push('slow'); } },
      { kind: 'fast', run: async () => void done.push('fast') },
    ];
    const w = new Worker({ store, config, log, kinds });
    await store.jobs.enqueue([{ kind: 'slow', payload: null, runAt: now - 2 }, { kind: 'fast', payload: null, runAt: now - 1 }], now);
    const cycle = w.runOnce();
    for (let i = 0; i < 100 && !done.includes('fast'); i++) await new Promise((r) => setTimeout(r, 5));
    expect(done).toEqual(['fast']);
    release();
    await cycle;
    expect(done).toEqual(['fast', 'slow']);
  });

  it('a hanging job holds only its slot: jobs enqueued after it run in the next cycles', async () => {
    const store = await openStore();
    const now = Date.now();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const done: string[] = [];
    const kinds: JobKind[] = [
      { kind: 'hang', run: async () => { await gate; done.push('hang'); } },
      { kind: 'later', run: async (job) => void done.push(`later ${String(job.payload)}`) },
    ];
    const w = new Worker({ store, config: { ...config, worker: { ...config.worker, pollMs: 5 } }, log, kinds });
    await store.jobs.enqueue([{ kind: 'hang', payload: null, runAt: now - 1 }], now);
    w.start();
    try {
      for (let i = 0; i < 200 && (await store.jobs.stats(Date.now())).find((k) => k.kind === 'hang')?.due !== 1; i++) await new Promise((r) => setTimeout(r, 5));
      // The hanging job is claimed and running; new jobs arrive behind it.
      await store.jobs.enqueue([1, 2].map((n) => ({ kind: 'later', payload: n, runAt: Date.now() })), Date.now());
      for (let i = 0; i < 400 && done.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
      expect(done.sort()).toEqual(['later 1', 'later 2']);
    } finally {
      release();
      await w.stop();
    }
    expect(done).toContain('hang');
  });

  it('stages after the merge see each processed event, and a failing stage is retried with the whole job', async () => {
    const store = await openStore();
    const now = Date.now();
    const seen: string[] = [];
    let failures = 1;
    const stages: EventStage[] = [
      { name: 'first', handle: async (events) => void seen.push(...events.map((e) => `first ${e.messageId} ${e.contactId !== null}`)) },
      {
        name: 'second',
        handle: async (events) => {
          if (failures-- > 0) throw new Error('not yet');
          seen.push(...events.map((e) => `second ${e.messageId}`));
        },
      },
    ];
    const item = (messageId: string) => ({ workspaceId: 'ws', messageId, event: 'e', email: 'a@b.co', properties: null, traits: null, timestamp: now });
    const appended = store.events.append([item('m1'), item('m2')], now, 60_000);
    store.events.flush();
    await appended;
    let t = now;
    const w = new Worker({ store, config, log, stages, clock: () => t, random: () => 0 });
    await w.runOnce(); // merge (writes the stage job) and the stage job's first attempt
    await w.runOnce();
    expect(seen.filter((x) => x.startsWith('second'))).toEqual([]);
    t += 60_000; // past the retry backoff
    await w.runOnce();
    expect(seen).toEqual(['first m1 true', 'first m2 true', 'first m1 true', 'first m2 true', 'second m1', 'second m2']);
    t += 60_000;
    await w.runOnce();
    expect(seen).toHaveLength(6);
  });

  it('housekeeping runs once per slot however many workers there are, and purges expired dedup keys', async () => {
    const store = await openStore();
    const t = Date.UTC(2024, 0, 1, 0, 0, 30);
    let now = t;
    const cfg = loadConfig({ DATABASE_URL: 'sqlite:./x.db', DEDUP_WINDOW_SECONDS: '60' });
    await store.events.append([{ workspaceId: 'ws', messageId: 'm1', event: 'e', email: 'a@b.co', properties: null, traits: null, timestamp: t }], t, 60_000);
    store.events.flush();
    const runs: string[] = [];
    const observer: ProcessingObserver = { completed: (k) => k === HOUSEKEEPING_KIND && runs.push('run'), attempted() {}, failed() {} };
    const workers = [1, 2, 3].map(() => new Worker({ store, config: cfg, log, observer, clock: () => now }));
    for (const w of workers) await w.runOnce();
    expect(runs).toHaveLength(1);
    now = t + 61_000; // the next slot, and past the dedup window
    for (const w of workers) await w.runOnce();
    expect(runs).toHaveLength(2);
    // m1's key is gone: the same messageId is a new event again.
    const again = store.events.append([{ workspaceId: 'ws', messageId: 'm1', event: 'e', email: 'a@b.co', properties: null, traits: null, timestamp: now }], now, 60_000);
    store.events.flush();
    expect(await again).toEqual(['accepted']);
  });
});

describe('JobRunner slots', () => {
  it('runs a priority kind while every other slot is held, and gives the others fewer slots while ingest is active', async () => {
    const { JobRunner } = await import('./job-runner.js');
    const store = await openStore();
    const release: (() => void)[] = [];
    let slowRunning = 0;
    let fastRan = 0;
    let busy = false;
    const kinds: JobKind[] = [
      { kind: 'slow', run: () => new Promise<void>((r) => { slowRunning++; release.push(r); }) },
      { kind: 'start', priority: true, run: async () => void fastRan++ },
    ];
    const runner = new JobRunner({ jobs: store.jobs, kinds, workerId: 'w1', log, observer: recorder().observer, batchSize: 100, leaseMs: 60_000, retryBaseMs: 1000, random: () => 0.5, clock: Date.now, concurrency: 2, ingestActive: () => busy });
    const now = Date.now();
    await store.jobs.enqueue(Array.from({ length: 20 }, (_, i) => ({ kind: 'slow', key: `s${i}`, payload: null, runAt: now })), now);
    await runner.runOnce(Date.now());
    expect(slowRunning).toBe(2); // the pool is full
    await store.jobs.enqueue([{ kind: 'start', key: 'p1', payload: null, runAt: now }], now);
    await runner.runOnce(Date.now());
    await new Promise((r) => setImmediate(r));
    expect(fastRan).toBe(1); // not queued behind the slow ones
    expect(slowRunning).toBe(2);
    for (const r of release.splice(0)) r();
    await new Promise((r) => setTimeout(r, 20));
    busy = true; // ingest active: BUSY_CONCURRENCY (8) is more than 2, so still 2
    await runner.runOnce(Date.now());
    expect(slowRunning).toBe(4);
    for (const r of release.splice(0)) r();
    await runner.idle();
  });
});
