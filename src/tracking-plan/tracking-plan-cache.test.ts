/**
 * The compiled-plan cache on a real SQLite store: a copy is trusted for REFRESH_MS, then one
 * version read decides whether to reload; concurrent requests share that read; invalidate()
 * drops a copy at once; a failed read keeps the stale copy (ingest keeps its plan).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { createTestDatabase, type SqliteTestDatabase } from '../testing/test-database.js';
import { REFRESH_MS, TrackingPlanCache } from './tracking-plan-cache.js';
import type { TrackingPlanStore } from './tracking-plan-store.port.js';
import type { TrackingPlan } from './tracking-plan.js';

let db: SqliteTestDatabase;
let store: SqliteStore;
let t: number;
let reads: string[];
let failing: boolean;
let cache: TrackingPlanCache;
const WS = 'ws_1';
const block = (names: string[]): TrackingPlan => ({ mode: 'block', allowUnplanned: false, events: names.map((name) => ({ name })) });

beforeEach(async () => {
  db = await createTestDatabase('sqlite');
  store = new SqliteStore(db.path);
  await store.migrate();
  t = 1000;
  reads = [];
  failing = false;
  // The real store, its reads seen on the way (and failed on demand).
  const seen: Pick<TrackingPlanStore, 'get' | 'version'> = {
    version: async (ws) => (reads.push('version'), failing ? Promise.reject(new Error('down')) : store.trackingPlans.version(ws)),
    get: async (ws) => (reads.push('get'), store.trackingPlans.get(ws)),
  };
  cache = new TrackingPlanCache(seen, () => t);
});
afterEach(async () => {
  await store.close();
  await db.drop();
});

describe('TrackingPlanCache', () => {
  it('reads once, trusts its copy for REFRESH_MS, then reloads only when the version moved', async () => {
    expect(await cache.current(WS)).toBeNull();
    expect(reads).toEqual(['version']); // version 0: no plan, nothing else read
    expect(cache.current(WS)).toBeNull(); // fresh: answered synchronously
    await store.trackingPlans.put(WS, block(['a']), 0);
    t += REFRESH_MS - 1;
    expect(cache.current(WS)).toBeNull(); // another process's write is not seen yet
    t += 1;
    const plan = await cache.current(WS);
    expect(plan?.version).toBe(1);
    expect(plan?.check('b', null)?.rule).toBe('unplanned');
    expect(reads).toEqual(['version', 'version', 'get']);
    t += REFRESH_MS;
    expect(await cache.current(WS)).toBe(plan); // same version: the same compiled copy
    expect(reads).toEqual(['version', 'version', 'get', 'version']);
  });

  it('shares one read among concurrent requests; invalidate() makes the next request read', async () => {
    await store.trackingPlans.put(WS, block(['a']), 0);
    const [p1, p2] = await Promise.all([cache.current(WS), cache.current(WS)]);
    expect(p1).toBe(p2);
    expect(reads).toEqual(['version', 'get']);
    await store.trackingPlans.put(WS, block(['b']), 0);
    cache.invalidate(WS);
    const p3 = await cache.current(WS);
    expect(p3?.version).toBe(2);
    expect(p3?.check('a', null)?.rule).toBe('unplanned');
    await store.trackingPlans.delete(WS, 0);
    cache.invalidate(WS);
    expect(await cache.current(WS)).toBeNull();
  });

  it('keeps the stale copy when the version read fails, and fails without one', async () => {
    await store.trackingPlans.put(WS, block(['a']), 0);
    const plan = await cache.current(WS);
    failing = true;
    t += REFRESH_MS;
    expect(await cache.current(WS)).toBe(plan);
    expect(cache.current(WS)).toBe(plan); // trusted for another second
    await expect(cache.current('ws_other')).rejects.toThrow('down');
    failing = false;
    expect(await cache.current('ws_other')).toBeNull(); // a failed first read left nothing behind
  });
});
