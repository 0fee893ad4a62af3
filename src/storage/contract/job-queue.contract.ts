/**
 * Contract of the JobQueue port (processing/job-queue.port.ts), run on every adapter.
 * Times are explicit (T0 and offsets): nothing depends on the real clock.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../ports.js';
import { LEASE, T0, storeFixture, type ContractSuite } from './contract-fixture.js';

export const jobQueueContract: ContractSuite = {
  port: 'src/processing/job-queue.port.ts',
  run(open) {
      describe('job queue', () => {
        let store: Store;
        storeFixture(open, (f) => {
          store = f.store;
        });

        const claim = (workerId: string, now: number, kinds = ['a', 'b'], limit = 100) =>
          store.jobs.claim({ workerId, kinds, limit, now, leaseMs: LEASE });

        it('enqueue is idempotent per (kind, key), whatever the first job became', async () => {
          const [first] = await store.jobs.enqueue([{ kind: 'a', key: 'k1', payload: { n: 1 }, runAt: T0 }], T0);
          expect(first).toEqual({ id: expect.any(Number), created: true });
          const again = await store.jobs.enqueue([{ kind: 'a', key: 'k1', payload: { n: 2 }, runAt: T0 }, { kind: 'b', key: 'k1', payload: null, runAt: T0 }], T0);
          expect(again[0]).toEqual({ id: first!.id, created: false });
          expect(again[1]!.created).toBe(true);
          const [job] = await claim('w1', T0, ['a']);
          expect(job!.payload).toEqual({ n: 1 });
          await store.jobs.complete({ workerId: 'w1', ids: [job!.id], now: T0 });
          expect((await store.jobs.enqueue([{ kind: 'a', key: 'k1', payload: {}, runAt: T0 }], T0))[0]).toEqual({ id: first!.id, created: false });
          // Within one call too: the repeat is not a second job.
          const twice = await store.jobs.enqueue([{ kind: 'a', key: 'k2', payload: 1, runAt: T0 }, { kind: 'a', key: 'k2', payload: 2, runAt: T0 }], T0);
          expect(twice.map((r) => r.created)).toEqual([true, false]);
          expect(twice[1]!.id).toBe(twice[0]!.id);
          // Keyless jobs are always new.
          const keyless = await store.jobs.enqueue([{ kind: 'a', payload: 1, runAt: T0 }, { kind: 'a', payload: 1, runAt: T0 }], T0);
          expect(keyless.map((r) => r.created)).toEqual([true, true]);
          expect(keyless[0]!.id).not.toBe(keyless[1]!.id);
        });

        it('claims only due jobs of the asked kinds, oldest runAt first, up to the limit', async () => {
          await store.jobs.enqueue(
            [
              { kind: 'a', payload: 'late', runAt: T0 + 5000 },
              { kind: 'a', payload: 'second', runAt: T0 - 1000 },
              { kind: 'a', payload: 'first', runAt: T0 - 2000 },
              { kind: 'c', payload: 'other kind', runAt: T0 - 5000 },
              { kind: 'b', payload: 'third', runAt: T0 },
            ],
            T0 - 10_000,
          );
          expect((await claim('w1', T0, ['a', 'b'], 2)).map((j) => j.payload)).toEqual(['first', 'second']);
          expect((await claim('w1', T0)).map((j) => j.payload)).toEqual(['third']);
          expect(await claim('w1', T0)).toEqual([]);
          expect((await claim('w1', T0 + 5000)).map((j) => j.payload)).toEqual(['late']);
          expect(await store.jobs.nextDueAt(['c'])).toBe(T0 - 5000);
        });

        it('a leased job is nobody else\'s until its lease expires; then another worker gets it', async () => {
          const id = (await store.jobs.enqueue([{ kind: 'a', payload: {}, runAt: T0 }], T0))[0]!.id;
          expect((await claim('w1', T0)).map((j) => j.id)).toEqual([id]);
          expect(await claim('w2', T0 + LEASE - 1)).toEqual([]);
          expect(await store.jobs.nextDueAt(['a'])).toBe(T0 + LEASE);
          const [again] = await claim('w2', T0 + LEASE);
          expect(again!.id).toBe(id);
          // The first worker lost the lease: its completion changes nothing.
          await store.jobs.complete({ workerId: 'w1', ids: [id], now: T0 + LEASE + 1 });
          expect((await store.jobs.get(id))!.status).toBe('queued');
          await store.jobs.complete({ workerId: 'w2', ids: [id], now: T0 + LEASE + 2 });
          expect(await store.jobs.get(id)).toMatchObject({ status: 'done', finishedAt: T0 + LEASE + 2 });
          expect(await claim('w3', T0 + 10 * LEASE)).toEqual([]);
        });

        it('fail retries at retryAt with attempts counted, or dead for good; dead jobs are visible and retryable', async () => {
          const id = (await store.jobs.enqueue([{ kind: 'b', key: 'x', payload: [1, 2], runAt: T0, maxAttempts: 2 }], T0))[0]!.id;
          await claim('w1', T0);
          await store.jobs.fail({ workerId: 'w1', id, error: 'boom 1', retryAt: T0 + 500, now: T0 });
          expect(await store.jobs.get(id)).toMatchObject({ status: 'queued', attempts: 1, runAt: T0 + 500, lastError: 'boom 1', maxAttempts: 2 });
          expect(await claim('w1', T0 + 499)).toEqual([]);
          const [j] = await claim('w1', T0 + 500);
          expect(j).toMatchObject({ id, attempts: 1 });
          await store.jobs.fail({ workerId: 'w1', id, error: 'boom 2', retryAt: null, now: T0 + 600 });
          expect(await store.jobs.get(id)).toMatchObject({ status: 'dead', attempts: 2, lastError: 'boom 2', finishedAt: T0 + 600 });
          expect(await claim('w1', T0 + 100_000)).toEqual([]);
          expect((await store.jobs.listDead({ limit: 10 })).map((d) => d.id)).toEqual([id]);
          expect(await store.jobs.listDead({ kind: 'a', limit: 10 })).toEqual([]);
          const stats = await store.jobs.stats(T0 + 700);
          expect(stats).toEqual([{ kind: 'b', queued: 0, due: 0, oldestDueAt: null, dead: 1 }]);
          expect(await store.jobs.retry(id, T0 + 1000)).toBe(true);
          expect(await store.jobs.retry(id, T0 + 1000)).toBe(false);
          expect(await store.jobs.get(id)).toMatchObject({ status: 'queued', attempts: 0, runAt: T0 + 1000 });
          expect((await claim('w2', T0 + 1000)).map((x) => x.id)).toEqual([id]);
        });

        it('stats count queued, due and dead jobs per kind, with the oldest due time', async () => {
          await store.jobs.enqueue(
            [
              { kind: 'a', payload: 1, runAt: T0 - 3000 },
              { kind: 'a', payload: 2, runAt: T0 - 1000 },
              { kind: 'a', payload: 3, runAt: T0 + 60_000 },
              { kind: 'b', payload: 4, runAt: T0 + 1 },
            ],
            T0,
          );
          expect(await store.jobs.stats(T0)).toEqual([
            { kind: 'a', queued: 3, due: 2, oldestDueAt: T0 - 3000, dead: 0 },
            { kind: 'b', queued: 1, due: 0, oldestDueAt: null, dead: 0 },
          ]);
        });

        it('concurrent claims hand every job to exactly one worker', async () => {
          await store.jobs.enqueue(Array.from({ length: 60 }, (_, i) => ({ kind: 'a', payload: i, runAt: T0 })), T0);
          const got = await Promise.all(['w1', 'w2', 'w3', 'w4'].map((w) => claim(w, T0, ['a'], 20)));
          const ids = got.flat().map((j) => j.id);
          expect(new Set(ids).size).toBe(ids.length);
          const rest = await claim('w5', T0, ['a'], 100);
          expect(ids.length + rest.length).toBe(60);
        });

        it('purgeDone deletes done jobs finished at or before the cutoff, and nothing else', async () => {
          const r = await store.jobs.enqueue([{ kind: 'a', payload: 1, runAt: T0 }, { kind: 'a', payload: 2, runAt: T0 }, { kind: 'a', payload: 3, runAt: T0 + 10 }], T0);
          const claimed = await claim('w1', T0);
          await store.jobs.complete({ workerId: 'w1', ids: [claimed[0]!.id], now: T0 + 1 });
          await store.jobs.complete({ workerId: 'w1', ids: [claimed[1]!.id], now: T0 + 5 });
          expect(await store.jobs.purgeDone(T0 + 1)).toBe(1);
          expect(await store.jobs.get(claimed[0]!.id)).toBeNull();
          expect((await store.jobs.get(claimed[1]!.id))!.status).toBe('done');
          expect((await store.jobs.get(r[2]!.id))!.status).toBe('queued');
        });
      });
  },
};
